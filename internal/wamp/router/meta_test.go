package router

import (
	"slices"
	"testing"

	"skyhub/internal/wamp"
)

// metaEvents subscribes to every wamp.* meta topic by prefix.
func metaWatcher(t *testing.T, r *Router) *client {
	c := join(t, r, "realm1", nil)
	c.subscribe("wamp.", wamp.Dict{"match": "prefix"})
	return c
}

func nextMeta(c *client, topic string) *wamp.Event {
	c.t.Helper()
	for {
		ev := expect[*wamp.Event](c)
		if ev.Details["topic"] == topic {
			return ev
		}
	}
}

func TestSessionMetaAPI(t *testing.T) {
	r := newRouter(t, ticketRealm(t, "realm1", nil))
	adm := join(t, r, "realm1", nil)
	w := metaWatcher(t, r)
	alice := joinTicket(t, r, "realm1", "alice", "pa")
	ev := nextMeta(w, "wamp.session.on_join")
	d := ev.Arguments[0].(wamp.Dict)
	if wamp.ID(num(d["session"])) != alice.id || d["authid"] != "alice" || d["authrole"] != "a" || d["authmethod"] != "ticket" {
		t.Fatalf("on_join %v", d)
	}
	bob := joinTicket(t, r, "realm1", "bob", "pb")
	carol := joinTicket(t, r, "realm1", "carol", "pc")
	for _, c := range []*client{bob, carol} {
		if ev := nextMeta(w, "wamp.session.on_join"); wamp.ID(num(ev.Arguments[0].(wamp.Dict)["session"])) != c.id {
			t.Fatal("on_join order")
		}
	}

	if n := num(adm.call("wamp.session.count").Arguments[0]); n != 5 {
		t.Fatalf("count %d", n)
	}
	if n := num(adm.call("wamp.session.count", []any{"b"}).Arguments[0]); n != 2 {
		t.Fatalf("count(b) %d", n)
	}
	l := adm.call("wamp.session.list", []any{"a"}).Arguments[0].([]any)
	if len(l) != 1 || wamp.ID(num(l[0])) != alice.id {
		t.Fatalf("list(a) %v", l)
	}
	g := adm.call("wamp.session.get", bob.id).Arguments[0].(wamp.Dict)
	if g["authid"] != "bob" {
		t.Fatalf("get %v", g)
	}
	if e := adm.callErr("wamp.session.get", int64(12345)); e.Error != wamp.ErrNoSuchSession {
		t.Fatal(e.Error)
	}
	if e := adm.callErr("wamp.session.kill", adm.id); e.Error != wamp.ErrNoSuchSession {
		t.Fatalf("self-kill: %s", e.Error)
	}

	// kill with reason and message.
	adm.call("wamp.session.kill", alice.id)
	gb := expect[*wamp.Goodbye](alice)
	if gb.Reason != wamp.CloseKilled {
		t.Fatal(gb.Reason)
	}
	leave := nextMeta(w, "wamp.session.on_leave")
	if wamp.ID(num(leave.Arguments[0])) != alice.id || leave.Arguments[1] != "alice" || leave.Arguments[2] != "a" {
		t.Fatalf("on_leave %v", leave.Arguments)
	}

	// kill_by_authid
	adm.send(&wamp.Call{Request: adm.next(), Options: wamp.Dict{}, Procedure: "wamp.session.kill_by_authid", Arguments: wamp.List{"bob"},
		ArgumentsKw: wamp.Dict{"reason": "com.reason.bye", "message": "go"}})
	gb = expect[*wamp.Goodbye](bob)
	if gb.Reason != "com.reason.bye" || gb.Details["message"] != "go" {
		t.Fatalf("kill_by_authid goodbye %s", dump(gb))
	}
	// kill_by_authrole / kill_all
	adm.send(&wamp.Call{Request: adm.next(), Options: wamp.Dict{}, Procedure: "wamp.session.kill_all"})
	expect[*wamp.Goodbye](carol)
	eventually(t, "only the admin left", func() bool { return r.SessionCount() == 1 })
}

