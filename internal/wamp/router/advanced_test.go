package router

import (
	"testing"
	"time"

	"skyhub/internal/wamp"
)

// joinRoles joins announcing exactly roles.
func joinRoles(t *testing.T, r *Router, roles wamp.Dict) *client {
	t.Helper()
	c := connect(t, r)
	c.send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": roles}})
	w := expect[*wamp.Welcome](c)
	c.id, c.wel = w.Session, w
	return c
}

func calleeWith(features ...string) wamp.Dict {
	f := wamp.Dict{}
	for _, n := range features {
		f[n] = true
	}
	return wamp.Dict{"callee": wamp.Dict{"features": f}}
}

func TestWelcomeAnnouncesImplementedFeatures(t *testing.T) {
	r := newRouter(t)
	c := join(t, r, "realm1", nil)
	roles, _ := wamp.OptDict(c.wel.Details, "roles")
	want := map[string][]string{
		"broker": {"pattern_based_subscription", "publisher_exclusion", "publisher_identification",
			"subscriber_blackwhite_listing", "session_meta_api", "subscription_meta_api", "event_retention",
			"payload_passthru_mode", "event_history", "subscription_revocation"},
		"dealer": {"call_canceling", "call_timeout", "caller_identification", "pattern_based_registration",
			"progressive_call_results", "registration_meta_api", "session_meta_api", "shared_registration", "testament_meta_api",
			"payload_passthru_mode", "progressive_call_invocations", "registration_revocation"},
	}
	for role, feats := range want {
		r, _ := wamp.OptDict(roles, role)
		f, _ := wamp.OptDict(r, "features")
		if len(f) != len(feats) {
			t.Errorf("%s announces %d features, want %d: %v", role, len(f), len(feats), f)
		}
		for _, name := range feats {
			if f[name] != true {
				t.Errorf("%s does not announce %s", role, name)
			}
		}
	}
}

func TestProgressiveCallResults(t *testing.T) {
	cases := []struct {
		name         string
		callee       wamp.Dict
		wantProgress bool
	}{
		// Forwarded when the callee announces the feature alone (the nexus gap).
		{"callee announces progressive_call_results only", calleeWith("progressive_call_results"), true},
		{"callee announces nothing", calleeWith(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t)
			callee := joinRoles(t, r, tc.callee)
			caller := join(t, r, "realm1", nil)
			callee.register("com.stream", nil)
			req := caller.callRaw("com.stream", wamp.Dict{"receive_progress": true})
			inv := expect[*wamp.Invocation](callee)
			if got, _ := wamp.OptBool(inv.Details, "receive_progress"); got != tc.wantProgress {
				t.Fatalf("INVOCATION receive_progress = %v, want %v", got, tc.wantProgress)
			}
			if tc.wantProgress {
				for i := range 3 {
					callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{"progress": true}, Arguments: wamp.List{int64(i)}})
				}
			}
			callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{"done"}})
			if tc.wantProgress {
				for i := range 3 {
					res := expect[*wamp.Result](caller)
					if res.Request != req || res.Details["progress"] != true || num(res.Arguments[0]) != int64(i) {
						t.Fatalf("progressive result %d: %s", i, dump(res))
					}
				}
			}
			res := expect[*wamp.Result](caller)
			if res.Request != req || res.Details["progress"] == true || res.Arguments[0] != "done" {
				t.Fatalf("final result %s", dump(res))
			}
			caller.quiet()
		})
	}
}

func TestCallCanceling(t *testing.T) {
	cases := []struct {
		name          string
		mode          string
		calleeCancels bool
		wantInterrupt string // "" = none
		immediate     bool   // caller gets ERROR canceled at once
	}{
		{"skip", "skip", true, "", true},
		{"killnowait", "killnowait", true, "killnowait", true},
		{"default mode is killnowait", "", true, "killnowait", true},
		{"kill waits for the callee", "kill", true, "kill", false},
		{"callee without call_canceling behaves as skip", "kill", false, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t)
			feats := []string{"progressive_call_results"}
			if tc.calleeCancels {
				feats = append(feats, "call_canceling")
			}
			callee := joinRoles(t, r, calleeWith(feats...))
			caller := join(t, r, "realm1", nil)
			callee.register("com.slow", nil)
			req := caller.callRaw("com.slow", nil)
			inv := expect[*wamp.Invocation](callee)
			opts := wamp.Dict{}
			if tc.mode != "" {
				opts["mode"] = tc.mode
			}
			caller.send(&wamp.Cancel{Request: req, Options: opts})
			if tc.wantInterrupt != "" {
				in := expect[*wamp.Interrupt](callee)
				if in.Request != inv.Request || in.Options["mode"] != tc.wantInterrupt {
					t.Fatalf("INTERRUPT %s", dump(in))
				}
			} else {
				callee.quiet()
			}
			if tc.immediate {
				e := expect[*wamp.Error](caller)
				if e.Request != req || e.Error != wamp.ErrCanceled {
					t.Fatalf("got %s", dump(e))
				}
				// A late answer is discarded.
				callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{"late"}})
				caller.quiet()
			} else {
				caller.quiet() // kill: nothing until the callee answers
				callee.send(&wamp.Error{Type: wamp.INVOCATION, Request: inv.Request, Details: wamp.Dict{}, Error: wamp.ErrCanceled})
				e := expect[*wamp.Error](caller)
				if e.Request != req || e.Error != wamp.ErrCanceled {
					t.Fatalf("got %s", dump(e))
				}
			}
			// Both sessions are still healthy.
			callee.register("com.other", nil)
			caller.callErr("com.nothing")
		})
	}
}

