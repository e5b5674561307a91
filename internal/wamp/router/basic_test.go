package router

import (
	"context"
	"testing"
	"time"

	"skyhub/internal/wamp"
)

func TestSessionLifecycle(t *testing.T) {
	r := newRouter(t)
	c := join(t, r, "realm1", nil)
	if c.id < 1 || c.id > wamp.MaxID {
		t.Fatalf("session id %d out of range", c.id)
	}
	roles, _ := wamp.OptDict(c.wel.Details, "roles")
	if _, ok := roles["broker"]; !ok {
		t.Fatal("WELCOME lacks broker role")
	}
	if _, ok := roles["dealer"]; !ok {
		t.Fatal("WELCOME lacks dealer role")
	}
	if m, _ := wamp.OptString(c.wel.Details, "authmethod"); m != "anonymous" {
		t.Fatalf("authmethod %q", m)
	}
	// GOODBYE is answered, and the transport may carry a new session.
	c.leave()
	c.send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": fullRoles()}})
	w := expect[*wamp.Welcome](c)
	if w.Session == c.id {
		t.Fatal("second session reused the session id")
	}
	// The new session's request ids start again at 1.
	c.req = 0
	c.subscribe("com.t", nil)
}

func TestRouterGoodbyeIsNotAnswered(t *testing.T) {
	r := newRouter(t)
	c := join(t, r, "realm1", nil)
	admin := join(t, r, "realm1", nil)
	admin.call("wamp.session.kill", c.id)
	g := expect[*wamp.Goodbye](c)
	if g.Reason != wamp.CloseKilled {
		t.Fatalf("reason %s", g.Reason)
	}
	c.send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
	c.quiet() // our reply to the router's GOODBYE is not answered again
	eventually(t, "session count 1", func() bool { return r.SessionCount() == 1 })
}

func TestNoSuchRealmAndAutoRealms(t *testing.T) {
	r := newRouter(t)
	c := connect(t, r)
	c.send(&wamp.Hello{Realm: "nope", Details: wamp.Dict{"roles": fullRoles()}})
	expect[*wamp.Abort](c)

	auto, err := New(Config{AutoRealms: true})
	if err != nil {
		t.Fatal(err)
	}
	defer auto.Close(t.Context())
	join(t, auto, "fresh.realm", nil)
}

func TestProtocolViolations(t *testing.T) {
	hello := &wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": fullRoles()}}
	cases := []struct {
		name  string
		setup bool // join first
		msgs  []wamp.Message
	}{
		{"second HELLO", true, []wamp.Message{hello}},
		{"CALL before HELLO", false, []wamp.Message{&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "a.b"}}},
		{"GOODBYE before WELCOME", false, []wamp.Message{&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal}}},
		{"ERROR before WELCOME", false, []wamp.Message{&wamp.Error{Type: wamp.INVOCATION, Request: 1, Details: wamp.Dict{}, Error: "a.b"}}},
		{"HELLO without roles", false, []wamp.Message{&wamp.Hello{Realm: "realm1", Details: wamp.Dict{}}}},
		{"ERROR for a CALL", true, []wamp.Message{&wamp.Error{Type: wamp.CALL, Request: 1, Details: wamp.Dict{}, Error: "a.b"}}},
		{"ERROR for unknown INVOCATION", true, []wamp.Message{&wamp.Error{Type: wamp.INVOCATION, Request: 5, Details: wamp.Dict{}, Error: "a.b"}}},
		{"YIELD for unknown INVOCATION", true, []wamp.Message{&wamp.Yield{Request: 1, Options: wamp.Dict{}}}},
		{"request id gap", true, []wamp.Message{&wamp.Call{Request: 7, Options: wamp.Dict{}, Procedure: "a.b"}}},
		{"request id not starting at 1", true, []wamp.Message{&wamp.Subscribe{Request: 2, Options: wamp.Dict{}, Topic: "a.b"}}},
		{"request id reused", true, []wamp.Message{
			&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "a.b"},
			&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "a.c"}}},
		{"router message from client: EVENT", true, []wamp.Message{&wamp.Event{Subscription: 1, Publication: 1, Details: wamp.Dict{}}}},
		{"router message from client: WELCOME", true, []wamp.Message{&wamp.Welcome{Session: 1, Details: wamp.Dict{}}}},
		{"AUTHENTICATE after WELCOME", true, []wamp.Message{&wamp.Authenticate{Signature: "x", Extra: wamp.Dict{}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t)
			var c *client
			if tc.setup {
				c = join(t, r, "realm1", nil)
			} else {
				c = connect(t, r)
			}
			for _, m := range tc.msgs {
				c.send(m)
			}
			for {
				m := c.recv()
				if a, ok := m.(*wamp.Abort); ok {
					if a.Reason != wamp.ErrProtocolViolation {
						t.Fatalf("ABORT %s", a.Reason)
					}
					if msg, _ := wamp.OptString(a.Details, "message"); msg == "" {
						t.Error("ABORT without a message")
					}
					break
				}
				if _, ok := m.(*wamp.Subscribed); !ok {
					t.Fatalf("got %s before ABORT", dump(m))
				}
			}
			c.closed()
			eventually(t, "no sessions", func() bool { return r.SessionCount() == 0 })
		})
	}
}