func TestKillByAuthroleResult(t *testing.T) {
	r := newRouter(t, ticketRealm(t, "realm1", nil))
	admin := join(t, r, "realm1", nil)
	bob := joinTicket(t, r, "realm1", "bob", "pb")
	carol := joinTicket(t, r, "realm1", "carol", "pc")
	res := admin.call("wamp.session.kill_by_authrole", "b")
	if num(res.Arguments[0]) != 2 {
		t.Fatalf("killed %v", res.Arguments)
	}
	expect[*wamp.Goodbye](bob)
	expect[*wamp.Goodbye](carol)
}

func TestRegistrationMetaAPI(t *testing.T) {
	r := newRouter(t)
	adm := join(t, r, "realm1", nil)
	w := metaWatcher(t, r)
	a := join(t, r, "realm1", nil)
	b := join(t, r, "realm1", nil)
	id := a.register("com.p", wamp.Dict{"invoke": "roundrobin"})
	cr := nextMeta(w, "wamp.registration.on_create")
	if wamp.ID(num(cr.Arguments[0])) != a.id || cr.Arguments[1].(wamp.Dict)["uri"] != "com.p" {
		t.Fatalf("on_create %v", cr.Arguments)
	}
	if ev := nextMeta(w, "wamp.registration.on_register"); wamp.ID(num(ev.Arguments[1])) != id {
		t.Fatal("on_register")
	}
	b.register("com.p", wamp.Dict{"invoke": "roundrobin"})
	if ev := nextMeta(w, "wamp.registration.on_register"); wamp.ID(num(ev.Arguments[0])) != b.id {
		t.Fatal("on_register b")
	}
	pid := a.register("com.pre", wamp.Dict{"match": "prefix"})

	l := adm.call("wamp.registration.list").Arguments[0].(wamp.Dict)
	if ex := l["exact"].([]any); len(ex) != 1 || wamp.ID(num(ex[0])) != id {
		t.Fatalf("list %v", l)
	}
	if px := l["prefix"].([]any); len(px) != 1 || wamp.ID(num(px[0])) != pid {
		t.Fatalf("list %v", l)
	}
	if got := adm.call("wamp.registration.lookup", "com.p").Arguments[0]; wamp.ID(num(got)) != id {
		t.Fatalf("lookup %v", got)
	}
	if got := adm.call("wamp.registration.lookup", "com.pre").Arguments[0]; got != nil {
		t.Fatalf("lookup exact of a prefix registration: %v", got)
	}
	if got := adm.call("wamp.registration.lookup", "com.pre", wamp.Dict{"match": "prefix"}).Arguments[0]; wamp.ID(num(got)) != pid {
		t.Fatalf("lookup prefix %v", got)
	}
	if got := adm.call("wamp.registration.match", "com.pre.x").Arguments[0]; wamp.ID(num(got)) != pid {
		t.Fatalf("match %v", got)
	}
	if got := adm.call("wamp.registration.match", "org.none").Arguments[0]; got != nil {
		t.Fatalf("match none %v", got)
	}
	g := adm.call("wamp.registration.get", id).Arguments[0].(wamp.Dict)
	if g["uri"] != "com.p" || g["invoke"] != "roundrobin" || g["match"] != "exact" {
		t.Fatalf("get %v", g)
	}
	callees := adm.call("wamp.registration.list_callees", id).Arguments[0].([]any)
	if len(callees) != 2 || !slices.Contains(callees, any(a.id)) || !slices.Contains(callees, any(b.id)) {
		t.Fatalf("list_callees %v", callees)
	}
	if e := adm.callErr("wamp.registration.get", int64(999999)); e.Error != wamp.ErrNoSuchRegistration {
		t.Fatal(e.Error)
	}

	a.send(&wamp.Unregister{Request: a.next(), Registration: id})
	expect[*wamp.Unregistered](a)
	if ev := nextMeta(w, "wamp.registration.on_unregister"); wamp.ID(num(ev.Arguments[0])) != a.id {
		t.Fatal("on_unregister")
	}
	b.leave()
	nextMeta(w, "wamp.registration.on_unregister")
	if ev := nextMeta(w, "wamp.registration.on_delete"); wamp.ID(num(ev.Arguments[1])) != id {
		t.Fatal("on_delete")
	}
	if e := adm.callErr("wamp.registration.count_callees", id); e.Error != wamp.ErrNoSuchRegistration {
		t.Fatal(e.Error)
	}
}

