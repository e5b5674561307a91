package router

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"skyhub/internal/wamp"
	"skyhub/internal/wamp/inproc"
)

// fullRoles announces every client feature the tests use.
func fullRoles() wamp.Dict {
	f := func(names ...string) wamp.Dict {
		d := wamp.Dict{}
		for _, n := range names {
			d[n] = true
		}
		return wamp.Dict{"features": d}
	}
	return wamp.Dict{
		"publisher":  f("publisher_exclusion", "publisher_identification", "subscriber_blackwhite_listing"),
		"subscriber": f("pattern_based_subscription", "publisher_identification"),
		"caller":     f("progressive_call_results", "call_canceling", "call_timeout", "caller_identification"),
		"callee":     f("progressive_call_results", "call_canceling", "call_timeout", "caller_identification", "pattern_based_registration", "shared_registration"),
	}
}

func newRouter(t *testing.T, realms ...RealmConfig) *Router {
	t.Helper()
	if len(realms) == 0 {
		realms = []RealmConfig{{Name: "realm1", Settings: []byte(`{"metaAdmin":true}`)}}
	}
	r, err := New(Config{Realms: realms, HelloTimeout: 2 * time.Second, CallTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("router close: %v", err)
		}
	})
	return r
}

func realmWith(t *testing.T, name string, settings any) RealmConfig {
	b, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	return RealmConfig{Name: name, Settings: b}
}

// client is a raw in-process WAMP client.
type client struct {
	t   *testing.T
	p   wamp.Peer
	id  wamp.ID
	req wamp.ID
	wel *wamp.Welcome
}

func connect(t *testing.T, r *Router) *client {
	t.Helper()
	cp, sp := inproc.Pipe(0)
	go r.Accept(sp)
	t.Cleanup(cp.Close)
	return &client{t: t, p: cp}
}

// join opens a session with the full feature set; extra is merged into
// HELLO.Details.
func join(t *testing.T, r *Router, realm string, extra wamp.Dict) *client {
	t.Helper()
	c := connect(t, r)
	d := wamp.Dict{"roles": fullRoles()}
	for k, v := range extra {
		d[k] = v
	}
	c.send(&wamp.Hello{Realm: wamp.URI(realm), Details: d})
	w := expect[*wamp.Welcome](c)
	c.id, c.wel = w.Session, w
	return c
}

func (c *client) send(m wamp.Message) {
	c.t.Helper()
	if err := c.p.Send(m); err != nil {
		c.t.Fatalf("send %s: %v", m.MessageType(), err)
	}
}

func (c *client) next() wamp.ID { c.req++; return c.req }

func (c *client) recv() wamp.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.p.Recv():
		if !ok {
			c.t.Fatal("connection closed while waiting for a message")
		}
		return m
	case <-time.After(3 * time.Second):
		c.t.Fatal("timed out waiting for a message")
	}
	return nil
}

func expect[T wamp.Message](c *client) T {
	c.t.Helper()
	m := c.recv()
	v, ok := m.(T)
	if !ok {
		var zero T
		c.t.Fatalf("got %s %s, want %T", m.MessageType(), dump(m), zero)
	}
	return v
}

func dump(m wamp.Message) string {
	b, _ := json.Marshal(wamp.ToList(m))
	return string(b)
}

// quiet asserts that nothing arrives for a short while.
func (c *client) quiet() {
	c.t.Helper()
	select {
	case m, ok := <-c.p.Recv():
		if ok {
			c.t.Fatalf("unexpected %s", dump(m))
		}
	case <-time.After(60 * time.Millisecond):
	}
}

// closed asserts the router closed the connection.
func (c *client) closed() {
	c.t.Helper()
	select {
	case m, ok := <-c.p.Recv():
		if ok {
			c.t.Fatalf("expected close, got %s", dump(m))
		}
	case <-time.After(3 * time.Second):
		c.t.Fatal("connection not closed")
	}
}

func (c *client) abort(reason wamp.URI) *wamp.Abort {
	c.t.Helper()
	a := expect[*wamp.Abort](c)
	if a.Reason != reason {
		c.t.Fatalf("ABORT %s, want %s (%v)", a.Reason, reason, a.Details)
	}
	c.closed()
	return a
}

func (c *client) register(proc string, opts wamp.Dict) wamp.ID {
	c.t.Helper()
	req := c.next()
	c.send(&wamp.Register{Request: req, Options: opts, Procedure: wamp.URI(proc)})
	r := expect[*wamp.Registered](c)
	if r.Request != req {
		c.t.Fatalf("REGISTERED for %d, want %d", r.Request, req)
	}
	return r.Registration
}

func (c *client) subscribe(topic string, opts wamp.Dict) wamp.ID {
	c.t.Helper()
	req := c.next()
	c.send(&wamp.Subscribe{Request: req, Options: opts, Topic: wamp.URI(topic)})
	r := expect[*wamp.Subscribed](c)
	if r.Request != req {
		c.t.Fatalf("SUBSCRIBED for %d, want %d", r.Request, req)
	}
	return r.Subscription
}

func (c *client) publish(topic string, opts wamp.Dict, args ...any) wamp.ID {
	c.t.Helper()
	req := c.next()
	if opts == nil {
		opts = wamp.Dict{}
	}
	opts["acknowledge"] = true
	c.send(&wamp.Publish{Request: req, Options: opts, Topic: wamp.URI(topic), Arguments: args})
	p := expect[*wamp.Published](c)
	if p.Request != req {
		c.t.Fatalf("PUBLISHED for %d, want %d", p.Request, req)
	}
	return p.Publication
}

// callRaw sends CALL and returns its request id.
func (c *client) callRaw(proc string, opts wamp.Dict, args ...any) wamp.ID {
	c.t.Helper()
	req := c.next()
	if opts == nil {
		opts = wamp.Dict{}
	}
	c.send(&wamp.Call{Request: req, Options: opts, Procedure: wamp.URI(proc), Arguments: args})
	return req
}

// call performs a call answered by the router (meta procedures) or by a
// callee served elsewhere; it returns the RESULT or fails on ERROR.
func (c *client) call(proc string, args ...any) *wamp.Result {
	c.t.Helper()
	req := c.callRaw(proc, nil, args...)
	m := c.recv()
	res, ok := m.(*wamp.Result)
	if !ok || res.Request != req {
		c.t.Fatalf("call %s: got %s", proc, dump(m))
	}
	return res
}

func (c *client) callErr(proc string, args ...any) *wamp.Error {
	c.t.Helper()
	req := c.callRaw(proc, nil, args...)
	e := expect[*wamp.Error](c)
	if e.Request != req || e.Type != wamp.CALL {
		c.t.Fatalf("ERROR for %d/%d, want CALL/%d", e.Type, e.Request, req)
	}
	return e
}

// serve answers n invocations with f on a goroutine.
func (c *client) serve(f func(inv *wamp.Invocation) wamp.Message) {
	go func() {
		for m := range c.p.Recv() {
			inv, ok := m.(*wamp.Invocation)
			if !ok {
				continue
			}
			if out := f(inv); out != nil {
				_ = c.p.Send(out)
			}
		}
	}()
}

func (c *client) leave() {
	c.t.Helper()
	c.send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal})
	g := expect[*wamp.Goodbye](c)
	if g.Reason != wamp.CloseGoodbyeAndOut {
		c.t.Fatalf("GOODBYE reason %s", g.Reason)
	}
}

func num(v any) int64 {
	n, ok := wamp.Int(v)
	if !ok {
		panic(fmt.Sprintf("not a number: %#v", v))
	}
	return n
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
