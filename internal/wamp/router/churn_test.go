package router

import (
	"runtime"
	"testing"
	"time"

	"skyhub/internal/wamp"
)

// TestChurnLeavesNoState: sessions that subscribe, register, call and then
// leave (cleanly or by dropping the connection) leave no routing state,
// calls in flight or goroutines behind (specs/wamp.md S9).
func TestChurnLeavesNoState(t *testing.T) {
	r := newRouter(t)
	before := runtime.NumGoroutine()
	callee := join(t, r, "realm1", nil)
	callee.register("com.hold", nil) // never answers: calls stay in flight
	for i := range 50 {
		c := join(t, r, "realm1", nil)
		c.subscribe("com.t", nil)
		c.subscribe("com.", wamp.Dict{"match": "prefix"})
		c.register("com.p"+string(rune('a'+i%26))+string(rune('a'+i/26)), nil)
		c.callRaw("com.hold", wamp.Dict{"timeout": int64(60000)})
		c.call("wamp.session.add_testament", "org.will", wamp.List{}, wamp.Dict{})
		if i%2 == 0 {
			c.leave()
		}
		c.p.Close()
	}
	eventually(t, "one session left", func() bool { return r.SessionCount() == 1 })
	rl := r.realm("realm1")
	rl.broker.mu.RLock()
	nsubs := len(rl.broker.byID)
	rl.broker.mu.RUnlock()
	rl.dealer.mu.RLock()
	nregs := len(rl.dealer.byID)
	rl.dealer.mu.RUnlock()
	if nsubs != 0 || nregs != 1 {
		t.Fatalf("%d subscriptions and %d registrations left, want 0 and 1", nsubs, nregs)
	}
	// The callee's invocations were settled (interrupted), not leaked.
	var s *session
	for _, x := range rl.sessionList() {
		s = x
	}
	s.mu.Lock()
	ninv := len(s.invs)
	s.mu.Unlock()
	// Interrupted invocations stay with the callee until it answers them
	// (a late answer is then discarded, not a protocol violation); they
	// go with the callee.
	if ninv != 50 {
		t.Fatalf("%d invocations pending at the callee, want 50", ninv)
	}
	callee.p.Close()
	eventually(t, "no sessions", func() bool { return r.SessionCount() == 0 })
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