func TestSubscriptionMetaAPI(t *testing.T) {
	r := newRouter(t)
	adm := join(t, r, "realm1", nil)
	w := join(t, r, "realm1", nil)
	w.subscribe("wamp.subscription.", wamp.Dict{"match": "prefix"})
	nextMeta(w, "wamp.subscription.on_create") // its own
	nextMeta(w, "wamp.subscription.on_subscribe")
	a := join(t, r, "realm1", nil)
	b := join(t, r, "realm1", nil)
	id := a.subscribe("com.t", nil)
	cr := nextMeta(w, "wamp.subscription.on_create")
	if cr.Arguments[1].(wamp.Dict)["uri"] != "com.t" {
		t.Fatalf("on_create %v", cr.Arguments)
	}
	nextMeta(w, "wamp.subscription.on_subscribe")
	b.subscribe("com.t", nil)
	if ev := nextMeta(w, "wamp.subscription.on_subscribe"); wamp.ID(num(ev.Arguments[0])) != b.id || wamp.ID(num(ev.Arguments[1])) != id {
		t.Fatal("on_subscribe b")
	}
	wid := a.subscribe("com..x", wamp.Dict{"match": "wildcard"})

	if got := adm.call("wamp.subscription.lookup", "com.t").Arguments[0]; wamp.ID(num(got)) != id {
		t.Fatalf("lookup %v", got)
	}
	if got := adm.call("wamp.subscription.lookup", "com..x", wamp.Dict{"match": "wildcard"}).Arguments[0]; wamp.ID(num(got)) != wid {
		t.Fatalf("lookup wildcard %v", got)
	}
	m := adm.call("wamp.subscription.match", "com.y.x").Arguments[0].([]any)
	if len(m) != 1 || wamp.ID(num(m[0])) != wid {
		t.Fatalf("match %v", m)
	}
	subs := adm.call("wamp.subscription.list_subscribers", id).Arguments[0].([]any)
	if len(subs) != 2 || wamp.ID(num(subs[0])) != a.id || wamp.ID(num(subs[1])) != b.id {
		t.Fatalf("list_subscribers %v", subs)
	}
	if n := num(adm.call("wamp.subscription.count_subscribers", id).Arguments[0]); n != 2 {
		t.Fatalf("count %d", n)
	}
	if g := adm.call("wamp.subscription.get", wid).Arguments[0].(wamp.Dict); g["match"] != "wildcard" || g["uri"] != "com..x" {
		t.Fatalf("get %v", g)
	}
	l := adm.call("wamp.subscription.list").Arguments[0].(wamp.Dict)
	if len(l["exact"].([]any)) != 1 || len(l["prefix"].([]any)) != 1 || len(l["wildcard"].([]any)) != 1 {
		t.Fatalf("list %v", l)
	}
	a.send(&wamp.Unsubscribe{Request: a.next(), Subscription: id})
	expect[*wamp.Unsubscribed](a)
	nextMeta(w, "wamp.subscription.on_unsubscribe")
	b.send(&wamp.Unsubscribe{Request: b.next(), Subscription: id})
	expect[*wamp.Unsubscribed](b)
	nextMeta(w, "wamp.subscription.on_unsubscribe")
	if ev := nextMeta(w, "wamp.subscription.on_delete"); wamp.ID(num(ev.Arguments[1])) != id {
		t.Fatal("on_delete")
	}
	if e := adm.callErr("wamp.subscription.get", id); e.Error != wamp.ErrNoSuchSubscription {
		t.Fatal(e.Error)
	}
}

