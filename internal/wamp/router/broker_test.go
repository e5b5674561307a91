package router

import (
	"testing"

	"skyhub/internal/wamp"
)

// ticketRealm has principals alice (role a), bob and carol (role b).
func ticketRealm(t *testing.T, name string, extra map[string]any) RealmConfig {
	s := map[string]any{
		"metaAdmin": true,
		"principals": map[string]any{
			"alice": map[string]any{"role": "a", "ticket": "plain:pa"},
			"bob":   map[string]any{"role": "b", "ticket": "plain:pb"},
			"carol": map[string]any{"role": "b", "ticket": "plain:pc"},
		},
	}
	for k, v := range extra {
		s[k] = v
	}
	return realmWith(t, name, s)
}

func joinTicket(t *testing.T, r *Router, realm, authid, ticket string) *client {
	t.Helper()
	c := connect(t, r)
	c.send(&wamp.Hello{Realm: wamp.URI(realm), Details: wamp.Dict{"roles": fullRoles(), "authmethods": []any{"ticket"}, "authid": authid}})
	ch := expect[*wamp.Challenge](c)
	if ch.AuthMethod != "ticket" {
		t.Fatalf("challenge %s", ch.AuthMethod)
	}
	c.send(&wamp.Authenticate{Signature: ticket, Extra: wamp.Dict{}})
	w := expect[*wamp.Welcome](c)
	c.id, c.wel = w.Session, w
	return c
}

func TestSubscriberBlackWhiteListing(t *testing.T) {
	r := newRouter(t, ticketRealm(t, "realm1", nil))
	alice := joinTicket(t, r, "realm1", "alice", "pa")
	bob := joinTicket(t, r, "realm1", "bob", "pb")
	carol := joinTicket(t, r, "realm1", "carol", "pc")
	all := []*client{alice, bob, carol}
	for _, c := range all {
		c.subscribe("com.t", nil)
	}
	pub := join(t, r, "realm1", nil)
	ids := func(cs ...*client) []any {
		l := []any{}
		for _, c := range cs {
			l = append(l, c.id)
		}
		return l
	}
	cases := []struct {
		name string
		opts wamp.Dict
		want []*client
	}{
		{"none", wamp.Dict{}, all},
		{"eligible sessions", wamp.Dict{"eligible": ids(alice, carol)}, []*client{alice, carol}},
		{"exclude sessions", wamp.Dict{"exclude": ids(bob)}, []*client{alice, carol}},
		{"eligible authid", wamp.Dict{"eligible_authid": []any{"bob"}}, []*client{bob}},
		{"exclude authid", wamp.Dict{"exclude_authid": []any{"alice", "carol"}}, []*client{bob}},
		{"eligible authrole", wamp.Dict{"eligible_authrole": []any{"b"}}, []*client{bob, carol}},
		{"exclude authrole", wamp.Dict{"exclude_authrole": []any{"b"}}, []*client{alice}},
		{"eligible and exclude intersect", wamp.Dict{"eligible_authrole": []any{"b"}, "exclude": ids(carol)}, []*client{bob}},
		{"eligible empty list", wamp.Dict{"eligible": []any{}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub.publish("com.t", tc.opts, tc.name)
			got := map[*client]bool{}
			for _, c := range tc.want {
				ev := expect[*wamp.Event](c)
				if ev.Arguments[0] != tc.name {
					t.Fatalf("stale event %v", ev.Arguments)
				}
				got[c] = true
			}
			for _, c := range all {
				if !got[c] {
					c.quiet()
				}
			}
		})
	}
	pub.send(&wamp.Publish{Request: pub.next(), Options: wamp.Dict{"acknowledge": true, "eligible": "x"}, Topic: "com.t"})
	if e := expect[*wamp.Error](pub); e.Error != wamp.ErrInvalidArgument {
		t.Fatal(e.Error)
	}
}

func TestEventRetention(t *testing.T) {
	r := newRouter(t)
	pub := join(t, r, "realm1", nil)
	pub.publish("com.state", wamp.Dict{"retain": true}, "v1")
	pubID := pub.publish("com.state", wamp.Dict{"retain": true, "disclose_me": true}, "v2")
	pub.publish("com.state", nil, "not retained") // a publication without retain does not replace it

	late := join(t, r, "realm1", nil)
	sid := late.subscribe("com.state", wamp.Dict{"get_retained": true})
	ev := expect[*wamp.Event](late)
	if ev.Subscription != sid || ev.Publication != pubID || ev.Arguments[0] != "v2" || ev.Details["retained"] != true ||
		wamp.ID(num(ev.Details["publisher"])) != pub.id {
		t.Fatalf("retained event %s", dump(ev))
	}
	late.quiet()

	// Without get_retained nothing is replayed.
	other := join(t, r, "realm1", nil)
	other.subscribe("com.state", nil)
	other.quiet()

	// Pattern subscriptions get every matching retained topic.
	pub.publish("com.other", wamp.Dict{"retain": true}, "o")
	pat := join(t, r, "realm1", nil)
	pat.subscribe("com.", wamp.Dict{"match": "prefix", "get_retained": true})
	seen := map[any]bool{}
	for range 2 {
		ev := expect[*wamp.Event](pat)
		seen[ev.Details["topic"]] = true
	}
	if !seen["com.state"] || !seen["com.other"] {
		t.Fatalf("retained by pattern: %v", seen)
	}

	// Only subscribers eligible for the original publication get it.
	pub.publish("com.secret", wamp.Dict{"retain": true, "eligible_authid": []any{"nobody"}}, "s")
	x := join(t, r, "realm1", nil)
	x.subscribe("com.secret", wamp.Dict{"get_retained": true})
	x.quiet()
}

