package wsock

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func maskFrame(op byte, fin bool, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	n := len(p)
	switch {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	key := []byte{1, 2, 3, 4}
	out = append(out, key...)
	for i, c := range p {
		out = append(out, c^key[i&3])
	}
	return out
}

func TestParseFrame(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 70000)
	for _, tc := range []struct {
		name    string
		in      []byte
		op      byte
		payload []byte
		code    int
		partial bool
	}{
		{"text", maskFrame(OpText, true, []byte("hello")), OpText, []byte("hello"), 0, false},
		{"medium", maskFrame(OpBinary, true, long[:300]), OpBinary, long[:300], 0, false},
		{"long", maskFrame(OpBinary, true, long), OpBinary, long, 0, false},
		{"partial header", []byte{0x81}, 0, nil, 0, true},
		{"partial payload", maskFrame(OpText, true, []byte("hello"))[:8], 0, nil, 0, true},
		{"unmasked", []byte{0x81, 0x01, 'a'}, 0, nil, CloseProtocolError, false},
		{"rsv", []byte{0xC1, 0x81, 1, 2, 3, 4, 'a'}, 0, nil, CloseProtocolError, false},
		{"bad opcode", maskFrame(0x3, true, nil), 0, nil, CloseProtocolError, false},
		{"fragmented ping", maskFrame(OpPing, false, nil), 0, nil, CloseProtocolError, false},
		{"long ping", maskFrame(OpPing, true, long[:126]), 0, nil, CloseProtocolError, false},
		{"too big", maskFrame(OpText, true, long), 0, nil, CloseTooBig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]byte(nil), tc.in...)
			max := 1 << 20
			if tc.code == CloseTooBig {
				max = 1000
			}
			f, n, err := ParseFrame(in, max)
			if tc.code != 0 {
				pe, ok := err.(*ProtocolError)
				if !ok || pe.Code != tc.code {
					t.Fatalf("err = %v, want code %d", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.partial {
				if n != 0 {
					t.Fatalf("partial frame consumed %d bytes", n)
				}
				return
			}
			if n != len(in) || f.Opcode != tc.op || !bytes.Equal(f.Payload, tc.payload) || !f.Fin {
				t.Fatalf("frame = %+v n=%d", f, n)
			}
		})
	}
}

func TestAppendFrameLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		b := AppendFrame(nil, OpText, make([]byte, n))
		if len(b) != FrameSize(n) {
			t.Fatalf("n=%d: len %d, FrameSize %d", n, len(b), FrameSize(n))
		}
	}
}

type echo struct {
	mu     sync.Mutex
	closed []string
	done   chan string
}

func (e *echo) OnMessage(c *Conn, text bool, data []byte) {
	if string(data) == "close me" {
		c.Close("asked to")
		return
	}
	if text {
		c.WriteText(append([]byte("echo:"), data...))
	} else {
		c.WriteBinary(data)
	}
}

func (e *echo) OnClose(c *Conn, reason string) {
	e.mu.Lock()
	e.closed = append(e.closed, reason)
	e.mu.Unlock()
	e.done <- reason
}

// recv waits, bounded, for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
	var zero T
	return zero
}

func newServer(t *testing.T, cfg Config) (*Poller, *echo, string) {
	t.Helper()
	p, err := NewPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &echo{done: make(chan string, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Accept(w, r, h, nil)
	}))
	t.Cleanup(func() { p.Close(); srv.Close() })
	return p, h, "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 22)
	return c
}

func TestEchoPingFragmentsAndClose(t *testing.T) {
	p, h, url := newServer(t, Config{})
	c := dial(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, msg := range []string{"hi", strings.Repeat("é", 40000)} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(got) != "echo:"+msg {
			t.Fatalf("read %v %q %v", typ, got[:min(20, len(got))], err)
		}
	}
	// a fragmented binary message is reassembled
	w, err := c.Writer(ctx, websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("part1-"))
	w.Write([]byte("part2"))
	w.Close()
	typ, got, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || string(got) != "part1-part2" {
		t.Fatalf("fragmented: %v %q %v", typ, got, err)
	}
	// ping needs a concurrent reader in coder/websocket
	go c.Read(ctx)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if p.Len() != 1 {
		t.Fatalf("Len = %d", p.Len())
	}
	c.Close(websocket.StatusNormalClosure, "bye")
	select {
	case r := <-h.done:
		if !strings.Contains(r, "bye") {
			t.Fatalf("close reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
	}
	if p.Len() != 0 {
		t.Fatalf("Len after close = %d", p.Len())
	}
}

func TestServerCloseAndProtocolError(t *testing.T) {
	_, h, url := newServer(t, Config{})
	c := dial(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Write(ctx, websocket.MessageText, []byte("close me"))
	_, _, err := c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("read after server close: %v", err)
	}
	if r := recv(t, h.done, "OnClose"); r != "asked to" {
		t.Fatalf("reason %q", r)
	}
	// invalid UTF-8 in a text message: 1007
	c2 := dial(t, url)
	c2.Write(ctx, websocket.MessageText, []byte{0xff, 0xfe})
	_, _, err = c2.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("invalid utf-8: %v", err)
	}
	recv(t, h.done, "OnClose")
}

func TestSlowConsumerClosedAndCounted(t *testing.T) {
	var overflows atomic.Int32
	p, err := NewPoller(Config{MaxQueued: 64 << 10, Overflow: func() { overflows.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := &echo{done: make(chan string, 4)}
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := p.Accept(w, r, h, nil)
		if err == nil {
			conns <- c
		}
	}))
	defer srv.Close()
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	defer c.CloseNow()
	sc := recv(t, conns, "accepted connection")
	msg := bytes.Repeat([]byte("z"), 8<<10)
	start := time.Now()
	var werr error
	for i := 0; i < 100000 && werr == nil; i++ { // the client never reads
		werr = sc.WriteBinary(msg)
	}
	if werr != ErrClosed {
		t.Fatalf("writes never failed: %v", werr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("writes blocked for %v", d)
	}
	if r := recv(t, h.done, "OnClose"); !strings.Contains(r, "slow consumer") {
		t.Fatalf("reason %q", r)
	}
	if overflows.Load() != 1 {
		t.Fatalf("overflows = %d", overflows.Load())
	}
}

func TestPollerCloseEndsConnections(t *testing.T) {
	before := runtime.NumGoroutine()
	p, err := NewPoller(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := &echo{done: make(chan string, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Accept(w, r, h, nil) }))
	defer srv.Close()
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Write(ctx, websocket.MessageText, []byte("x"))
	c.Read(ctx)
	p.Close()
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("after poller close: %v", err)
	}
	if r := recv(t, h.done, "OnClose"); r != "server shutting down" {
		t.Fatalf("reason %q", r)
	}
	// every goroutine the poller started is gone (the HTTP test server's
	// and the client's may take a moment)
	srv.Close()
	c.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after Close\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestBadHandshake(t *testing.T) {
	_, _, url := newServer(t, Config{})
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