func TestTestaments(t *testing.T) {
	r := newRouter(t)
	sub := join(t, r, "realm1", nil)
	sub.subscribe("com.will", nil)
	dying := join(t, r, "realm1", nil)
	dying.send(&wamp.Call{Request: dying.next(), Options: wamp.Dict{}, Procedure: "wamp.session.add_testament",
		Arguments: wamp.List{"com.will", wamp.List{"gone"}, wamp.Dict{"k": "v"}}})
	expect[*wamp.Result](dying)
	dying.send(&wamp.Call{Request: dying.next(), Options: wamp.Dict{}, Procedure: "wamp.session.add_testament",
		Arguments: wamp.List{"com.will", wamp.List{"detached"}, wamp.Dict{}}, ArgumentsKw: wamp.Dict{"scope": "detached", "publish_options": wamp.Dict{"disclose_me": true}}})
	expect[*wamp.Result](dying)
	sub.quiet()
	dying.p.Close() // transport lost
	ev := expect[*wamp.Event](sub)
	if ev.Arguments[0] != "detached" || wamp.ID(num(ev.Details["publisher"])) != dying.id {
		t.Fatalf("detached testament %s", dump(ev))
	}
	ev = expect[*wamp.Event](sub)
	if ev.Arguments[0] != "gone" || ev.ArgumentsKw["k"] != "v" {
		t.Fatalf("destroyed testament %s", dump(ev))
	}

	// flush_testaments removes them.
	flushed := join(t, r, "realm1", nil)
	flushed.call("wamp.session.add_testament", "com.will", wamp.List{"x"}, wamp.Dict{})
	if n := num(flushed.call("wamp.session.flush_testaments").Arguments[0]); n != 1 {
		t.Fatalf("flushed %d", n)
	}
	flushed.leave()
	sub.quiet()

	bad := join(t, r, "realm1", nil)
	if e := bad.callErr("wamp.session.add_testament", "not a#uri", wamp.List{}, wamp.Dict{}); e.Error != wamp.ErrInvalidURI {
		t.Fatal(e.Error)
	}
}

func TestRevocation(t *testing.T) {
	r := newRouter(t)
	adm := join(t, r, "realm1", nil)
	revocable := joinRoles(t, r, wamp.Dict{
		"callee":     wamp.Dict{"features": wamp.Dict{"registration_revocation": true}},
		"subscriber": wamp.Dict{"features": wamp.Dict{"subscription_revocation": true}},
	})
	plain := join(t, r, "realm1", nil)
	regID := revocable.register("com.rev", wamp.Dict{"invoke": "roundrobin"})
	plain.register("com.rev", wamp.Dict{"invoke": "roundrobin"})
	subID := revocable.subscribe("com.revt", nil)

	adm.send(&wamp.Call{Request: adm.next(), Options: wamp.Dict{}, Procedure: "wamp.registration.remove_callee",
		Arguments: wamp.List{regID, revocable.id}, ArgumentsKw: wamp.Dict{"reason": "com.reason.maintenance"}})
	expect[*wamp.Result](adm)
	u := expect[*wamp.Unregistered](revocable)
	if u.Request != 0 || wamp.ID(num(u.Details["registration"])) != regID || u.Details["reason"] != "com.reason.maintenance" {
		t.Fatalf("revocation %s", dump(u))
	}
	callees := adm.call("wamp.registration.list_callees", regID).Arguments[0].([]any)
	if len(callees) != 1 || wamp.ID(num(callees[0])) != plain.id {
		t.Fatalf("callees after revocation %v", callees)
	}
	// The callee cannot unregister what it no longer has.
	revocable.send(&wamp.Unregister{Request: revocable.next(), Registration: regID})
	if e := expect[*wamp.Error](revocable); e.Error != wamp.ErrNoSuchRegistration {
		t.Fatal(e.Error)
	}

	// A callee that did not announce the feature is removed silently.
	adm.call("wamp.registration.remove_callee", regID, plain.id)
	plain.quiet()
	if e := adm.callErr("wamp.registration.get", regID); e.Error != wamp.ErrNoSuchRegistration {
		t.Fatalf("registration not deleted: %s", e.Error)
	}

	adm.call("wamp.subscription.remove_subscriber", subID, revocable.id)
	us := expect[*wamp.Unsubscribed](revocable)
	if us.Request != 0 || wamp.ID(num(us.Details["subscription"])) != subID {
		t.Fatalf("revocation %s", dump(us))
	}
	pub := join(t, r, "realm1", nil)
	pub.publish("com.revt", nil)
	revocable.quiet()

	if e := adm.callErr("wamp.subscription.remove_subscriber", subID, revocable.id); e.Error != wamp.ErrNoSuchSubscription {
		t.Fatal(e.Error)
	}
	if e := adm.callErr("wamp.registration.remove_callee", regID, int64(777)); e.Error != wamp.ErrNoSuchSession {
		t.Fatal(e.Error)
	}
}

