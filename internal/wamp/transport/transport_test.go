package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"skyhub/internal/wamp"
	"skyhub/internal/wamp/codec"
)

// echo is a minimal Acceptor: HELLO gets WELCOME, CALL gets a RESULT with
// the call's arguments, PUBLISH with option "flood": n gets n EVENTs.
type echo struct {
	mu      sync.Mutex
	sendErr []error
}

func (e *echo) Accept(p wamp.Peer) {
	for m := range p.Recv() {
		switch v := m.(type) {
		case *wamp.Hello:
			p.Send(&wamp.Welcome{Session: 1 << 53, Details: wamp.Dict{"roles": wamp.Dict{"dealer": wamp.Dict{}}}})
		case *wamp.Call:
			p.Send(&wamp.Result{Request: v.Request, Details: wamp.Dict{}, Arguments: v.Arguments, ArgumentsKw: v.ArgumentsKw})
		case *wamp.Publish:
			n, _ := v.Options["flood"].(int64)
			ev := &wamp.Event{Subscription: 1, Publication: 2, Details: wamp.Dict{}, Arguments: v.Arguments}
			for i := int64(0); i < n; i++ {
				if err := p.Send(ev); err != nil {
					e.mu.Lock()
					e.sendErr = append(e.sendErr, err)
					e.mu.Unlock()
					break
				}
			}
		case *wamp.Goodbye:
			p.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
			p.Close()
		}
	}
}