func TestViolationDropsSubscriptionsAndRegistrations(t *testing.T) {
	r := newRouter(t)
	bad := join(t, r, "realm1", nil)
	bad.subscribe("com.t", nil)
	bad.register("com.p", nil)
	bad.send(&wamp.Call{Request: 99, Options: wamp.Dict{}, Procedure: "x.y"})
	bad.abort(wamp.ErrProtocolViolation)
	c := join(t, r, "realm1", nil)
	if e := c.callErr("com.p"); e.Error != wamp.ErrNoSuchProcedure {
		t.Fatalf("registration survived: %s", e.Error)
	}
	if res := c.call("wamp.subscription.lookup", "com.t"); res.Arguments[0] != nil {
		t.Fatalf("subscription survived: %v", res.Arguments)
	}
}

func TestRequestIDModes(t *testing.T) {
	r := newRouter(t, realmWith(t, "inc", map[string]any{"requestIds": "increasing"}), realmWith(t, "any", map[string]any{"requestIds": "any"}))
	c := join(t, r, "inc", nil)
	c.req = 4
	c.subscribe("a.b", nil) // 5: a gap is fine in increasing mode
	c.send(&wamp.Subscribe{Request: 5, Options: wamp.Dict{}, Topic: "a.c"})
	c.abort(wamp.ErrProtocolViolation)

	a := join(t, r, "any", nil)
	a.req = 10
	a.subscribe("a.b", nil)
	a.req = 3
	a.subscribe("a.c", nil)
}

func TestBasicErrors(t *testing.T) {
	r := newRouter(t, realmWith(t, "strict", map[string]any{"strictUri": true}), RealmConfig{Name: "realm1"})
	c := join(t, r, "realm1", nil)
	other := join(t, r, "realm1", nil)

	expectErr := func(c *client, typ wamp.MessageType, uri wamp.URI) {
		t.Helper()
		e := expect[*wamp.Error](c)
		if e.Type != typ || e.Request != c.req || e.Error != uri {
			t.Fatalf("got ERROR %d/%d %s, want %d/%d %s", e.Type, e.Request, e.Error, typ, c.req, uri)
		}
	}
	c.callRaw("com.nothing", nil)
	expectErr(c, wamp.CALL, wamp.ErrNoSuchProcedure)

	c.send(&wamp.Subscribe{Request: c.next(), Options: wamp.Dict{}, Topic: "bad uri#x"})
	expectErr(c, wamp.SUBSCRIBE, wamp.ErrInvalidURI)

	c.send(&wamp.Unsubscribe{Request: c.next(), Subscription: 12345})
	expectErr(c, wamp.UNSUBSCRIBE, wamp.ErrNoSuchSubscription)

	c.send(&wamp.Unregister{Request: c.next(), Registration: 12345})
	expectErr(c, wamp.UNREGISTER, wamp.ErrNoSuchRegistration)

	c.send(&wamp.Register{Request: c.next(), Options: wamp.Dict{}, Procedure: "wamp.session.count"})
	expectErr(c, wamp.REGISTER, wamp.ErrInvalidURI)

	c.register("com.p", nil)
	c.send(&wamp.Register{Request: c.next(), Options: wamp.Dict{}, Procedure: "com.p"})
	expectErr(c, wamp.REGISTER, wamp.ErrProcedureAlreadyExists)
	other.send(&wamp.Register{Request: other.next(), Options: wamp.Dict{}, Procedure: "com.p"})
	expectErr(other, wamp.REGISTER, wamp.ErrProcedureAlreadyExists)

	c.register("com.shared", wamp.Dict{"invoke": "roundrobin"})
	other.send(&wamp.Register{Request: other.next(), Options: wamp.Dict{"invoke": "random"}, Procedure: "com.shared"})
	expectErr(other, wamp.REGISTER, wamp.ErrProcedureAlreadyExists)

	c.send(&wamp.Register{Request: c.next(), Options: wamp.Dict{"invoke": "bogus"}, Procedure: "com.q"})
	expectErr(c, wamp.REGISTER, wamp.ErrInvalidArgument)

	c.send(&wamp.Publish{Request: c.next(), Options: wamp.Dict{"acknowledge": true}, Topic: "com..bad"})
	expectErr(c, wamp.PUBLISH, wamp.ErrInvalidURI)
	// Without acknowledge a failed publication is not answered.
	c.send(&wamp.Publish{Request: c.next(), Options: wamp.Dict{}, Topic: "com..bad"})
	c.quiet()

	if n := num(c.call("wamp.session.count").Arguments[0]); n != 2 {
		t.Fatalf("wamp.session.count = %d", n)
	}

	s := join(t, r, "strict", nil)
	s.send(&wamp.Subscribe{Request: s.next(), Options: wamp.Dict{}, Topic: "com.Example"})
	expectErr(s, wamp.SUBSCRIBE, wamp.ErrInvalidURI)
	s.subscribe("com.example", nil)
	// Loose realm accepts the same URI.
	c.subscribe("com.Example", nil)
}

