package socketio

import (
	"bytes"
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

// testHandler is a tiny event layer: "echo" acks and re-emits its args,
// "ask" emits "question" with an ack whose answer comes back as
// "answered", "bye" closes, "flood" emits until the transport refuses.
type testHandler struct {
	closed   chan string
	connects atomic.Int32
}

type testSession struct {
	h *testHandler
	c realtime.Conn
}

func (h *testHandler) Connect(ctx context.Context, c realtime.Conn, q, hdr map[string]string) realtime.Session {
	h.connects.Add(1)
	c.Emit("hello", map[string]string{"name": q["name"], "transport": c.Transport(), "ip": c.RemoteAddr()})
	return &testSession{h: h, c: c}
}

func (s *testSession) Event(ctx context.Context, ev string, args []json.RawMessage, ack realtime.Ack) {
	as := make([]any, len(args))
	for i, a := range args {
		as[i] = a
	}
	switch ev {
	case "echo":
		if ack != nil {
			ack(as...)
		}
		s.c.Emit("echoed", as...)
	case "ask":
		s.c.Emit("question", append(as, realtime.Ack(func(res ...any) { s.c.Emit("answered", res...) }))...)
	case "bye":
		s.c.Close("bye")
	case "flood":
		big := strings.Repeat("x", 4096)
		for i := 0; i < 100000; i++ {
			if s.c.Emit("flood", big) != nil {
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
	ts := httptest.NewServer(s)
	// s.Close first: it releases waiting polls, which ts.Close waits for
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, h, ts.URL + "/socket.io/?EIO=3"
}

// client bounds every test request (a poll waits at most PingInterval).
var client = &http.Client{Timeout: 30 * time.Second}

// waitClosed waits, bounded, for the Handler's Session.Closed.
func waitClosed(t *testing.T, h *testHandler) {
	t.Helper()
	select {
	case <-h.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Session.Closed not called")
	}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func post(t *testing.T, url string, body string) (int, []byte) {
	t.Helper()
	resp, err := client.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func payload(pkts ...string) string {
	var b []byte
	for _, p := range pkts {
		b = AppendPayloadPacket(b, []byte(p))
	}
	return string(b)
}

func decode(t *testing.T, body []byte) []string {
	t.Helper()
	pkts, err := DecodePayload(body)
	if err != nil {
		t.Fatalf("payload %q: %v", body, err)
	}
	var out []string
	for _, p := range pkts {
		out = append(out, string([]byte{p.Type})+string(p.Data))
	}
	return out
}

func handshake(t *testing.T, base string) (sid string, pkts []string) {
	t.Helper()
	code, body := get(t, base+"&transport=polling&name=dev1")
	if code != 200 {
		t.Fatalf("handshake %d %s", code, body)
	}
	pkts = decode(t, body)
	if len(pkts) < 2 || pkts[0][0] != '0' || pkts[1] != "40" {
		t.Fatalf("handshake packets %q", pkts)
	}
	var open struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
		PingTimeout  int      `json:"pingTimeout"`
	}
	if err := json.Unmarshal([]byte(pkts[0][1:]), &open); err != nil || open.SID == "" || open.PingInterval != 25000 || open.PingTimeout != 60000 || len(open.Upgrades) != 1 || open.Upgrades[0] != "websocket" {
		t.Fatalf("open packet %q", pkts[0])
	}
	return open.SID, pkts
}

// pollFor GETs until it has collected n packets.
func pollFor(t *testing.T, url string, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		code, body := get(t, url)
		if code != 200 {
			t.Fatalf("poll %d %s", code, body)
		}
		for _, p := range decode(t, body) {
			if p != "6" {
				got = append(got, p)
			}
		}
	}
	return got
}

func TestPollingEventsAcksAndErrors(t *testing.T) {
	_, h, base := newTest(t, Config{})
	sid, pkts := handshake(t, base)
	u := base + "&transport=polling&sid=" + sid
	rest := pkts[2:]
	if len(rest) == 0 {
		rest = pollFor(t, u, 1)
	}
	if !strings.HasPrefix(rest[0], `42["hello",{`) || !strings.Contains(rest[0], `"name":"dev1"`) || !strings.Contains(rest[0], `"transport":"socket.io"`) {
		t.Fatalf("hello = %q", rest)
	}
	// a multi-packet payload with non-BMP characters (UTF-16 lengths), a
	// ping and an event asking for an ack
	if code, body := post(t, u, payload(`42["echo",{"s":"é😀"}]`, "2", `421["echo",1,"two"]`)); code != 200 || string(body) != "ok" {
		t.Fatalf("post %d %s", code, body)
	}
	got := pollFor(t, u, 4)
	want := []string{`42["echoed",{"s":"é😀"}]`, "3", `431[1,"two"]`, `42["echoed",1,"two"]`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q want %q", got, want)
	}
	// server-to-client ack (RPC)
	post(t, u, payload(`42["ask","q?"]`))
	got = pollFor(t, u, 1)
	if got[0] != `420["question","q?"]` {
		t.Fatalf("question = %q", got)
	}
	post(t, u, payload(`430[{"r":1}]`))
	if got = pollFor(t, u, 1); got[0] != `42["answered",{"r":1}]` {
		t.Fatalf("answered = %q", got)
	}
	// garbage Socket.IO packets get an ERROR; the session goes on
	post(t, u, payload(`4{not json`, `42["echo"`, `43[1]`, `40/admin,`, `451-["echo",{"_placeholder":true,"num":0}]`))
	got = pollFor(t, u, 5)
	want = []string{`44"parser error"`, `44"parser error"`, `44"parser error"`, `44/admin,"Invalid namespace"`, `44"binary packets are not supported"`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("errors %q want %q", got, want)
	}
	post(t, u, payload(`42["echo","still here"]`))
	if got = pollFor(t, u, 1); got[0] != `42["echoed","still here"]` {
		t.Fatalf("after garbage = %q", got)
	}
	// a garbage Engine.IO payload: 400 Bad request, and the session ends
	code, body := post(t, u, "12:not a packet")
	if code != 400 || !bytes.Contains(body, []byte(`"code":3`)) {
		t.Fatalf("garbage payload %d %s", code, body)
	}
	waitClosed(t, h)
	if code, body := get(t, u); code != 400 || !bytes.Contains(body, []byte(`"code":1`)) {
		t.Fatalf("after close %d %s", code, body)
	}
}

func TestHandshakeErrors(t *testing.T) {
	_, _, base := newTest(t, Config{})
	root := strings.TrimSuffix(base, "?EIO=3")
	for _, c := range []struct {
		url  string
		code string
	}{
		{root + "?EIO=4&transport=polling", `"code":5`},
		{root + "?transport=polling", `"code":5`},
		{base + "&transport=flashsocket", `"code":0`},
		{base + "&transport=polling&sid=nope", `"code":1`},
		{base + "&transport=polling&j=0", `"code":3`},
	} {
		code, body := get(t, c.url)
		if code != 400 || !bytes.Contains(body, []byte(c.code)) {
			t.Errorf("%s: %d %s", c.url, code, body)
		}
	}
	if code, body := post(t, base+"&transport=polling", "1:2"); code != 400 || !bytes.Contains(body, []byte(`"code":2`)) {
		t.Errorf("POST handshake: %d %s", code, body)
	}
}

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") }

func wsRead(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("ws read: %v", err)
	}
	return string(b)
}

func wsWrite(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketDirect(t *testing.T) {
	s, h, base := newTest(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(base)+"&transport=websocket&name=ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if open := wsRead(t, c); !strings.HasPrefix(open, `0{"pingInterval":25000,"pingTimeout":60000,"sid":"`) || !strings.Contains(open, `"upgrades":[]`) {
		t.Fatalf("open = %q", open)
	}
	if p := wsRead(t, c); p != "40" {
		t.Fatalf("connect = %q", p)
	}
	if p := wsRead(t, c); !strings.Contains(p, `"name":"ws1"`) {
		t.Fatalf("hello = %q", p)
	}
	wsWrite(t, c, "2")
	if p := wsRead(t, c); p != "3" {
		t.Fatalf("pong = %q", p)
	}
	wsWrite(t, c, `427["echo","x"]`)
	if a, b := wsRead(t, c), wsRead(t, c); a != `437["x"]` || b != `42["echoed","x"]` {
		t.Fatalf("ack/echo = %q %q", a, b)
	}
	wsWrite(t, c, `4garbage`)
	if p := wsRead(t, c); p != `44"parser error"` {
		t.Fatalf("garbage = %q", p)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d", s.Len())
	}
	wsWrite(t, c, `42["bye"]`)
	if p := wsRead(t, c); p != "41" {
		t.Fatalf("disconnect = %q", p)
	}
	waitClosed(t, h)
	// an unparsable Engine.IO packet ends the transport (1002)
	c2, _, err := websocket.Dial(ctx, wsURL(base)+"&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	wsRead(t, c2)
	wsWrite(t, c2, "9nine")
	for {
		ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _, err := c2.Read(ctx2)
		cancel()
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusProtocolError {
				t.Fatalf("garbage eio: %v", err)
			}
			break
		}
	}
	waitClosed(t, h)
}

func TestUpgradeFromPolling(t *testing.T) {
	_, h, base := newTest(t, Config{})
	sid, pkts := handshake(t, base)
	u := base + "&transport=polling&sid=" + sid
	if len(pkts) < 3 {
		pollFor(t, u, 1)
	}
	// a poll waits while the probe arrives; it must be released
	polled := make(chan []byte, 1)
	go func() {
		resp, err := client.Get(u)
		if err != nil {
			polled <- nil
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		polled <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(base)+"&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wsWrite(t, c, "2probe")
	if p := wsRead(t, c); p != "3probe" {
		t.Fatalf("probe = %q", p)
	}
	select {
	case b := <-polled:
		if string(b) != "1:6" {
			t.Fatalf("released poll = %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("poll not released by the probe")
	}
	// an event sent by polling before the upgrade packet is answered over
	// the WebSocket once upgraded, in order
	post(t, u, payload(`42["echo","before"]`))
	wsWrite(t, c, "5")
	if p := wsRead(t, c); p != `42["echoed","before"]` {
		t.Fatalf("queued before upgrade = %q", p)
	}
	wsWrite(t, c, `42["echo","after"]`)
	if p := wsRead(t, c); p != `42["echoed","after"]` {
		t.Fatalf("after upgrade = %q", p)
	}
	// polling is over for this session
	if code, _ := get(t, u); code != 400 {
		t.Fatalf("poll after upgrade: %d", code)
	}
	c.Close(websocket.StatusNormalClosure, "")
	waitClosed(t, h)
}

func TestSlowPollingClientClosedAndCounted(t *testing.T) {
	var n atomic.Int32
	_, h, base := newTest(t, Config{MaxQueued: 64 << 10, Overflow: func() { n.Add(1) }})
	sid, _ := handshake(t, base)
	u := base + "&transport=polling&sid=" + sid
	post(t, u, payload(`42["flood"]`)) // never polled: the queue overflows
	waitClosed(t, h)
	if n.Load() != 1 {
		t.Fatalf("overflow count %d", n.Load())
	}
}

func TestPingTimeoutAndServerClose(t *testing.T) {
	s, h, base := newTest(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond, Sweep: 10 * time.Millisecond})
	if code, _ := get(t, base+"&transport=polling"); code != 200 {
		t.Fatal(code)
	}
	waitClosed(t, h) // nobody polls or pings
	if s.Len() != 0 {
		t.Fatalf("Len = %d", s.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(base)+"&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wsRead(t, c) // open
	wsRead(t, c) // 40
	// hello comes from Handler.Connect: the session is connected, so
	// Close owes it a Session.Closed
	if p := wsRead(t, c); !strings.Contains(p, `"hello"`) {
		t.Fatalf("hello = %q", p)
	}
	s.Close()
	waitClosed(t, h)
}

// A server closed while a WebSocket session is still opening (the open
// packet is out, Handler.Connect may not have run): every session that
// was connected gets its Closed, none is left registered, nothing hangs.
func TestCloseWhileWebSocketOpens(t *testing.T) {
	for i := 0; i < 20; i++ {
		s, h, base := newTest(t, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(ctx, wsURL(base)+"&transport=websocket", nil)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		wsRead(t, c) // open
		s.Close()
		for n := h.connects.Load(); n > 0; n-- {
			waitClosed(t, h)
		}
		if s.Len() != 0 {
			t.Fatalf("round %d: %d sessions left", i, s.Len())
		}
		c.CloseNow()
		cancel()
	}
}