func newServer(t *testing.T, cfg Config) (*Server, *echo, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Metrics = reg
	e := &echo{}
	s := New(cfg, e)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, e, reg
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func hello() []any {
	return []any{int64(1), "realm1", map[string]any{"roles": map[string]any{"caller": map[string]any{}}}}
}

func call(id uint64, args ...any) []any {
	return []any{int64(48), id, map[string]any{}, "com.echo", args}
}

// ---- WebSocket through a third-party client (coder/websocket) ----

func TestWebSocketEverySubprotocol(t *testing.T) {
	s, _, reg := newServer(t, Config{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	for _, sp := range codec.Subprotocols() {
		t.Run(sp.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws",
				&websocket.DialOptions{Subprotocols: []string{"wamp.2.ubjson", sp.String()}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			if c.Subprotocol() != sp.String() {
				t.Fatalf("negotiated %q", c.Subprotocol())
			}
			big := bytes.Repeat([]byte{0xAB}, 100<<10) // beyond the pooled read buffer
			msgs := [][]any{hello(), call(1, "x", []byte{0, 1, 2}, int64(1<<53)), call(2, big)}
			var frame []byte
			for _, m := range msgs {
				if !sp.Batched {
					b, err := sp.AppendFrame(nil, m)
					if err != nil {
						t.Fatal(err)
					}
					typ := websocket.MessageText
					if sp.Codec.Binary() {
						typ = websocket.MessageBinary
					}
					if err := c.Write(ctx, typ, b); err != nil {
						t.Fatal(err)
					}
					continue
				}
				frame, err = sp.AppendFrame(frame, m)
				if err != nil {
					t.Fatal(err)
				}
			}
			if sp.Batched {
				if err := c.Write(ctx, websocket.MessageBinary, frame); err != nil {
					t.Fatal(err)
				}
			}
			var got [][]any
			for len(got) < 3 {
				typ, b, err := c.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := sp.Codec.Binary(); (typ == websocket.MessageBinary) != want {
					t.Fatalf("frame type %v for %s", typ, sp)
				}
				err = sp.Split(b, func(m []byte) error {
					l, err := sp.Codec.Decode(m)
					got = append(got, l)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			w, err := wamp.FromList(got[0])
			if err != nil || w.(*wamp.Welcome).Session != 1<<53 {
				t.Fatalf("welcome %v %v", w, err)
			}
			r1, err := wamp.FromList(got[1])
			if err != nil {
				t.Fatal(err)
			}
			if a := r1.(*wamp.Result).Arguments; len(a) != 3 || a[0] != "x" || !bytes.Equal(a[1].([]byte), []byte{0, 1, 2}) {
				t.Fatalf("result args %#v", a)
			}
			r2, _ := wamp.FromList(got[2])
			if a := r2.(*wamp.Result).Arguments; !bytes.Equal(a[0].([]byte), big) {
				t.Fatal("large binary argument did not round-trip")
			}
			c.Close(websocket.StatusNormalClosure, "")
		})
	}
	if n := counterValue(s.m.connections.WithLabelValues("websocket", "wamp.2.cbor.batched")); n != 1 {
		t.Fatalf("connections counted %v", n)
	}
	_ = reg
}

func TestWebSocketRefusesWithoutWAMPSubprotocol(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"),
		&websocket.DialOptions{Subprotocols: []string{"mqtt", "wamp.2.ubjson"}})
	if err == nil {
		t.Fatal("upgrade without a supported subprotocol succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("response %v", resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "wamp.2.json") {
		t.Fatalf("body %q does not name the supported subprotocols", body)
	}
	// A plain GET is told to upgrade.
	r, err := http.Get(hs.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("plain GET: %d", r.StatusCode)
	}
}

// ---- WebSocket edge cases with a hand-rolled client ----

type rawWS struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRawWS(t *testing.T, addr, proto string) *rawWS {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	key := make([]byte, 16)
	rand.Read(key)
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + proto + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != proto {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	return &rawWS{t: t, c: c, br: br}
}

// frame writes one masked client frame.
func (w *rawWS) frame(fin bool, op byte, payload []byte) {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	h := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n <= 0xFFFF:
		h = append(h, 0x80|126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 0x80|127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	mask := [4]byte{1, 2, 3, 4}
	h = append(h, mask[:]...)
	p := append([]byte(nil), payload...)
	for i := range p {
		p[i] ^= mask[i&3]
	}
	if _, err := w.c.Write(append(h, p...)); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next server frame (server frames are never masked).
func (w *rawWS) read() (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(w.br, h[:]); err != nil {
		return
	}
	if h[1]&0x80 != 0 {
		w.t.Fatal("server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		io.ReadFull(w.br, e[:])
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		io.ReadFull(w.br, e[:])
		n = binary.BigEndian.Uint64(e[:])
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(w.br, payload)
	return h[0]&0x80 != 0, h[0] & 0x0F, payload, err
}

// readWAMP returns the next WAMP message, skipping control frames.
func (w *rawWS) readWAMP() []any {
	w.t.Helper()
	for {
		_, op, p, err := w.read()
		if err != nil {
			w.t.Fatal(err)
		}
		if op == opText || op == opBinary {
			l, err := codec.JSON{}.Decode(p)
			if err != nil {
				w.t.Fatal(err)
			}
			return l
		}
	}
}

func wsAddr(t *testing.T, s *Server) string {
	ln := listen(t)
	hs := &http.Server{Handler: s}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

func TestWebSocketFraming(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	addr := wsAddr(t, s)

	t.Run("fragmented message with a ping in the middle", func(t *testing.T) {
		w := dialRawWS(t, addr, "wamp.2.json")
		msg := []byte(`[1,"realm1",{"roles":{"caller":{}}}]`)
		w.frame(false, opText, msg[:5])
		w.frame(true, opPing, []byte("hi"))
		w.frame(false, opCont, msg[5:10])
		w.frame(true, opCont, msg[10:])
		_, op, p, err := w.read()
		if err != nil || op != opPong || string(p) != "hi" {
			t.Fatalf("pong: %d %q %v", op, p, err)
		}
		if l := w.readWAMP(); l[0] != int64(2) {
			t.Fatalf("want WELCOME, got %v", l)
		}
	})
	for _, tc := range []struct {
		name string
		send func(w *rawWS)
		code uint16
	}{
		{"unmasked frame", func(w *rawWS) { w.c.Write([]byte{0x81, 0x02, '[', ']'}) }, 1002},
		{"reserved bit", func(w *rawWS) { w.frame(true, 0x40|opText, []byte("[]")) }, 1002},
		{"unknown opcode", func(w *rawWS) { w.frame(true, 0x3, []byte("[]")) }, 1002},
		{"continuation first", func(w *rawWS) { w.frame(true, opCont, []byte("[]")) }, 1002},
		{"invalid UTF-8 text", func(w *rawWS) { w.frame(true, opText, []byte("[\"\xff\"]")) }, 1007},
		{"oversized control", func(w *rawWS) { w.frame(true, opPing, make([]byte, 126)) }, 1002},
		{"too large", func(w *rawWS) {
			w.c.Write([]byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0x10, 0, 0, 1, 1, 2, 3, 4})
		}, 1009},
		{"client close", func(w *rawWS) { w.frame(true, opClose, []byte{0x03, 0xE8}) }, 1000},
		{"client close with a reserved code", func(w *rawWS) { w.frame(true, opClose, []byte{0x03, 0xED}) }, 1002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dialRawWS(t, addr, "wamp.2.json")
			tc.send(w)
			for {
				_, op, p, err := w.read()
				if err != nil {
					t.Fatalf("no close frame: %v", err)
				}
				if op == opClose {
					if len(p) < 2 || binary.BigEndian.Uint16(p) != tc.code {
						t.Fatalf("close payload %x, want code %d", p, tc.code)
					}
					break
				}
			}
			// Then the server ends the TCP connection.
			if _, err := io.ReadAll(w.br); err != nil && !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("after close: %v", err)
			}
		})
	}
}

func isReset(err error) bool { return strings.Contains(err.Error(), "reset") }

func TestProtocolViolationsAbort(t *testing.T) {
	s, _, reg := newServer(t, Config{})
	addr := wsAddr(t, s)
	for _, tc := range []struct{ name, msg, contains string }{
		{"undecodable", `[1,"realm1",{]`, "invalid JSON"},
		{"unknown type", `[999,1]`, ""},
		{"empty list", `[]`, "empty"},
		{"not a list", `{"a":1}`, "not a list"},
		{"bad shape", `[48,"x",{},"p"]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dialRawWS(t, addr, "wamp.2.json")
			w.frame(true, opText, []byte(tc.msg))
			l := w.readWAMP()
			m, err := wamp.FromList(l)
			if err != nil {
				t.Fatal(err)
			}
			ab, ok := m.(*wamp.Abort)
			if !ok || ab.Reason != wamp.ErrProtocolViolation {
				t.Fatalf("got %v", l)
			}
			if msg, _ := ab.Details["message"].(string); msg == "" || !strings.Contains(msg, tc.contains) {
				t.Fatalf("details %v", ab.Details)
			}
		})
	}
	if n := counterValue(s.m.protocolErrors.WithLabelValues("websocket")); n < 5 {
		t.Fatalf("protocol errors counted %v", n)
	}
	_ = reg
}

// ---- RawSocket ----

func rawDial(t *testing.T, addr string, hs [4]byte) (net.Conn, [4]byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(hs[:]); err != nil {
		t.Fatal(err)
	}
	var r [4]byte
	io.ReadFull(c, r[:])
	return c, r
}

func rawSend(t *testing.T, c net.Conn, typ byte, body []byte) {
	t.Helper()
	h := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	if _, err := c.Write(append(h, body...)); err != nil {
		t.Fatal(err)
	}
}

func rawRead(t *testing.T, c net.Conn) (byte, []byte) {
	t.Helper()
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		t.Fatal(err)
	}
	n := int(h[0]&0x08)<<21 | int(binary.BigEndian.Uint32(h[:])&0xFFFFFF)
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x07, b
}

func TestRawSocketHandshake(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	ln := listen(t)
	go s.ServeRawSocket(ln)
	addr := ln.Addr().String()
	for _, tc := range []struct {
		name string
		hs   [4]byte
		want [4]byte
	}{
		{"json", [4]byte{0x7F, 0xF1, 0, 0}, [4]byte{0x7F, 0xF1, 0, 0}},
		{"msgpack small limit", [4]byte{0x7F, 0x02, 0, 0}, [4]byte{0x7F, 0xF2, 0, 0}},
		{"cbor", [4]byte{0x7F, 0x33, 0, 0}, [4]byte{0x7F, 0xF3, 0, 0}},
		{"serializer 0", [4]byte{0x7F, 0xF0, 0, 0}, [4]byte{0x7F, 0x10, 0, 0}},
		{"ubjson unsupported", [4]byte{0x7F, 0xF4, 0, 0}, [4]byte{0x7F, 0x10, 0, 0}},
		{"serializer 15", [4]byte{0x7F, 0xFF, 0, 0}, [4]byte{0x7F, 0x10, 0, 0}},
		{"reserved bytes", [4]byte{0x7F, 0xF1, 0, 1}, [4]byte{0x7F, 0x30, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := rawDial(t, addr, tc.hs)
			if got != tc.want {
				t.Fatalf("reply %x, want %x", got, tc.want)
			}
		})
	}
	t.Run("not rawsocket", func(t *testing.T) {
		c, got := rawDial(t, addr, [4]byte{'G', 'E', 'T', ' '})
		if got != [4]byte{} {
			t.Fatalf("reply %x to a non-RawSocket client", got)
		}
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection left open")
		}
	})
}

func TestRawSocketSession(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	ln := listen(t)
	go s.ServeRawSocket(ln)
	for _, c := range codec.All() {
		t.Run(c.Name(), func(t *testing.T) {
			conn, r := rawDial(t, ln.Addr().String(), [4]byte{0x7F, 0xF0 | c.RawSocketID(), 0, 0})
			if r[1]&0x0F != c.RawSocketID() {
				t.Fatalf("handshake reply %x", r)
			}
			b, _ := c.Append(nil, hello())
			rawSend(t, conn, rsMessage, b)
			rawSend(t, conn, rsPing, []byte("ping-payload"))
			big := bytes.Repeat([]byte{7}, 200<<10)
			b, _ = c.Append(nil, call(1, big, int64(1<<53)))
			rawSend(t, conn, rsMessage, b)
			// The PONG comes from the reader, the replies from the session:
			// their relative order is not fixed.
			var msgs [][]any
			pong := false
			for range 3 {
				typ, p := rawRead(t, conn)
				switch typ {
				case rsPong:
					if string(p) != "ping-payload" {
						t.Fatalf("PONG payload %q", p)
					}
					pong = true
				case rsMessage:
					l, err := c.Decode(p)
					if err != nil {
						t.Fatal(err)
					}
					msgs = append(msgs, l)
				default:
					t.Fatalf("frame type %d", typ)
				}
			}
			if !pong || len(msgs) != 2 || normalizeInt(msgs[0][0]) != 2 || normalizeInt(msgs[1][0]) != 50 {
				t.Fatalf("want PONG, WELCOME, RESULT; got pong=%v %v", pong, msgs)
			}
			l := msgs[1]
			args := l[3].([]any)
			if !bytes.Equal(args[0].([]byte), big) || normalizeInt(args[1]) != 1<<53 {
				t.Fatal("payload did not round-trip")
			}
		})
	}
	t.Run("frame over the limit", func(t *testing.T) {
		s2, _, _ := newServer(t, Config{MaxMessageBytes: 1 << 16})
		ln2 := listen(t)
		go s2.ServeRawSocket(ln2)
		conn, r := rawDial(t, ln2.Addr().String(), [4]byte{0x7F, 0xF1, 0, 0})
		if r != [4]byte{0x7F, 0x71, 0, 0} { // 2^(9+7) = 64 KiB announced
			t.Fatalf("reply %x", r)
		}
		conn.Write([]byte{0, 0x01, 0, 1}) // 65537 bytes
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("oversized frame did not close the connection")
		}
	})
	t.Run("reserved frame bits", func(t *testing.T) {
		conn, _ := rawDial(t, ln.Addr().String(), [4]byte{0x7F, 0xF1, 0, 0})
		conn.Write([]byte{0x10, 0, 0, 2, '[', ']'})
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("reserved bits did not close the connection")
		}
	})
	t.Run("client limit: oversized RESULT becomes ERROR", func(t *testing.T) {
		conn, _ := rawDial(t, ln.Addr().String(), [4]byte{0x7F, 0x01, 0, 0}) // accepts 512 bytes
		b, _ := codec.JSON{}.Append(nil, hello())
		rawSend(t, conn, rsMessage, b)
		rawRead(t, conn)
		b, _ = codec.JSON{}.Append(nil, call(1, strings.Repeat("x", 600)))
		rawSend(t, conn, rsMessage, b)
		_, p := rawRead(t, conn)
		l, _ := codec.JSON{}.Decode(p)
		m, err := wamp.FromList(l)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := m.(*wamp.Error); !ok || e.Error != wamp.ErrPayloadSizeExceeded || e.Request != 1 {
			t.Fatalf("got %v", l)
		}
		if n := counterValue(s.m.tooLarge.WithLabelValues("RESULT")); n != 1 {
			t.Fatalf("too-large counted %v", n)
		}
	})
}

func normalizeInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	}
	return -1
}

func TestUniversalPort(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	ln := listen(t)
	go s.ServeUniversal(ln, nil)
	addr := ln.Addr().String()
	// RawSocket
	conn, r := rawDial(t, addr, [4]byte{0x7F, 0xF2, 0, 0})
	if r != [4]byte{0x7F, 0xF2, 0, 0} {
		t.Fatalf("rawsocket reply %x", r)
	}
	b, _ := codec.MsgPack{}.Append(nil, hello())
	rawSend(t, conn, rsMessage, b)
	if _, p := rawRead(t, conn); p[1] != 2 {
		t.Fatalf("no WELCOME over RawSocket: %x", p)
	}
	// WebSocket through the third-party client, any path
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/anything", &websocket.DialOptions{Subprotocols: []string{"wamp.2.json"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	jb, _ := codec.JSON{}.Append(nil, hello())
	c.Write(ctx, websocket.MessageText, jb)
	_, p, err := c.Read(ctx)
	if err != nil || !strings.HasPrefix(string(p), "[2,") {
		t.Fatalf("no WELCOME over WebSocket: %s %v", p, err)
	}
}

func TestSlowConsumerIsClosedNotSilentlyDropped(t *testing.T) {
	s, e, reg := newServer(t, Config{OutboundQueueBytes: 64 << 10, WriteTimeout: 10 * time.Second})
	ln := listen(t)
	go s.ServeRawSocket(ln)
	conn, _ := rawDial(t, ln.Addr().String(), [4]byte{0x7F, 0xF1, 0, 0})
	// Shrink the client's receive buffer so the server's writes block.
	conn.(*net.TCPConn).SetReadBuffer(4096)
	b, _ := codec.JSON{}.Append(nil, hello())
	rawSend(t, conn, rsMessage, b)
	rawRead(t, conn)
	pub, _ := codec.JSON{}.Append(nil, []any{int64(16), int64(1), map[string]any{"flood": int64(200000)}, "t", []any{strings.Repeat("e", 1000)}})
	rawSend(t, conn, rsMessage, pub)
	// The router sees ErrOverflow ...
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.mu.Lock()
		n := len(e.sendErr)
		e.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Send never reported the overflow")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	if !errors.Is(e.sendErr[0], ErrOverflow) {
		t.Fatalf("send error %v", e.sendErr[0])
	}
	e.mu.Unlock()
	// ... and the client, reading now, gets events then ABORT with the reason.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	events := 0
	for {
		_, p := rawRead(t, conn)
		l, err := codec.JSON{}.Decode(p)
		if err != nil {
			t.Fatal(err)
		}
		if l[0] == int64(36) {
			events++
			continue
		}
		m, _ := wamp.FromList(l)
		if ab, ok := m.(*wamp.Abort); !ok || ab.Reason != CloseSlowConsumer {
			t.Fatalf("want ABORT slow_consumer, got %v", l)
		}
		break
	}
	if events >= 200000 {
		t.Fatalf("%d events before the abort", events)
	}
	// Nothing follows the ABORT: the connection ends.
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("data after the ABORT")
	}
	if n := counterValue(s.m.overflow.WithLabelValues("rawsocket")); n != 1 {
		t.Fatalf("overflow metric %v", n)
	}
	_ = reg
}

func TestCloseFlushesAndWaits(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	addr := wsAddr(t, s)
	w := dialRawWS(t, addr, "wamp.2.json")
	w.frame(true, opText, []byte(`[1,"realm1",{"roles":{"caller":{}}}]`))
	if l := w.readWAMP(); l[0] != int64(2) {
		t.Fatal(l)
	}
	w.frame(true, opText, []byte(`[6,{},"wamp.close.close_realm"]`))
	l := w.readWAMP()
	if !reflect.DeepEqual(l, []any{int64(6), map[string]any{}, "wamp.close.goodbye_and_out"}) {
		t.Fatalf("goodbye reply %v", l)
	}
	_, op, p, err := w.read()
	if err != nil || op != opClose {
		t.Fatalf("want a close frame after GOODBYE: %d %v", op, err)
	}
	w.frame(true, opClose, p) // complete the closing handshake
	if _, err := io.ReadAll(w.br); err != nil && !isReset(err) {
		t.Fatalf("server did not end the connection: %v", err)
	}
	deadline := time.Now().Add(time.Second) // well under CloseTimeout
	for s.Sessions() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Sessions() != 0 {
		t.Fatal("session not released")
	}
}

func counterValue(c prometheus.Metric) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}

// smallSendBuf accepts TCP connections with a small send buffer, so that
// a server write fills the socket quickly.
type smallSendBuf struct{ net.Listener }

func (l smallSendBuf) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8192)
	}
	return c, err
}

// TestWriteThroughRestKeepsOrder: with every message written through (no
// quiet gap), a write that finds the socket full leaves a rest that the
// writer must send before everything queued behind it; the client, reading
// late, gets every RESULT intact and in order.
func TestWriteThroughRestKeepsOrder(t *testing.T) {
	s, _, _ := newServer(t, Config{OutboundQueueBytes: 64 << 20})
	s.quietGap = 0
	ln := listen(t)
	go s.ServeRawSocket(smallSendBuf{ln})
	conn, _ := rawDial(t, ln.Addr().String(), [4]byte{0x7F, 0xF1, 0, 0})
	conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	b, _ := codec.JSON{}.Append(nil, hello())
	rawSend(t, conn, rsMessage, b)
	rawRead(t, conn)
	const n = 300
	payload := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), 5000+i) }
	for i := 1; i <= n; i++ {
		b, _ := codec.JSON{}.Append(nil, call(uint64(i), payload(i)))
		rawSend(t, conn, rsMessage, b)
	}
	// The echo has answered everything it read; wait until the socket
	// filled up at least once before reading.
	for deadline := time.Now().Add(10 * time.Second); s.thruRests.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no write-through ever left a rest: the socket never filled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 1; i <= n; i++ {
		_, p := rawRead(t, conn)
		l, err := codec.JSON{}.Decode(p)
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		if l[0] != int64(50) || l[1] != int64(i) {
			t.Fatalf("message %d: got type %v request %v", i, l[0], l[1])
		}
		if args := l[3].([]any); len(args) != 1 || args[0] != payload(i) {
			t.Fatalf("result %d: payload damaged", i)
		}
	}
}