func TestCallTimeout(t *testing.T) {
	r := newRouter(t)
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", nil)
	callee.register("com.slow", nil)
	req := caller.callRaw("com.slow", wamp.Dict{"timeout": int64(30)})
	inv := expect[*wamp.Invocation](callee)
	if _, ok := inv.Details["timeout"]; ok {
		t.Fatal("dealer-enforced timeout forwarded to the callee")
	}
	e := expect[*wamp.Error](caller)
	if e.Request != req || e.Error != wamp.ErrTimeout {
		t.Fatalf("got %s", dump(e))
	}
	in := expect[*wamp.Interrupt](callee)
	if in.Request != inv.Request || in.Options["mode"] != "killnowait" {
		t.Fatalf("got %s", dump(in))
	}
	callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	caller.quiet()

	// A fast answer beats the timer and no timeout follows.
	callee.register("com.fast", nil)
	req = caller.callRaw("com.fast", wamp.Dict{"timeout": int64(40)})
	inv = expect[*wamp.Invocation](callee)
	callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	if res := expect[*wamp.Result](caller); res.Request != req {
		t.Fatalf("got %s", dump(res))
	}
	time.Sleep(60 * time.Millisecond)
	caller.quiet()
	callee.quiet()

	// forward_timeout: the callee gets the timeout and handles it.
	callee.register("com.fwd", wamp.Dict{"forward_timeout": true})
	caller.callRaw("com.fwd", wamp.Dict{"timeout": int64(20)})
	inv = expect[*wamp.Invocation](callee)
	if num(inv.Details["timeout"]) != 20 {
		t.Fatalf("timeout not forwarded: %s", dump(inv))
	}
	time.Sleep(50 * time.Millisecond)
	caller.quiet()
}

func TestMaxCallTimeout(t *testing.T) {
	r := newRouter(t, realmWith(t, "realm1", map[string]any{"maxCallTimeout": "30ms"}))
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", nil)
	callee.register("com.slow", nil)
	req := caller.callRaw("com.slow", nil) // no timeout asked: the realm's cap applies
	expect[*wamp.Invocation](callee)
	if e := expect[*wamp.Error](caller); e.Request != req || e.Error != wamp.ErrTimeout {
		t.Fatalf("got %s", dump(e))
	}
}

func TestCallerIdentification(t *testing.T) {
	r := newRouter(t, RealmConfig{Name: "realm1"}, realmWith(t, "closed", map[string]any{"disallowDisclose": true}))
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", wamp.Dict{"authid": "joe"})
	callee.register("com.p", nil)
	callee.register("com.q", wamp.Dict{"disclose_caller": true})

	caller.callRaw("com.p", nil)
	inv := expect[*wamp.Invocation](callee)
	if _, ok := inv.Details["caller"]; ok {
		t.Fatal("caller disclosed without being asked")
	}
	callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	expect[*wamp.Result](caller)

	for _, tc := range []struct {
		proc string
		opts wamp.Dict
	}{{"com.p", wamp.Dict{"disclose_me": true}}, {"com.q", nil}} {
		caller.callRaw(tc.proc, tc.opts)
		inv := expect[*wamp.Invocation](callee)
		if wamp.ID(num(inv.Details["caller"])) != caller.id || inv.Details["caller_authid"] != "joe" || inv.Details["caller_authrole"] != "anonymous" {
			t.Fatalf("%s: details %v", tc.proc, inv.Details)
		}
		callee.send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
		expect[*wamp.Result](caller)
	}

	c2 := join(t, r, "closed", nil)
	c2.callRaw("com.x", wamp.Dict{"disclose_me": true})
	if e := expect[*wamp.Error](c2); e.Error != wamp.ErrDiscloseMeDisallowed {
		t.Fatalf("got %s", e.Error)
	}
}

