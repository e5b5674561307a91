package router

import (
	"sync"
	"sync/atomic"
	"testing"

	"skyhub/internal/wamp"
)

// Benchmarks through in-process peers: the router's own cost plus the
// inproc pipe. Socket-level comparisons with nexus live under bench/wamp.

func benchRouter(b *testing.B) *Router {
	r, err := New(Config{Realms: []RealmConfig{{Name: "realm1"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close(b.Context()) })
	return r
}

func joinB(b *testing.B, r *Router) *client {
	b.Helper()
	tb := &client{}
	cp, sp := inprocPipe()
	go r.Accept(sp)
	b.Cleanup(cp.Close)
	tb.p = cp
	_ = cp.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": fullRoles()}})
	m := <-cp.Recv()
	w, ok := m.(*wamp.Welcome)
	if !ok {
		b.Fatalf("join: %s", dump(m))
	}
	tb.id = w.Session
	return tb
}

func benchCallees(b *testing.B, r *Router, n int) {
	for range n {
		c := joinB(b, r)
		c.req++
		_ = c.p.Send(&wamp.Register{Request: c.req, Options: wamp.Dict{"invoke": "roundrobin"}, Procedure: "com.echo"})
		if _, ok := (<-c.p.Recv()).(*wamp.Registered); !ok {
			b.Fatal("register failed")
		}
		go func() {
			for m := range c.p.Recv() {
				if inv, ok := m.(*wamp.Invocation); ok {
					_ = c.p.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: inv.Arguments})
				}
			}
		}()
	}
}

func BenchmarkCall(b *testing.B) {
	r := benchRouter(b)
	benchCallees(b, r, 1)
	c := joinB(b, r)
	args := wamp.List{"0123456789012345678901234567890123456789012345678901234567890123"}
	b.ReportAllocs()
	for b.Loop() {
		c.req++
		_ = c.p.Send(&wamp.Call{Request: c.req, Options: wamp.Dict{}, Procedure: "com.echo", Arguments: args})
		if _, ok := (<-c.p.Recv()).(*wamp.Result); !ok {
			b.Fatal("no result")
		}
	}
}

func BenchmarkCallParallel16(b *testing.B) {
	r := benchRouter(b)
	benchCallees(b, r, 4)
	callers := make(chan *client, 16)
	for range 16 {
		callers <- joinB(b, r)
	}
	args := wamp.List{"0123456789012345678901234567890123456789012345678901234567890123"}
	b.ReportAllocs()
	b.SetParallelism(8) // 16 goroutines on 2 cores, one caller session each
	b.RunParallel(func(pb *testing.PB) {
		c := <-callers
		for pb.Next() {
			c.req++
			_ = c.p.Send(&wamp.Call{Request: c.req, Options: wamp.Dict{}, Procedure: "com.echo", Arguments: args})
			if _, ok := (<-c.p.Recv()).(*wamp.Result); !ok {
				b.Error("no result")
				return
			}
		}
		callers <- c
	})
}

// BenchmarkPublishFanout16: one op is one publication delivered to 16
// subscribers (so deliveries/s = 16 × ops/s).
func BenchmarkPublishFanout16(b *testing.B) {
	r := benchRouter(b)
	const subs = 16
	var got atomic.Int64
	var wg sync.WaitGroup
	for range subs {
		c := joinB(b, r)
		c.req++
		_ = c.p.Send(&wamp.Subscribe{Request: c.req, Options: wamp.Dict{}, Topic: "com.t"})
		if _, ok := (<-c.p.Recv()).(*wamp.Subscribed); !ok {
			b.Fatal("subscribe failed")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range c.p.Recv() {
				if _, ok := m.(*wamp.Event); ok {
					got.Add(1)
				}
			}
		}()
	}
	pub := joinB(b, r)
	args := wamp.List{"0123456789012345678901234567890123456789012345678901234567890123"}
	b.ReportAllocs()
	n := int64(0)
	for b.Loop() {
		pub.req++
		n++
		_ = pub.p.Send(&wamp.Publish{Request: pub.req, Options: wamp.Dict{}, Topic: "com.t", Arguments: args})
	}
	// Wait for every delivery: a dropped event would hang here.
	pub.req++
	_ = pub.p.Send(&wamp.Publish{Request: pub.req, Options: wamp.Dict{"acknowledge": true}, Topic: "com.none"})
	<-pub.p.Recv()
	for got.Load() < n*subs {
		runtimeGosched()
	}
	b.ReportMetric(float64(n*subs)/b.Elapsed().Seconds(), "deliveries/s")
}
