package sio09

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"skyhub/internal/skynet/realtime"
)

// testHandler: "echo" acks and re-emits, "ask" emits "question" with an
// ack answered as "answered", "bye" closes, "flood" emits until refused.
type testHandler struct{ closed chan string }
type testSession struct {
	h *testHandler
	c realtime.Conn
}

func (h *testHandler) Connect(ctx context.Context, c realtime.Conn, q, hdr map[string]string) realtime.Session {
	c.Emit("identify", map[string]string{"name": q["name"], "transport": c.Transport()})
	return &testSession{h, c}
}

func (s *testSession) Event(ctx context.Context, ev string, args []json.RawMessage, ack realtime.Ack) {
	as := make([]any, len(args))
	for i, a := range args {
		as[i] = a
	}
	switch ev {
	case "echo", "message":
		if ack != nil {
			ack(as...)
		}
		s.c.Emit("echoed", as...)
	case "ask":
		s.c.Emit("question", append(as, realtime.Ack(func(res ...any) { s.c.Emit("answered", res...) }))...)
	case "bye":
		s.c.Close("bye")
	case "flood":
		for i := 0; i < 100000; i++ {
			if s.c.Emit("flood", strings.Repeat("x", 4096)) != nil {
				return
			}
		}
	}
}

func (s *testSession) Closed() { s.h.closed <- "closed" }

func newTest(t *testing.T, cfg Config) (*Server, *testHandler, string) {
	t.Helper()
	h := &testHandler{closed: make(chan string, 16)}
	cfg.Handler = h
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/1/", s)
	ts := httptest.NewServer(mux)
	// s.Close first: it releases waiting polls, which ts.Close waits for
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, h, ts.URL
}

// waitClosed waits, bounded, for the Handler's Session.Closed.
func waitClosed(t *testing.T, h *testHandler) {
	t.Helper()
	select {
	case <-h.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Session.Closed not called")
	}
}