func TestPublisherIdentificationAndExclusion(t *testing.T) {
	r := newRouter(t)
	pub := join(t, r, "realm1", wamp.Dict{"authid": "pat"})
	sub := join(t, r, "realm1", nil)
	pub.subscribe("com.t", nil)
	sub.subscribe("com.t", nil)

	pub.publish("com.t", nil, 1)
	ev := expect[*wamp.Event](sub)
	if _, ok := ev.Details["publisher"]; ok {
		t.Fatal("publisher disclosed without disclose_me")
	}
	pub.quiet() // exclude_me defaults to true

	pub.send(&wamp.Publish{Request: pub.next(), Options: wamp.Dict{"disclose_me": true, "exclude_me": false}, Topic: "com.t"})
	for _, c := range []*client{sub, pub} {
		ev := expect[*wamp.Event](c)
		if wamp.ID(num(ev.Details["publisher"])) != pub.id || ev.Details["publisher_authid"] != "pat" || ev.Details["publisher_authrole"] != "anonymous" {
			t.Fatalf("details %v", ev.Details)
		}
	}
}

func TestPatternRegistrationPrecedence(t *testing.T) {
	r := newRouter(t)
	regs := []struct {
		uri, match string
	}{
		{"a1.b2.c3.d4.e55", "exact"},
		{"a1.b2.c3", "prefix"},
		{"a1.b2.c3.d4", "prefix"},
		{"a1.b2..d4.e5", "wildcard"},
		{"a1.b2.c33..e5", "wildcard"},
		{"a1.b2..d4.e5..g7", "wildcard"},
		{"a1.b2..d4..f6", "wildcard"},
		{"a1.b5..d4.e5", "wildcard"},
		{"a1.b5.c33..e5", "wildcard"},
	}
	callees := map[wamp.ID]string{}
	for _, rg := range regs {
		c := join(t, r, "realm1", nil)
		opts := wamp.Dict{}
		if rg.match != "exact" {
			opts["match"] = rg.match
		}
		id := c.register(rg.uri, opts)
		callees[id] = rg.uri
		c.serve(func(inv *wamp.Invocation) wamp.Message {
			proc, _ := wamp.OptString(inv.Details, "procedure")
			return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{rg.uri, proc}}
		})
	}
	caller := join(t, r, "realm1", nil)
	cases := []struct{ call, want string }{
		{"a1.b2.c3.d4.e55", "a1.b2.c3.d4.e55"},
		{"a1.b2.c3.d98.e74", "a1.b2.c3"},
		{"a1.b2.c3.d4.e325", "a1.b2.c3.d4"},
		{"a1.b2.c55.d4.e5", "a1.b2..d4.e5"},
		{"a1.b2.c33.d4.e5", "a1.b2.c3"}, // prefixes match by string and beat wildcards
		{"a1.b5.c55.d4.e5", "a1.b5..d4.e5"},
		{"a1.b5.c33.d4.e5", "a1.b5.c33..e5"}, // more leading components win
		{"a1.b2.c88.d4.e5.f6.g7", "a1.b2..d4.e5..g7"},
		{"a1.b2.c88.d4.e5.f6", "a1.b2..d4..f6"},
	}
	for _, tc := range cases {
		res := caller.call(tc.call)
		if res.Arguments[0] != tc.want {
			t.Errorf("call %s went to %v, want %s", tc.call, res.Arguments[0], tc.want)
		}
		wantProc := tc.call
		if tc.want == tc.call {
			wantProc = "" // exact registrations get no procedure detail
		}
		if res.Arguments[1] != wantProc {
			t.Errorf("call %s: INVOCATION procedure %q, want %q", tc.call, res.Arguments[1], wantProc)
		}
	}
	if e := caller.callErr("a1.x"); e.Error != wamp.ErrNoSuchProcedure {
		t.Fatal(e.Error)
	}
	if id := num(caller.call("wamp.registration.match", "a1.b2.c3.d98.e74").Arguments[0]); callees[wamp.ID(id)] != "a1.b2.c3" {
		t.Fatalf("wamp.registration.match gave %d", id)
	}
}