func TestRPCAndPubSubBasics(t *testing.T) {
	r := newRouter(t)
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", nil)
	regID := callee.register("com.add", nil)
	callee.serve(func(inv *wamp.Invocation) wamp.Message {
		if inv.Registration != regID {
			return &wamp.Error{Type: wamp.INVOCATION, Request: inv.Request, Details: wamp.Dict{}, Error: "com.wrong_registration"}
		}
		if len(inv.Arguments) == 2 {
			return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{num(inv.Arguments[0]) + num(inv.Arguments[1])}}
		}
		return &wamp.Error{Type: wamp.INVOCATION, Request: inv.Request, Details: wamp.Dict{}, Error: "com.error.bad_args", Arguments: wamp.List{"need 2"}}
	})
	for i := range 5 {
		res := caller.call("com.add", int64(i), int64(3))
		if num(res.Arguments[0]) != int64(i+3) {
			t.Fatalf("result %v", res.Arguments)
		}
	}
	e := caller.callErr("com.add", 1)
	if e.Error != "com.error.bad_args" || e.Arguments[0] != "need 2" {
		t.Fatalf("error not forwarded: %s %v", e.Error, e.Arguments)
	}

	sub := join(t, r, "realm1", nil)
	id := sub.subscribe("com.topic", nil)
	if again := sub.subscribe("com.topic", nil); again != id {
		t.Fatalf("second SUBSCRIBE got a new id %d != %d", again, id)
	}
	pub := join(t, r, "realm1", nil)
	pubID := pub.publish("com.topic", nil, "hello")
	ev := expect[*wamp.Event](sub)
	if ev.Subscription != id || ev.Publication != pubID || ev.Arguments[0] != "hello" {
		t.Fatalf("event %s", dump(ev))
	}
	sub.quiet() // delivered once, although subscribed twice
	sub.send(&wamp.Unsubscribe{Request: sub.next(), Subscription: id})
	expect[*wamp.Unsubscribed](sub)
	pub.publish("com.topic", nil, "again")
	sub.quiet()
}

func TestCalleeLeavesMidCall(t *testing.T) {
	r := newRouter(t)
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", nil)
	callee.register("com.slow", nil)
	req := caller.callRaw("com.slow", nil)
	expect[*wamp.Invocation](callee)
	callee.p.Close()
	e := expect[*wamp.Error](caller)
	if e.Request != req || e.Error != wamp.ErrCanceled {
		t.Fatalf("got %s", dump(e))
	}
}

func TestCallerLeavesMidCall(t *testing.T) {
	r := newRouter(t)
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", nil)
	callee.register("com.slow", nil)
	caller.callRaw("com.slow", nil)
	inv := expect[*wamp.Invocation](callee)
	caller.leave()
	in := expect[*wamp.Interrupt](callee)
	if in.Request != inv.Request || in.Options["mode"] != "killnowait" {
		t.Fatalf("got %s", dump(in))
	}
	// The late answer is discarded, not a protocol violation.
	callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	callee.register("com.still_alive", nil)
}

func TestHelloTimeout(t *testing.T) {
	r, err := New(Config{Realms: []RealmConfig{{Name: "realm1"}}, HelloTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(t.Context())
	c := connect(t, r)
	c.abort(wamp.ErrProtocolViolation)
}

func TestCloseShutsSessionsDown(t *testing.T) {
	r, err := New(Config{Realms: []RealmConfig{{Name: "realm1"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := join(t, r, "realm1", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	g := expect[*wamp.Goodbye](c)
	if g.Reason != wamp.CloseSystemShutdown {
		t.Fatalf("reason %s", g.Reason)
	}
	c.closed()
}
