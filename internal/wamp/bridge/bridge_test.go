package bridge

import (
	"context"
	"sync"
	"testing"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/hub"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/wamp"
	"skyhub/internal/wamp/inproc"
	"skyhub/internal/wamp/router"
)

type endpoint struct {
	mu  sync.Mutex
	got []device.Device
}

func (e *endpoint) Deliver(event string, payload any, reply func(args ...any)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m, ok := payload.(device.Device); ok && event == "message" {
		e.got = append(e.got, m)
	}
	return nil
}

func (e *endpoint) messages() []device.Device {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]device.Device(nil), e.got...)
}

type client struct {
	t   *testing.T
	p   wamp.Peer
	req wamp.ID
}

func (c *client) next() wamp.ID { c.req++; return c.req }

func (c *client) recv() wamp.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.p.Recv():
		if !ok {
			c.t.Fatal("closed")
		}
		return m
	case <-time.After(3 * time.Second):
		c.t.Fatal("timeout")
	}
	return nil
}

func setup(t *testing.T) (*hub.Hub, *device.Registry, *router.Router, *client) {
	t.Helper()
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := device.New(context.Background(), device.Config{Store: st, BcryptCost: 4, OfflineMaxMessages: 100})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Registry: reg})
	// A realm that refuses anonymous callers anything: the bridge's local
	// session is trusted, the test client gets explicit permissions.
	r, err := router.New(router.Config{Realms: []router.RealmConfig{{Name: "realm1",
		Settings: []byte(`{"roles":{"anonymous":{"permissions":[{"uri":"skynet.","match":"prefix","call":true,"subscribe":true}]}}}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	b, err := Start(context.Background(), Config{Hub: h, Router: r})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	cp, sp := inproc.Pipe(0)
	go r.Accept(sp)
	t.Cleanup(cp.Close)
	c := &client{t: t, p: cp}
	_ = cp.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": wamp.Dict{"subscriber": wamp.Dict{}, "caller": wamp.Dict{}}}})
	if _, ok := c.recv().(*wamp.Welcome); !ok {
		t.Fatal("no WELCOME")
	}
	return h, reg, r, c
}

func register(t *testing.T, reg *device.Registry) (uuid, token string) {
	d, err := reg.Register(context.Background(), device.Device{}, "")
	if err != nil {
		t.Fatal(err)
	}
	return d.UUID(), d["token"].(string)
}

func TestDeviceMessagesBecomeEvents(t *testing.T) {
	h, reg, _, c := setup(t)
	a, _ := register(t, reg)
	b, _ := register(t, reg)
	subs := map[wamp.ID]string{}
	for _, topic := range []string{"skynet.message", "skynet.device." + b + ".message", "skynet.device." + a + ".sent"} {
		req := c.next()
		_ = c.p.Send(&wamp.Subscribe{Request: req, Options: wamp.Dict{}, Topic: wamp.URI(topic)})
		s, ok := c.recv().(*wamp.Subscribed)
		if !ok {
			t.Fatalf("subscribe %s refused", topic)
		}
		subs[s.Subscription] = topic
	}
	if _, err := h.Send(context.Background(), a, device.Device{"devices": b, "payload": "hi"}, hub.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 3 {
		ev, ok := c.recv().(*wamp.Event)
		if !ok {
			t.Fatal("not an event")
		}
		if ev.ArgumentsKw["payload"] != "hi" || ev.ArgumentsKw["fromUuid"] != a {
			t.Fatalf("event %v", ev.ArgumentsKw)
		}
		seen[subs[ev.Subscription]] = true
	}
	if len(seen) != 3 {
		t.Fatalf("events on %v", seen)
	}
}

func TestWAMPCallerMessagesDevices(t *testing.T) {
	h, reg, _, c := setup(t)
	a, tokA := register(t, reg)
	b, _ := register(t, reg)
	ep := &endpoint{}
	if err := h.Connect(context.Background(), b, ep, "", "test"); err != nil {
		t.Fatal(err)
	}
	call := func(kw wamp.Dict) wamp.Message {
		_ = c.p.Send(&wamp.Call{Request: c.next(), Options: wamp.Dict{}, Procedure: "skynet.message", ArgumentsKw: kw})
		return c.recv()
	}
	res, ok := call(wamp.Dict{"devices": b, "payload": "from wamp", "uuid": a, "token": tokA}).(*wamp.Result)
	if !ok {
		t.Fatal("call failed")
	}
	if n, _ := wamp.Int(res.ArgumentsKw["delivered"]); n != 1 {
		t.Fatalf("result %v", res.ArgumentsKw)
	}
	got := ep.messages()
	if len(got) != 1 || got[0]["payload"] != "from wamp" || got[0]["fromUuid"] != a {
		t.Fatalf("device got %v", got)
	}
	if _, leaked := got[0]["token"]; leaked {
		t.Fatal("token forwarded to the device")
	}

	cases := []struct {
		kw   wamp.Dict
		want wamp.URI
	}{
		{wamp.Dict{"devices": b, "uuid": a, "token": "wrong"}, wamp.ErrNotAuthorized},
		{wamp.Dict{"payload": 1}, wamp.ErrInvalidArgument},
		{wamp.Dict{"devices": "no-such-device"}, "skynet.error.no_such_device"},
	}
	for _, tc := range cases {
		e, ok := call(tc.kw).(*wamp.Error)
		if !ok || e.Error != tc.want {
			t.Fatalf("%v: got %#v, want ERROR %s", tc.kw, e, tc.want)
		}
	}
}

// TestOnlyWantedTopicsArePublished: the bridge skips topics nobody
// subscribes to, yet prefix and wildcard subscriptions and a realm's event
// history still get theirs (Router.Wanted is asked per topic).
func TestOnlyWantedTopicsArePublished(t *testing.T) {
	_, reg, r, c := setup(t)
	a, _ := register(t, reg)
	b, _ := register(t, reg)
	if r.Wanted("realm1", "skynet.message") || r.Wanted("realm1", wamp.URI("skynet.device."+b+".message")) {
		t.Fatal("wanted without a subscriber")
	}
	if r.Wanted("nope", "skynet.message") {
		t.Fatal("wanted in an unknown realm")
	}
	sub := func(topic, match string) {
		_ = c.p.Send(&wamp.Subscribe{Request: c.next(), Options: wamp.Dict{"match": match}, Topic: wamp.URI(topic)})
		if _, ok := c.recv().(*wamp.Subscribed); !ok {
			t.Fatalf("subscribe %s refused", topic)
		}
	}
	sub("skynet.device.", "prefix")
	sub("skynet.device..sent", "wildcard")
	for _, topic := range []string{"skynet.device." + b + ".message", "skynet.device." + a + ".sent"} {
		if !r.Wanted("realm1", wamp.URI(topic)) {
			t.Fatalf("%s not wanted", topic)
		}
	}
	if r.Wanted("realm1", "skynet.message") {
		t.Fatal("skynet.message wanted with only device subscriptions")
	}

	// A realm with event history on skynet.message wants it without subscribers.
	hr, err := router.New(router.Config{Realms: []router.RealmConfig{{Name: "h",
		Settings: []byte(`{"eventHistory":[{"uri":"skynet.message","limit":10}]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Close(context.Background())
	if !hr.Wanted("h", "skynet.message") || hr.Wanted("h", "skynet.other") {
		t.Fatal("history does not decide Wanted")
	}
}