func TestPatternSubscriptions(t *testing.T) {
	r := newRouter(t)
	exact := join(t, r, "realm1", nil)
	prefix := join(t, r, "realm1", nil)
	wild := join(t, r, "realm1", nil)
	eid := exact.subscribe("com.myapp.topic.emergency", nil)
	pid := prefix.subscribe("com.myapp", wamp.Dict{"match": "prefix"})
	wid := wild.subscribe("com..topic.", wamp.Dict{"match": "wildcard"})
	pub := join(t, r, "realm1", nil)

	pub.publish("com.myapp.topic.emergency", nil, "x")
	if ev := expect[*wamp.Event](exact); ev.Subscription != eid || ev.Details["topic"] != nil {
		t.Fatalf("exact: %s", dump(ev))
	}
	if ev := expect[*wamp.Event](prefix); ev.Subscription != pid || ev.Details["topic"] != "com.myapp.topic.emergency" {
		t.Fatalf("prefix: %s", dump(ev))
	}
	if ev := expect[*wamp.Event](wild); ev.Subscription != wid || ev.Details["topic"] != "com.myapp.topic.emergency" {
		t.Fatalf("wildcard: %s", dump(ev))
	}
	pub.publish("com.myapp2.other", nil) // string prefix match, not by component
	expect[*wamp.Event](prefix)
	wild.quiet()
	exact.quiet()
	pub.publish("com.x.topic.y", nil)
	expect[*wamp.Event](wild)
	prefix.quiet()

	// A session subscribed by two patterns gets the event once per subscription.
	both := join(t, r, "realm1", nil)
	both.subscribe("org.a", wamp.Dict{"match": "prefix"})
	both.subscribe("org.a.b", nil)
	pub.publish("org.a.b", nil)
	e1, e2 := expect[*wamp.Event](both), expect[*wamp.Event](both)
	if e1.Subscription == e2.Subscription || e1.Publication != e2.Publication {
		t.Fatalf("%s / %s", dump(e1), dump(e2))
	}
	both.quiet()
}

