package wsv2

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"skyhub/internal/skynet/realtime"
)

type testHandler struct{ closed chan string }
type testSession struct{ c realtime.Conn }

func (h *testHandler) Connect(ctx context.Context, c realtime.Conn, q, hdr map[string]string) realtime.Session {
	c.Emit("hello", map[string]string{"uuid": q["uuid"], "auth": hdr["X-Meshblu-Uuid"], "transport": c.Transport()})
	return &testSession{c}
}

func (s *testSession) Event(ctx context.Context, ev string, args []json.RawMessage, ack realtime.Ack) {
	if ack != nil {
		s.c.Emit("unexpected-ack")
	}
	as := make([]any, len(args))
	for i, a := range args {
		as[i] = a
	}
	switch ev {
	case "echo":
		s.c.Emit("echoed", as...)
	case "whoami":
		s.c.Emit("whoami", map[string]string{"uuid": "me"}, realtime.Ack(func(...any) {}))
	case "bye":
		s.c.Close("bye")
	}
}

func (s *testSession) Closed() {}

func TestFrames(t *testing.T) {
	s, err := New(Config{Handler: &testHandler{}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer func() { ts.Close(); s.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hdr := map[string][]string{"X-Meshblu-Uuid": {"u1"}}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/ws/v2?uuid=q1", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() string {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(b)
	}
	send := func(s string) { c.Write(ctx, websocket.MessageText, []byte(s)) }
	if p := read(); p != `["hello",{"auth":"u1","transport":"ws","uuid":"q1"}]` {
		t.Fatalf("hello = %q", p)
	}
	send(`["echo",{"a":[1,2]}]`)
	if p := read(); p != `["echoed",{"a":[1,2]}]` {
		t.Fatalf("echo = %q", p)
	}
	send(`["echo"]`) // meshblu-websocket's whoami() sends ["whoami",null]; a bare name works too
	if p := read(); p != `["echoed",null]` {
		t.Fatalf("bare = %q", p)
	}
	send(`["whoami",null]`) // an Ack passed to Emit is dropped
	if p := read(); p != `["whoami",{"uuid":"me"}]` {
		t.Fatalf("whoami = %q", p)
	}
	for _, g := range []string{`not json`, `{"a":1}`, `[]`, `[1,2]`, `[""]`} {
		send(g)
		var fr []json.RawMessage
		p := read()
		if json.Unmarshal([]byte(p), &fr) != nil || len(fr) != 2 || string(fr[0]) != `"error"` || !strings.Contains(string(fr[1]), `"status":400`) || !strings.Contains(string(fr[1]), `"frame":`) {
			t.Fatalf("garbage %q -> %q", g, p)
		}
	}
	send(`["echo","still"]`)
	if p := read(); p != `["echoed","still"]` {
		t.Fatalf("after garbage = %q", p)
	}
	send(`["bye"]`)
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("close: %v", err)
	}
}
