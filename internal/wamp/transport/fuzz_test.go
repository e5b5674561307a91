package transport

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"skyhub/internal/wamp/codec"
)

// fakeConn reads the fuzz input, then EOF; writes are collected.
type fakeConn struct {
	r   *bytes.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *fakeConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r.Read(p)
}
func (c *fakeConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) CloseWrite() error                { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

var _ io.Writer = (*fakeConn)(nil)

func fuzzServer(t *testing.T) *Server {
	s := New(Config{MaxMessageBytes: 1 << 20}, &echo{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Fatalf("goroutines left after the input ended: %v", err)
		}
	})
	return s
}

func rawFrame(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// FuzzRawSocket feeds arbitrary bytes to the RawSocket handshake and
// framer (with a WAMP echo session behind them): no panic, no hang.
func FuzzRawSocket(f *testing.F) {
	hello, _ := codec.JSON{}.Append(nil, hello())
	callMsg, _ := codec.JSON{}.Append(nil, call(1, "x"))
	f.Add(append([]byte{0x7F, 0xF1, 0, 0}, append(rawFrame(0, hello), rawFrame(0, callMsg)...)...))
	f.Add(append([]byte{0x7F, 0x01, 0, 0}, rawFrame(1, []byte("ping"))...))
	f.Add([]byte{0x7F, 0xF2, 0, 0, 0x08, 0, 0, 0})
	f.Add([]byte{0x7F, 0xF0, 0, 0})
	f.Add([]byte{0x7F, 0xF1, 0, 0, 0x10, 0, 0, 1, 0})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzServer(t)
		c := &fakeConn{r: bytes.NewReader(data)}
		s.rawSocket(c, nil)
	})
}

// FuzzWebSocketFrames feeds arbitrary bytes to the WebSocket frame reader
// after a completed handshake (JSON and batched MessagePack sessions).
func FuzzWebSocketFrames(f *testing.F) {
	mask := func(op byte, fin bool, p []byte) []byte {
		b0 := op
		if fin {
			b0 |= 0x80
		}
		out := []byte{b0, 0x80 | byte(len(p)), 1, 2, 3, 4}
		for i, c := range p {
			out = append(out, c^[]byte{1, 2, 3, 4}[i&3])
		}
		return out
	}
	h := []byte(`[1,"realm1",{"roles":{"caller":{}}}]`)
	f.Add(byte(0), mask(opText, true, h))
	f.Add(byte(0), append(mask(opText, false, h[:4]), mask(opCont, true, h[4:])...))
	f.Add(byte(1), mask(opBinary, true, []byte{0, 0, 0, 2, 0x91, 1}))
	f.Add(byte(0), mask(opPing, true, []byte("x")))
	f.Add(byte(0), mask(opClose, true, []byte{3, 0xE8}))
	f.Add(byte(0), []byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		s := fuzzServer(t)
		sp := codec.Subprotocols()[int(which)%len(codec.Subprotocols())]
		c := &fakeConn{r: bytes.NewReader(data)}
		p := s.newPeer(c, &wsFraming{binary: sp.Codec.Binary(), batched: sp.Batched}, sp, "websocket")
		p.run()
	})
}
