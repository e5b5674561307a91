package events

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/hub"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/skynet/realtime"
)

// conn is an in-memory realtime.Conn: it records every emitted event.
type conn struct {
	mu     sync.Mutex
	events chan emitted
	tr     string
}

type emitted struct {
	name string
	args []any
}

func newConn(tr string) *conn { return &conn{events: make(chan emitted, 256), tr: tr} }

func (c *conn) Emit(event string, args ...any) error {
	// round-trip through JSON as a transport would
	var out []any
	for _, a := range args {
		if ack, ok := a.(realtime.Ack); ok {
			out = append(out, ack)
			continue
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		var v any
		json.Unmarshal(b, &v)
		out = append(out, v)
	}
	c.events <- emitted{event, out}
	return nil
}
func (c *conn) Close(string)       {}
func (c *conn) RemoteAddr() string { return "127.0.0.1" }
func (c *conn) Transport() string  { return c.tr }
func (c *conn) next(t *testing.T) emitted {
	t.Helper()
	select {
	case e := <-c.events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event emitted")
	}
	return emitted{}
}

func (c *conn) expect(t *testing.T, name string) map[string]any {
	t.Helper()
	e := c.next(t)
	if e.name != name {
		t.Fatalf("got event %q %v, want %q", e.name, e.args, name)
	}
	m, _ := e.args[0].(map[string]any)
	return m
}

func (c *conn) none(t *testing.T) {
	t.Helper()
	select {
	case e := <-c.events:
		t.Fatalf("unexpected event %q %v", e.name, e.args)
	case <-time.After(50 * time.Millisecond):
	}
}

type env struct {
	h   *Handler
	hub *hub.Hub
	reg *device.Registry
}

func newEnv(t *testing.T, rate float64) *env { return newEnvTB(t, rate) }

func newEnvF(f *testing.F) *env { return newEnvTB(f, 0) }

func newEnvTB(t testing.TB, rate float64) *env {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := device.New(context.Background(), device.Config{Store: st, BcryptCost: 4, AuthCacheSize: 100, OfflineMaxMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	hb := hub.New(hub.Config{Registry: reg, RateLimit: rate})
	return &env{h: New(Config{Hub: hb}), hub: hb, reg: reg}
}

func raw(v any) []json.RawMessage {
	b, _ := json.Marshal(v)
	return []json.RawMessage{b}
}

// call sends event and returns the ack's first argument.
func call(t *testing.T, s realtime.Session, event string, arg any) map[string]any {
	t.Helper()
	got := make(chan any, 1)
	s.Event(context.Background(), event, raw(arg), func(args ...any) {
		var v any
		if len(args) > 0 {
			v = args[0]
		}
		got <- v
	})
	select {
	case v := <-got:
		b, _ := json.Marshal(v)
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no ack", event)
	}
	return nil
}

// connect opens a session and identifies it (auto-registering when uuid is "").
func (e *env) connect(t *testing.T, uuid, token string) (*conn, realtime.Session, string, string) {
	t.Helper()
	c := newConn("socket.io")
	s := e.h.Connect(context.Background(), c, nil, nil)
	if id := c.expect(t, "identify"); id["socketid"] == "" {
		t.Fatal("identify without socketid")
	}
	s.Event(context.Background(), "identity", raw(map[string]any{"uuid": uuid, "token": token}), nil)
	r := c.expect(t, "ready")
	if r["status"] != float64(201) || r["api"] != "connect" {
		t.Fatalf("ready = %v", r)
	}
	t.Cleanup(s.Closed)
	return c, s, r["uuid"].(string), r["token"].(string)
}

func TestIdentityAutoRegisterWhoamiAndBadToken(t *testing.T) {
	e := newEnv(t, 0)
	c, s, uuid, token := e.connect(t, "", "")
	if uuid == "" || token == "" {
		t.Fatal("auto-register gave no credentials")
	}
	who := call(t, s, "whoami", map[string]any{})
	if who["uuid"] != uuid || who["online"] != true || who["token"] != nil {
		t.Fatalf("whoami = %v", who)
	}
	if st := call(t, s, "status", nil); st["skynet"] != "online" {
		t.Fatalf("status = %v", st)
	}
	c.none(t)

	// a second connection with a wrong token gets notReady 401
	c2 := newConn("socket.io")
	s2 := e.h.Connect(context.Background(), c2, nil, nil)
	defer s2.Closed()
	c2.expect(t, "identify")
	s2.Event(context.Background(), "identity", raw(map[string]any{"uuid": uuid, "token": "wrong"}), nil)
	nr := c2.expect(t, "notReady")
	if nr["status"] != float64(401) || nr["uuid"] != uuid {
		t.Fatalf("notReady = %v", nr)
	}
	// unidentified: message refused explicitly
	s2.Event(context.Background(), "message", raw(map[string]any{"devices": uuid, "payload": 1}), nil)
	if me := c2.expect(t, "messageError"); me["code"] != float64(401) {
		t.Fatalf("messageError = %v", me)
	}
	// authenticate answers both ways
	if a := call(t, s2, "authenticate", map[string]any{"uuid": uuid, "token": "nope"}); a["authentication"] != false {
		t.Fatalf("authenticate bad = %v", a)
	}
	if a := call(t, s2, "authenticate", map[string]any{"uuid": uuid, "token": token}); a["authentication"] != true {
		t.Fatalf("authenticate good = %v", a)
	}
	c2.expect(t, "ready")
}

func TestDirectMessageBroadcastAndSubscribe(t *testing.T) {
	e := newEnv(t, 0)
	ca, sa, a, _ := e.connect(t, "", "")
	cb, sb, b, _ := e.connect(t, "", "")
	_ = sb
	// direct message a -> b
	sa.Event(context.Background(), "message", raw(map[string]any{"devices": b, "payload": map[string]any{"x": 1}, "token": "secret"}), nil)
	m := cb.expect(t, "message")
	if m["fromUuid"] != a || m["devices"] != b || m["token"] != nil {
		t.Fatalf("message = %v", m)
	}
	// broadcast reaches only subscribers of a's broadcasts
	sa.Event(context.Background(), "message", raw(map[string]any{"devices": "*", "payload": "hi"}), nil)
	cb.none(t)
	if r := call(t, sb, "subscribe", map[string]any{"uuid": a}); r["result"] != true {
		t.Fatalf("subscribe = %v", r)
	}
	sa.Event(context.Background(), "message", raw(map[string]any{"devices": "*", "payload": "hi"}), nil)
	if m := cb.expect(t, "message"); m["payload"] != "hi" || m["fromUuid"] != a {
		t.Fatalf("broadcast = %v", m)
	}
	call(t, sb, "unsubscribe", map[string]any{"uuid": a})
	sa.Event(context.Background(), "message", raw(map[string]any{"devices": "*", "payload": "again"}), nil)
	cb.none(t)
	// types: received needs the token; broadcast alone is open
	if r := call(t, sb, "subscribe", map[string]any{"uuid": a, "types": []string{"received"}}); r["result"] != false {
		t.Fatalf("received without token = %v", r)
	}
	if r := call(t, sb, "subscribe", map[string]any{"uuid": a, "types": []string{"sent"}}); r["result"] != false {
		t.Fatalf("sent = %v", r)
	}
	if r := call(t, sb, "subscribe", map[string]any{"uuid": a, "types": []string{"broadcast"}}); r["result"] != true {
		t.Fatalf("broadcast type = %v", r)
	}
	call(t, sb, "unsubscribe", map[string]any{"uuid": a})
	ca.none(t)
	// unknown target: explicit error through the ack
	if r := call(t, sa, "message", map[string]any{"devices": "no-such-device", "payload": 1}); r["error"] == nil {
		t.Fatalf("unknown target accepted: %v", r)
	}
	// device-status: b subscribes to a, a's second connection closing does not flip; a's last does
	call(t, sb, "subscribe", map[string]any{"uuid": a})
	sa.Closed()
	st := cb.expect(t, "message")
	if st["topic"] != "device-status" || st["fromUuid"] != a {
		t.Fatalf("device-status = %v", st)
	}
	if p, _ := st["payload"].(map[string]any); p["online"] != false {
		t.Fatalf("device-status payload = %v", st)
	}
}

func TestRPCAck(t *testing.T) {
	e := newEnv(t, 0)
	_, sa, _, _ := e.connect(t, "", "")
	cb, _, b, _ := e.connect(t, "", "")
	got := make(chan []any, 1)
	sa.Event(context.Background(), "message", raw(map[string]any{"devices": b, "payload": "ping"}), func(args ...any) { got <- args })
	ev := cb.next(t)
	if ev.name != "message" || len(ev.args) != 2 {
		t.Fatalf("rpc delivery = %+v", ev)
	}
	ev.args[1].(realtime.Ack)(map[string]any{"pong": true})
	select {
	case r := <-got:
		if m, _ := r[0].(map[string]any); m["pong"] != true {
			t.Fatalf("rpc reply = %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("rpc reply not passed back")
	}
}

func TestUpdatePushesConfigAndOfflineQueue(t *testing.T) {
	e := newEnv(t, 0)
	_, sa, a, _ := e.connect(t, "", "")
	// b registers over a's socket, opted into the offline queue
	reg := call(t, sa, "register", map[string]any{"type": "sensor", "offlineQueue": true})
	b, btok := reg["uuid"].(string), reg["token"].(string)
	if b == "" || btok == "" {
		t.Fatalf("register = %v", reg)
	}
	for i := 0; i < 3; i++ {
		if r := call(t, sa, "message", map[string]any{"devices": b, "payload": i}); r != nil && r["error"] != nil {
			t.Fatalf("send to offline: %v", r)
		}
	}
	cb, sb, _, _ := e.connect(t, b, btok)
	for i := 0; i < 3; i++ {
		m := cb.expect(t, "message")
		if m["payload"] != float64(i) || m["fromUuid"] != a {
			t.Fatalf("queued message %d = %v", i, m)
		}
	}
	// update by token from another connection pushes config to b
	u := call(t, sa, "update", map[string]any{"uuid": b, "token": btok, "color": "red"})
	if u["color"] != "red" || u["token"] != nil {
		t.Fatalf("update = %v", u)
	}
	if cfg := cb.expect(t, "config"); cfg["color"] != "red" || cfg["uuid"] != b {
		t.Fatalf("config = %v", cfg)
	}
	// update without token or permission is refused
	if r := call(t, sa, "update", map[string]any{"uuid": b, "color": "blue"}); r["error"] == nil {
		t.Fatalf("update without auth accepted: %v", r)
	}
	// events for b with its token
	if ev := call(t, sb, "events", map[string]any{"uuid": b, "token": btok}); len(ev["events"].([]any)) == 0 {
		t.Fatalf("events = %v", ev)
	}
	if d := call(t, sa, "devices", map[string]any{"type": "sensor"}); len(d["devices"].([]any)) != 1 {
		t.Fatalf("devices = %v", d)
	}
	if r := call(t, sa, "unregister", map[string]any{"uuid": b, "token": btok}); r["uuid"] != b {
		t.Fatalf("unregister = %v", r)
	}
	cb.expect(t, "unregistered")
}

func TestSocketRateLimit(t *testing.T) {
	e := newEnv(t, 0.01) // no refill during the test
	ca, sa, _, _ := e.connect(t, "", "")
	_, _, b, _ := e.connect(t, "", "")
	limited := false
	for i := 0; i < 10 && !limited; i++ {
		sa.Event(context.Background(), "message", raw(map[string]any{"devices": b, "payload": i}), nil)
		select {
		case ev := <-ca.events:
			if ev.name == "ratelimited" {
				limited = true
				if m := ev.args[0].(map[string]any); m["code"] != float64(429) {
					t.Fatalf("ratelimited = %v", m)
				}
			}
		default:
		}
	}
	if !limited {
		t.Fatal("never rate limited")
	}
	if ev := ca.expect(t, "messageError"); ev["code"] != float64(429) {
		t.Fatalf("messageError = %v", ev)
	}
}

// On /ws/v2 (no acks) requests are answered with a frame named after
// them; update takes the client's [query, {"$set": ...}] form; failures
// are ["error", {message, status, frame}]; message is not answered.
func TestWSv2Replies(t *testing.T) {
	e := newEnv(t, 0)
	_, _, peer, peerToken := e.connect(t, "", "")
	c := newConn("ws")
	s := e.h.Connect(context.Background(), c, nil, nil)
	t.Cleanup(s.Closed)
	c.expect(t, "identify")
	s.Event(context.Background(), "identity", raw(map[string]any{}), nil)
	r := c.expect(t, "ready")
	me := r["uuid"].(string)

	s.Event(context.Background(), "whoami", nil, nil)
	if who := c.expect(t, "whoami"); who["uuid"] != me || who["token"] != nil {
		t.Fatalf("whoami = %v", who)
	}
	s.Event(context.Background(), "status", nil, nil)
	if st := c.expect(t, "status"); st["meshblu"] != "online" {
		t.Fatalf("status = %v", st)
	}
	// the client's update(query, params): [query, {"$set": params}]
	s.Event(context.Background(), "update", raw([]any{map[string]any{"uuid": peer, "token": peerToken}, map[string]any{"$set": map[string]any{"color": "red"}}}), nil)
	if u := c.expect(t, "update"); u["uuid"] != peer || u["color"] != "red" {
		t.Fatalf("update = %v", u)
	}
	if d, err := e.reg.Get(context.Background(), peer); err != nil || d["color"] != "red" {
		t.Fatalf("stored after update: %v %v", d, err)
	}
	// the flat SkyNet form still works on /ws/v2
	s.Event(context.Background(), "update", raw(map[string]any{"color": "blue"}), nil)
	if cfg := c.expect(t, "config"); cfg["color"] != "blue" { // its own config push first
		t.Fatalf("config = %v", cfg)
	}
	if u := c.expect(t, "update"); u["uuid"] != me || u["color"] != "blue" {
		t.Fatalf("flat update = %v", u)
	}
	// operators other than $set are refused, naming the request
	s.Event(context.Background(), "update", raw([]any{map[string]any{"uuid": me}, map[string]any{"$push": map[string]any{"x": 1}}}), nil)
	er := c.expect(t, "error")
	if er["status"] != float64(422) {
		t.Fatalf("$push error = %v", er)
	}
	if f, _ := er["frame"].([]any); len(f) != 2 || f[0] != "update" {
		t.Fatalf("$push error frame = %v", er["frame"])
	}
	s.Event(context.Background(), "update", raw([]any{"just one"}), nil)
	if er := c.expect(t, "error"); er["status"] != float64(422) {
		t.Fatalf("bad update error = %v", er)
	}
	// devices and register
	s.Event(context.Background(), "devices", raw(map[string]any{"uuid": peer}), nil)
	if ds := c.expect(t, "devices"); len(ds["devices"].([]any)) != 1 {
		t.Fatalf("devices = %v", ds)
	}
	s.Event(context.Background(), "register", raw(map[string]any{"type": "lamp"}), nil)
	reg := c.expect(t, "register")
	if reg["uuid"] == "" || reg["token"] == "" || reg["type"] != "lamp" {
		t.Fatalf("register = %v", reg)
	}
	// unregister answers once the device is gone
	s.Event(context.Background(), "unregister", raw(map[string]any{"uuid": reg["uuid"], "token": reg["token"]}), nil)
	if un := c.expect(t, "unregister"); un["uuid"] != reg["uuid"] {
		t.Fatalf("unregister = %v", un)
	}
	if _, err := e.reg.Get(context.Background(), reg["uuid"].(string)); err == nil {
		t.Fatal("unregistered device still there")
	}
	s.Event(context.Background(), "unregister", raw(map[string]any{"uuid": reg["uuid"], "token": reg["token"]}), nil)
	if er := c.expect(t, "error"); er["status"] != float64(404) {
		t.Fatalf("second unregister = %v", er)
	}
	// message is no RPC: no answer frame
	s.Event(context.Background(), "message", raw(map[string]any{"devices": peer, "payload": 1}), nil)
	c.none(t)
}