func TestEventOrderFollowsSubscriptionOrder(t *testing.T) {
	r := newRouter(t)
	var subs []*client
	for range 5 {
		c := join(t, r, "realm1", nil)
		c.subscribe("com.t", nil)
		subs = append(subs, c)
	}
	pub := join(t, r, "realm1", nil)
	for i := range 100 {
		pub.send(&wamp.Publish{Request: pub.next(), Options: wamp.Dict{}, Topic: "com.t", Arguments: wamp.List{int64(i)}})
	}
	for _, c := range subs {
		for i := range 100 {
			if ev := expect[*wamp.Event](c); num(ev.Arguments[0]) != int64(i) {
				t.Fatalf("event %v out of order at %d", ev.Arguments, i)
			}
		}
	}
}

func TestEventHistory(t *testing.T) {
	r := newRouter(t, realmWith(t, "realm1", map[string]any{"eventHistory": []any{
		map[string]any{"uri": "com.hist.", "match": "prefix", "limit": 3},
	}}))
	pub := join(t, r, "realm1", nil)
	for i := range 5 {
		pub.publish("com.hist.a", nil, int64(i))
	}
	pub.publish("com.hist.b", wamp.Dict{"disclose_me": true}, "b")
	pub.publish("com.other", nil, "not kept")

	c := join(t, r, "realm1", nil)
	exact := c.subscribe("com.hist.a", nil)
	evs := c.call("wamp.subscription.get_events", exact).Arguments[0].([]any)
	if len(evs) != 3 {
		t.Fatalf("%d events, want the last 3: %v", len(evs), evs)
	}
	for i, e := range evs {
		d := e.(wamp.Dict)
		if num(d["args"].(wamp.List)[0]) != int64(i+2) || wamp.ID(num(d["subscription"])) != exact || d["topic"] != "com.hist.a" {
			t.Fatalf("event %d: %v", i, d)
		}
	}
	if evs := c.call("wamp.subscription.get_events", exact, 1).Arguments[0].([]any); len(evs) != 1 ||
		num(evs[0].(wamp.Dict)["args"].(wamp.List)[0]) != 4 {
		t.Fatalf("limit 1: %v", evs)
	}
	pat := c.subscribe("com.", wamp.Dict{"match": "prefix"})
	evs = c.call("wamp.subscription.get_events", pat).Arguments[0].([]any)
	if len(evs) != 4 {
		t.Fatalf("pattern history: %v", evs)
	}
	last := evs[3].(wamp.Dict)
	if last["topic"] != "com.hist.b" || wamp.ID(num(last["publisher"])) != pub.id {
		t.Fatalf("latest event %v", last)
	}
	if e := c.callErr("wamp.subscription.get_events", int64(424242)); e.Error != wamp.ErrNoSuchSubscription {
		t.Fatal(e.Error)
	}
}

// TestDeliveryOrderMatchesCrossbar: a publication matching several
// subscriptions is delivered exact first, then prefixes shortest first,
// then wildcards in creation order — the order of Crossbar's golden logs
// that autobahn-js's test_pubsub_multiple_matching_subs compares.
func TestDeliveryOrderMatchesCrossbar(t *testing.T) {
	r := newRouter(t)
	c := join(t, r, "realm1", nil)
	ids := map[string]wamp.ID{}
	for _, s := range []struct{ uri, match string }{
		{"a.b.c.d", "wildcard"}, {"a.b.", "prefix"}, {"a.", "prefix"}, {"a.b.c.d", "exact"},
		{".b.c.d", "wildcard"}, {"a", "prefix"}, {"a..c.", "wildcard"}, {"a.b.c", "prefix"},
	} {
		opts := wamp.Dict{}
		if s.match != "exact" {
			opts["match"] = s.match
		}
		ids[s.match+" "+s.uri] = c.subscribe(s.uri, opts)
	}
	want := []string{"exact a.b.c.d", "prefix a", "prefix a.", "prefix a.b.", "prefix a.b.c",
		"wildcard a.b.c.d", "wildcard .b.c.d", "wildcard a..c."}
	pub := join(t, r, "realm1", nil)
	for range 5 {
		pub.publish("a.b.c.d", nil)
		for i, w := range want {
			if ev := expect[*wamp.Event](c); ev.Subscription != ids[w] {
				t.Fatalf("delivery %d went to subscription %d, want %s (%d)", i, ev.Subscription, w, ids[w])
			}
		}
	}
	// The same with more prefix subscriptions than the topic is long.
	for i := range 20 {
		c.subscribe("zz"+string(rune('a'+i)), wamp.Dict{"match": "prefix"})
	}
	pub.publish("a.b.c.d", nil)
	for i, w := range want {
		if ev := expect[*wamp.Event](c); ev.Subscription != ids[w] {
			t.Fatalf("delivery %d went to subscription %d, want %s", i, ev.Subscription, w)
		}
	}
}
