package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The raw probes of specs/wamp.md 6.2, sent as hand-written JSON frames
// over a real WebSocket to the whole app: each line is what a client
// sends and what the router must answer.
func TestWAMPRawProbes(t *testing.T) {
	a := startWAMP(t)
	url := "ws://" + a.Addr("http") + "/ws"
	hello := `[1,"realm1",{"roles":{"caller":{},"callee":{},"publisher":{},"subscriber":{}}}]`
	type step struct {
		send string
		want func(l []any) bool // nil: expect nothing in reply
		what string             // a send with %d for the request id is asked again
		// (ids 1, 2, ...) until want holds: for state another connection's
		// close changes, which the router need not have seen yet.
	}
	code := func(n float64) func([]any) bool { return func(l []any) bool { return l[0] == n } }
	abort := func(reason string) func([]any) bool {
		return func(l []any) bool { return l[0] == 3.0 && l[2] == reason }
	}
	errorOf := func(typ float64, uri string) func([]any) bool {
		return func(l []any) bool { return l[0] == 8.0 && l[1] == typ && l[4] == uri }
	}
	welcome := step{hello, code(2), "WELCOME"}
	cases := []struct {
		name   string
		steps  []step
		closed bool // the router must close the connection after the last reply
	}{
		{"1 unknown realm", []step{{`[1,"nope",{"roles":{"caller":{}}}]`, abort("wamp.error.no_such_realm"), "ABORT no_such_realm"}}, false},
		{"2 goodbye", []step{welcome, {`[6,{},"wamp.close.close_realm"]`, func(l []any) bool { return l[0] == 6.0 && l[2] == "wamp.close.goodbye_and_out" }, "GOODBYE goodbye_and_out"}}, false},
		{"3 second hello", []step{welcome, {hello, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"4 call before hello", []step{{`[48,1,{},"com.x"]`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"5 unknown type", []step{welcome, {`[999,1]`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"6 request id gap", []step{welcome, {`[48,1,{},"com.x"]`, errorOf(48, "wamp.error.no_such_procedure"), "ERROR"}, {`[48,7,{},"com.x"]`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"7 unknown procedure", []step{welcome, {`[48,1,{},"com.x"]`, errorOf(48, "wamp.error.no_such_procedure"), "ERROR no_such_procedure"}}, false},
		{"8 bad topic uri", []step{welcome, {`[32,1,{},"bad uri#x"]`, errorOf(32, "wamp.error.invalid_uri"), "ERROR invalid_uri"}}, false},
		{"9 unknown unsubscribe", []step{welcome, {`[34,1,12345]`, errorOf(34, "wamp.error.no_such_subscription"), "ERROR no_such_subscription"}}, false},
		{"10 reserved register", []step{welcome, {`[64,1,{},"wamp.session.count"]`, errorOf(64, "wamp.error.invalid_uri"), "ERROR invalid_uri"}}, false},
		{"11 register twice", []step{welcome, {`[64,1,{},"com.p"]`, code(65), "REGISTERED"}, {`[64,2,{},"com.p"]`, errorOf(64, "wamp.error.procedure_already_exists"), "ERROR procedure_already_exists"}}, false},
		{"12 shared mismatch", []step{welcome, {`[64,1,{"invoke":"roundrobin"},"com.s"]`, code(65), "REGISTERED"}, {`[64,2,{"invoke":"random"},"com.s"]`, errorOf(64, "wamp.error.procedure_already_exists"), "ERROR"}}, false},
		// Earlier probes' sessions may still be closing: the count must come down to 1.
		{"13 session count", []step{welcome, {`[48,%d,{},"wamp.session.count"]`, func(l []any) bool { return l[0] == 50.0 && len(l) == 4 && l[3].([]any)[0] == 1.0 }, "RESULT [1]"}}, false},
		{"14 empty message", []step{welcome, {`[]`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"15 not json", []step{welcome, {`{"a":`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"16 yield unknown", []step{welcome, {`[70,5,{}]`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
		{"17 error for call", []step{welcome, {`[8,48,1,{},"com.err"]`, abort("wamp.error.protocol_violation"), "ABORT"}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"wamp.2.json"}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if c.Subprotocol() != "wamp.2.json" {
				t.Fatalf("subprotocol %q", c.Subprotocol())
			}
			for _, s := range tc.steps {
				repeat := strings.Contains(s.send, "%d")
				for id := 1; ; id++ {
					send := s.send
					if repeat {
						send = fmt.Sprintf(s.send, id)
					}
					if err := c.Write(ctx, websocket.MessageText, []byte(send)); err != nil {
						t.Fatal(err)
					}
					_, b, err := c.Read(ctx)
					if err != nil {
						t.Fatalf("after %s: %v", send, err)
					}
					var l []any
					ok := json.Unmarshal(b, &l) == nil && len(l) > 0 && s.want(l)
					if ok {
						break
					}
					if !repeat || id == 100 {
						t.Fatalf("sent %s, got %s, want %s", send, b, s.what)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			if tc.closed {
				rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
				defer rcancel()
				if _, b, err := c.Read(rctx); err == nil {
					t.Fatalf("connection not closed after ABORT; got %s", b)
				} else if websocket.CloseStatus(err) == -1 && rctx.Err() != nil {
					t.Fatal("connection not closed after ABORT (timed out)")
				}
			}
		})
	}
}

// The router's metrics are on the app's /metrics: a protocol violation and
// a session show up.
func TestWAMPMetrics(t *testing.T) {
	a := startWAMP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+a.Addr("http")+"/ws", &websocket.DialOptions{Subprotocols: []string{"wamp.2.json"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte(`[1,"realm1",{"roles":{"caller":{}}}]`))
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(`[48,5,{},"com.x"]`)) // request id gap
	_, _, _ = c.Read(ctx)
	resp, err := http.Get("http://" + a.Addr("http") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"skyhub_wamp_sessions ", `skyhub_wamp_messages_in_total{type="HELLO"} 1`, "skyhub_wamp_protocol_violations_total 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