// dialCtx bounds a test's WebSocket dial.
func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func handshake(t *testing.T, base string) string {
	t.Helper()
	code, body := do(t, "GET", base+"/socket.io/1/?t=123&name=dev9", "")
	parts := strings.Split(body, ":")
	if code != 200 || len(parts) != 4 || parts[1] != "60" || parts[2] != "60" || parts[3] != "websocket,xhr-polling" {
		t.Fatalf("handshake %d %q", code, body)
	}
	return parts[0]
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func write(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketFrames(t *testing.T) {
	_, h, base := newTest(t, Config{})
	sid := handshake(t, base)
	c, _, err := websocket.Dial(dialCtx(t), "ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if p := read(t, c); p != "1::" {
		t.Fatalf("connect = %q", p)
	}
	if p := read(t, c); p != `5:::{"name":"identify","args":[{"name":"dev9","transport":"socket.io-0.9"}]}` {
		t.Fatalf("identify = %q", p)
	}
	write(t, c, "2::")
	write(t, c, `5:7+::{"name":"echo","args":[{"a":1},"b"]}`)
	if a, b := read(t, c), read(t, c); a != `6:::7+[{"a":1},"b"]` || b != `5:::{"name":"echoed","args":[{"a":1},"b"]}` {
		t.Fatalf("ack/echo = %q %q", a, b)
	}
	write(t, c, `5:8::{"name":"echo","args":[]}`) // a plain ack (no data)
	if a := read(t, c); a != `6:::8` {
		t.Fatalf("plain ack = %q", a)
	}
	read(t, c)
	write(t, c, `5:::{"name":"ask","args":["q?"]}`)
	if p := read(t, c); p != `5:1+::{"name":"question","args":["q?"]}` {
		t.Fatalf("question = %q", p)
	}
	write(t, c, `6:::1+[{"r":true}]`)
	if p := read(t, c); p != `5:::{"name":"answered","args":[{"r":true}]}` {
		t.Fatalf("answered = %q", p)
	}
	write(t, c, `3:::plain text`)
	if p := read(t, c); p != `5:::{"name":"echoed","args":["plain text"]}` {
		t.Fatalf("message = %q", p)
	}
	// garbage: an error frame, and the session goes on
	for _, g := range []string{"garbage", "9::", `5:::{"args":[]}`, `6:::x+[]`, `4:::{bad`} {
		write(t, c, g)
		if p := read(t, c); p != "7:::" {
			t.Fatalf("garbage %q -> %q", g, p)
		}
	}
	write(t, c, `5:::{"name":"bye","args":[]}`)
	if p := read(t, c); p != "0::" {
		t.Fatalf("disconnect = %q", p)
	}
	waitClosed(t, h)
	// an unknown session: not handshaken
	c2, _, err := websocket.Dial(dialCtx(t), "ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/nope", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := read(t, c2); p != "7:::1+0" {
		t.Fatalf("unknown sid = %q", p)
	}
}

func TestXHRPolling(t *testing.T) {
	_, h, base := newTest(t, Config{})
	sid := handshake(t, base)
	u := base + "/socket.io/1/xhr-polling/" + sid + "?t=1"
	_, body := do(t, "GET", u, "")
	frames, err := DecodePayload([]byte(body))
	if err != nil || len(frames) != 2 || string(frames[0]) != "1::" || !strings.HasPrefix(string(frames[1]), `5:::{"name":"identify"`) {
		t.Fatalf("first poll %q", body)
	}
	// two frames in one POST, with a non-BMP character (UTF-16 lengths)
	in := AppendPayload(nil, [][]byte{[]byte(`5:1+::{"name":"echo","args":["😀é"]}`), []byte("2::")})
	if code, resp := do(t, "POST", u, string(in)); code != 200 || resp != "1" {
		t.Fatalf("post %d %q", code, resp)
	}
	_, body = do(t, "GET", u, "")
	frames, err = DecodePayload([]byte(body))
	if err != nil || len(frames) != 2 || string(frames[0]) != `6:::1+["😀é"]` || string(frames[1]) != `5:::{"name":"echoed","args":["😀é"]}` {
		t.Fatalf("poll %q", body)
	}
	do(t, "POST", u, "0::")
	waitClosed(t, h)
	if _, body := do(t, "GET", u, ""); body != "7:::1+0" {
		t.Fatalf("after disconnect %q", body)
	}
}

func TestSlowPollingAndHeartbeat(t *testing.T) {
	var n atomic.Int32
	_, h, base := newTest(t, Config{MaxQueued: 64 << 10, Overflow: func() { n.Add(1) }, HeartbeatInterval: 20 * time.Millisecond, Sweep: 5 * time.Millisecond})
	sid := handshake(t, base)
	u := base + "/socket.io/1/xhr-polling/" + sid
	do(t, "GET", u, "")
	do(t, "POST", u, `5:::{"name":"flood","args":[]}`)
	waitClosed(t, h)
	if n.Load() != 1 {
		t.Fatalf("overflows %d", n.Load())
	}
	// heartbeats arrive on an idle WebSocket
	sid = handshake(t, base)
	c, _, err := websocket.Dial(dialCtx(t), "ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read(t, c)
	read(t, c)
	if p := read(t, c); p != "2::" {
		t.Fatalf("heartbeat = %q", p)
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	s, h, base := newTest(t, Config{HeartbeatTimeout: 50 * time.Millisecond, CloseTimeout: 50 * time.Millisecond, Sweep: 5 * time.Millisecond})
	hs := func() string {
		_, body := do(t, "GET", base+"/socket.io/1/", "")
		return strings.Split(body, ":")[0]
	}
	hs() // never attached: dropped after the close timeout
	sid := hs()
	c, _, err := websocket.Dial(dialCtx(t), "ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitClosed(t, h) // the client never answers: heartbeat timeout
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Len() != 0 {
		t.Fatalf("sessions left: %d", s.Len())
	}
}