func TestAdminMetaNeedsMetaAdminInOpenRealms(t *testing.T) {
	r := newRouter(t, RealmConfig{Name: "realm1"})
	victim := join(t, r, "realm1", nil)
	c := join(t, r, "realm1", nil)
	for _, proc := range []string{"wamp.session.kill", "wamp.session.kill_all", "wamp.session.kill_by_authrole",
		"wamp.session.kill_by_authid", "wamp.registration.remove_callee", "wamp.subscription.remove_subscriber"} {
		if e := c.callErr(proc, victim.id); e.Error != wamp.ErrNotAuthorized {
			t.Fatalf("%s: %s", proc, e.Error)
		}
	}
	victim.quiet()
	// Read-only meta procedures stay open.
	if n := num(c.call("wamp.session.count").Arguments[0]); n != 2 {
		t.Fatalf("count %d", n)
	}
}

// TestLocalSessionsAreNotClients: a router-local component (LocalSession,
// as the device-hub bridge uses) is part of the router: the session meta
// API neither counts, lists, gets, kills nor announces it, while its
// registrations still work.
func TestLocalSessionsAreNotClients(t *testing.T) {
	r := newRouter(t, realmWith(t, "realm1", map[string]any{"metaAdmin": true}))
	adm := join(t, r, "realm1", nil)
	w := metaWatcher(t, r)
	lp, lid, err := r.LocalSession("realm1", "component", "component")
	if err != nil {
		t.Fatal(err)
	}
	lp.Send(&wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: "com.local.proc"})
	if _, ok := (<-lp.Recv()).(*wamp.Registered); !ok {
		t.Fatal("the local session could not register")
	}
	if n := num(adm.call("wamp.session.count").Arguments[0]); n != 2 {
		t.Fatalf("count %d, want 2 (the admin and the watcher)", n)
	}
	if l := adm.call("wamp.session.list").Arguments[0].([]any); len(l) != 2 {
		t.Fatalf("list %v", l)
	}
	if e := adm.callErr("wamp.session.get", lid); e.Error != wamp.ErrNoSuchSession {
		t.Fatalf("get of a local session: %v", e.Error)
	}
	if e := adm.callErr("wamp.session.kill", lid); e.Error != wamp.ErrNoSuchSession {
		t.Fatalf("kill of a local session: %v", e.Error)
	}
	// A client's join is announced; the local one was not (the first
	// on_join the watcher sees is the client's).
	c := join(t, r, "realm1", nil)
	if ev := nextMeta(w, "wamp.session.on_join"); wamp.ID(num(ev.Arguments[0].(wamp.Dict)["session"])) != c.id {
		t.Fatalf("on_join for %v, want the client %v", ev.Arguments[0], c.id)
	}
	lp.Close()
}
