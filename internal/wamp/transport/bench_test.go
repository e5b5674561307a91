package transport_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/wamp/codec"
	"skyhub/internal/wamp/router"
	"skyhub/internal/wamp/transport"
)

// rsClient is a raw RawSocket client with pre-encoded MsgPack frames, so
// that the benchmark's client side costs little and never changes.
type rsClient struct {
	c   net.Conn
	hdr [4]byte
	buf []byte
}

func rsDial(b *testing.B, addr string) *rsClient {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Write([]byte{0x7F, 0xF2, 0, 0}); err != nil {
		b.Fatal(err)
	}
	var hs [4]byte
	if _, err := io.ReadFull(c, hs[:]); err != nil || hs[1]&0x0F != 2 {
		b.Fatalf("handshake: %x %v", hs, err)
	}
	cl := &rsClient{c: c}
	cl.send(b, []any{int64(1), "realm1", map[string]any{"roles": map[string]any{
		"caller": map[string]any{}, "callee": map[string]any{}}}})
	if m := cl.recv(b); m[0] != int64(2) {
		b.Fatalf("no WELCOME: %v", m)
	}
	return cl
}

func (cl *rsClient) frame(b *testing.B, msg []any) []byte {
	body, err := codec.MsgPack{}.Append(nil, msg)
	if err != nil {
		b.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func (cl *rsClient) send(b *testing.B, msg []any) {
	if _, err := cl.c.Write(cl.frame(b, msg)); err != nil {
		b.Fatal(err)
	}
}

// next returns the next message frame's body (valid until the next call).
func (cl *rsClient) next() ([]byte, error) {
	for {
		if _, err := io.ReadFull(cl.c, cl.hdr[:]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint32(cl.hdr[:]) & 0xFFFFFF)
		if cap(cl.buf) < n {
			cl.buf = make([]byte, n)
		}
		cl.buf = cl.buf[:n]
		if _, err := io.ReadFull(cl.c, cl.buf); err != nil {
			return nil, err
		}
		if cl.hdr[0]&7 == 0 {
			return cl.buf, nil
		}
	}
}

func (cl *rsClient) recv(b *testing.B) []any {
	body, err := cl.next()
	if err != nil {
		b.Fatal(err)
	}
	l, err := codec.MsgPack{}.Decode(body)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkRPCRawSocket16 routes CALL → INVOCATION → YIELD → RESULT
// through the real router and RawSocket transport on loopback: 16 callers,
// one callee, 64-byte payload (bench/wamp's S2 in one process). It reports
// the server's socket writes per call (coalescing) besides ns/op.
func BenchmarkRPCRawSocket16(b *testing.B) {
	r, err := router.New(router.Config{Realms: []router.RealmConfig{{Name: "realm1"}}})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := transport.New(transport.Config{Metrics: reg}, r)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.ServeRawSocket(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
		r.Close(ctx)
	}()
	addr := ln.Addr().String()

	callee := rsDial(b, addr)
	callee.send(b, []any{int64(64), int64(1), map[string]any{}, "bench.echo"})
	if m := callee.recv(b); m[0] != int64(65) {
		b.Fatalf("no REGISTERED: %v", m)
	}
	go func() { // YIELD every INVOCATION with its arguments
		var out []byte
		for {
			body, err := callee.next()
			if err != nil {
				return
			}
			l, err := codec.MsgPack{}.Decode(body)
			if err != nil || l[0] != int64(68) {
				continue
			}
			y, _ := codec.MsgPack{}.Append(nil, []any{int64(70), l[1], map[string]any{}, l[4]})
			out = binary.BigEndian.AppendUint32(out[:0], uint32(len(y)))
			out = append(out, y...)
			if _, err := callee.c.Write(out); err != nil {
				return
			}
		}
	}()
	const callers = 16
	cls := make([]*rsClient, callers)
	for i := range cls {
		cls[i] = rsDial(b, addr)
	}
	payload := string(make([]byte, 64))
	writes := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "skyhub_wamp_transport_writes_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return 0
	}
	w0 := writes()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/callers + 1
	for _, cl := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				// Request ids increase by one per session (the default rule).
				f := cl.frame(b, []any{int64(48), int64(i + 1), map[string]any{}, "bench.echo", []any{payload}})
				if _, err := cl.c.Write(f); err != nil {
					b.Error(err)
					return
				}
				body, err := cl.next()
				if err != nil || len(body) == 0 || body[1] != 50 { // fixarray, RESULT
					b.Errorf("no RESULT: %x %v", body, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric((writes()-w0)/float64(per*callers), "writes/call")
	for _, cl := range cls {
		cl.c.Close()
	}
	callee.c.Close()
}