func TestSharedRegistration(t *testing.T) {
	cases := []struct {
		invoke string
		check  func(t *testing.T, got []int)
	}{
		{"roundrobin", func(t *testing.T, got []int) {
			for i, g := range got {
				if g != i%3 {
					t.Fatalf("roundrobin order %v", got)
				}
			}
		}},
		{"first", func(t *testing.T, got []int) {
			for _, g := range got {
				if g != 0 {
					t.Fatalf("first: %v", got)
				}
			}
		}},
		{"last", func(t *testing.T, got []int) {
			for _, g := range got {
				if g != 2 {
					t.Fatalf("last: %v", got)
				}
			}
		}},
		{"random", func(t *testing.T, got []int) {
			seen := map[int]bool{}
			for _, g := range got {
				seen[g] = true
			}
			if len(seen) < 2 { // 60 calls over 3 callees: all on one is p = 3^-59
				t.Fatalf("random: %v", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.invoke, func(t *testing.T) {
			r := newRouter(t)
			var regID wamp.ID
			for i := range 3 {
				c := join(t, r, "realm1", nil)
				id := c.register("com.shared", wamp.Dict{"invoke": tc.invoke})
				if i > 0 && id != regID {
					t.Fatalf("shared registration got a new id")
				}
				regID = id
				c.serve(func(inv *wamp.Invocation) wamp.Message {
					return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{int64(i)}}
				})
			}
			caller := join(t, r, "realm1", nil)
			if n := num(caller.call("wamp.registration.count_callees", regID).Arguments[0]); n != 3 {
				t.Fatalf("count_callees %d", n)
			}
			var got []int
			for range 60 {
				got = append(got, int(num(caller.call("com.shared").Arguments[0])))
			}
			tc.check(t, got)
		})
	}
}

func TestSharedRegistrationFailover(t *testing.T) {
	r := newRouter(t)
	a := join(t, r, "realm1", nil)
	b := join(t, r, "realm1", nil)
	a.register("com.s", wamp.Dict{"invoke": "first"})
	b.register("com.s", wamp.Dict{"invoke": "first"})
	b.serve(func(inv *wamp.Invocation) wamp.Message {
		return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{"b"}}
	})
	a.leave()
	caller := join(t, r, "realm1", nil)
	if got := caller.call("com.s").Arguments[0]; got != "b" {
		t.Fatalf("got %v", got)
	}
}

func TestPayloadPassthru(t *testing.T) {
	r := newRouter(t)
	callee := join(t, r, "realm1", nil)
	caller := join(t, r, "realm1", nil)
	callee.register("com.e2e", nil)
	ppt := wamp.Dict{"ppt_scheme": "x_custom", "ppt_serializer": "cbor", "ppt_cipher": "xsalsa20poly1305", "ppt_keyid": "k1"}
	opts := wamp.Dict{"other": 1}
	for k, v := range ppt {
		opts[k] = v
	}
	sealed := []byte{0x01, 0x02, 0xff}
	req := caller.next()
	caller.send(&wamp.Call{Request: req, Options: opts, Procedure: "com.e2e", Arguments: wamp.List{sealed}})
	inv := expect[*wamp.Invocation](callee)
	for k, v := range ppt {
		if inv.Details[k] != v {
			t.Fatalf("INVOCATION lacks %s: %v", k, inv.Details)
		}
	}
	if _, ok := inv.Details["other"]; ok {
		t.Fatal("non-ppt option copied")
	}
	if b, ok := inv.Arguments[0].([]byte); !ok || string(b) != string(sealed) {
		t.Fatalf("payload touched: %#v", inv.Arguments)
	}
	callee.send(&wamp.Yield{Request: inv.Request, Options: ppt, Arguments: wamp.List{sealed}})
	res := expect[*wamp.Result](caller)
	if res.Request != req || res.Details["ppt_keyid"] != "k1" || res.Details["ppt_scheme"] != "x_custom" {
		t.Fatalf("RESULT %v", res.Details)
	}

	sub := join(t, r, "realm1", nil)
	sub.subscribe("com.sealed", nil)
	pub := join(t, r, "realm1", nil)
	pub.publish("com.sealed", wamp.Dict{"ppt_scheme": "x_custom", "ppt_keyid": "k2"}, sealed)
	ev := expect[*wamp.Event](sub)
	if ev.Details["ppt_scheme"] != "x_custom" || ev.Details["ppt_keyid"] != "k2" {
		t.Fatalf("EVENT %v", ev.Details)
	}
	// Without ppt_scheme nothing is copied.
	pub.publish("com.sealed", wamp.Dict{"ppt_keyid": "k3"})
	if ev := expect[*wamp.Event](sub); len(ev.Details) != 0 {
		t.Fatalf("EVENT %v", ev.Details)
	}
}

func TestProgressiveCallInvocations(t *testing.T) {
	r := newRouter(t)
	callee := joinRoles(t, r, calleeWith("progressive_call_invocations", "call_canceling", "progressive_call_results"))
	plain := joinRoles(t, r, calleeWith())
	caller := join(t, r, "realm1", nil)
	callee.register("com.upload", nil)
	plain.register("com.plain", nil)

	req := caller.next()
	for i, more := range []bool{true, true, false} {
		opts := wamp.Dict{}
		if more {
			opts["progress"] = true
		}
		caller.send(&wamp.Call{Request: req, Options: opts, Procedure: "com.upload", Arguments: wamp.List{int64(i)}})
	}
	var invID wamp.ID
	for i, more := range []bool{true, true, false} {
		inv := expect[*wamp.Invocation](callee)
		if i == 0 {
			invID = inv.Request
		}
		if inv.Request != invID || num(inv.Arguments[0]) != int64(i) || (inv.Details["progress"] == true) != more {
			t.Fatalf("chunk %d: %s", i, dump(inv))
		}
	}
	callee.send(&wamp.Yield{Request: invID, Options: wamp.Dict{}, Arguments: wamp.List{"stored"}})
	if res := expect[*wamp.Result](caller); res.Request != req || res.Arguments[0] != "stored" {
		t.Fatalf("got %s", dump(res))
	}

	// An early answer: later chunks are dropped, not violations.
	req = caller.next()
	caller.send(&wamp.Call{Request: req, Options: wamp.Dict{"progress": true}, Procedure: "com.upload"})
	inv := expect[*wamp.Invocation](callee)
	callee.send(&wamp.Error{Type: wamp.INVOCATION, Request: inv.Request, Details: wamp.Dict{}, Error: "com.error.too_big"})
	if e := expect[*wamp.Error](caller); e.Error != "com.error.too_big" {
		t.Fatal(e.Error)
	}
	caller.send(&wamp.Call{Request: req, Options: wamp.Dict{"progress": true}, Procedure: "com.upload"})
	caller.send(&wamp.Call{Request: req, Options: wamp.Dict{}, Procedure: "com.upload"})
	callee.quiet()
	caller.callErr("com.nothing") // the session is healthy and ids continue

	// A callee that did not announce the feature is not sent chunks.
	caller.callRaw("com.plain", wamp.Dict{"progress": true})
	if e := expect[*wamp.Error](caller); e.Error != wamp.ErrFeatureNotSupported {
		t.Fatal(e.Error)
	}
	plain.quiet()

	// Reusing the id of a finished call is still a violation.
	caller.send(&wamp.Call{Request: req, Options: wamp.Dict{}, Procedure: "com.upload"})
	caller.abort(wamp.ErrProtocolViolation)
}
