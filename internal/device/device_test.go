package device

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
	"skyhub/internal/kv/pebblekv"
)

func newReg(t *testing.T, mut func(*Config)) (*Registry, kv.Store, *atomic.Int64) {
	t.Helper()
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var now atomic.Int64
	now.Store(time.Date(2014, 3, 7, 8, 0, 0, 0, time.UTC).UnixMilli())
	cfg := Config{Store: st, BcryptCost: 4, AuthCacheSize: 2, OfflineMaxMessages: 3, OfflineMaxAge: time.Hour,
		Now: func() time.Time { return time.UnixMilli(now.Load()) }}
	if mut != nil {
		mut(&cfg)
	}
	r, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, st, &now
}

func TestRegisterTokenHashedAndAuthenticate(t *testing.T) {
	r, st, _ := newReg(t, nil)
	ctx := context.Background()
	d, err := r.Register(ctx, Device{"name": "x", "token": "mytoken", "uuid": "my-uuid"}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if d.UUID() != "my-uuid" || d["token"] != "mytoken" || d["online"] != false || d["channel"] != "main" {
		t.Fatalf("register = %v", d)
	}
	raw, _ := st.Get(ctx, []byte("skynet/dev/my-uuid"))
	if strings.Contains(string(raw), "mytoken") || !strings.Contains(string(raw), "$2a$04$") {
		t.Fatalf("token not stored hashed: %s", raw)
	}
	// a taken uuid is replaced by a fresh one
	d2, _ := r.Register(ctx, Device{"uuid": "my-uuid"}, "")
	if d2.UUID() == "my-uuid" || len(d2["token"].(string)) != 40 {
		t.Fatalf("second register = %v", d2)
	}
	if _, err := r.Authenticate(ctx, "my-uuid", "mytoken"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "my-uuid", "mytoken"); err != nil || r.cache.len() != 1 {
		t.Fatalf("cached auth: %v (cache %d)", err, r.cache.len())
	}
	for _, bad := range [][2]string{{"my-uuid", "wrong"}, {"nope", "mytoken"}, {"my-uuid", ""}, {"my", "mytoken"}} {
		if _, err := r.Authenticate(ctx, bad[0], bad[1]); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("auth %v: %v", bad, err)
		}
	}
	// reset token: the old token (cached) stops working
	tok, err := r.ResetToken(ctx, "my-uuid")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, "my-uuid", "mytoken"); err == nil {
		t.Fatal("old token still accepted after reset")
	}
	if _, err := r.Authenticate(ctx, "my-uuid", tok); err != nil {
		t.Fatal(err)
	}
	// long tokens work (bcrypt's 72-byte limit)
	long := strings.Repeat("t", 100)
	d3, err := r.Register(ctx, Device{"token": long}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, d3.UUID(), long); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, d3.UUID(), long[:99]+"u"); err == nil {
		t.Fatal("different long token accepted")
	}
	// the cache stays bounded
	if r.cache.len() > 2 {
		t.Fatalf("cache grew to %d", r.cache.len())
	}
}

func TestUpdateProtectsAndRemoves(t *testing.T) {
	r, _, _ := newReg(t, nil)
	ctx := context.Background()
	d, _ := r.Register(ctx, Device{"color": "green", "size": 3}, "")
	u, err := r.Update(ctx, d.UUID(), Device{"uuid": "other", "token": "t", "_id": "x", "color": "red", "size": ""})
	if err != nil {
		t.Fatal(err)
	}
	if u.UUID() != d.UUID() || u["_id"] != d["_id"] || u["color"] != "red" || u["size"] != nil || u["token"] != nil {
		t.Fatalf("update = %v", u)
	}
	if _, err := r.Authenticate(ctx, d.UUID(), d["token"].(string)); err != nil {
		t.Fatal("token changed by update")
	}
	if _, err := r.Update(ctx, "missing", Device{"a": 1}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("update missing: %v", err)
	}
}

func TestAllowed(t *testing.T) {
	to := Device{"uuid": "t", "owner": "o"}
	for _, p := range []Permission{Discover, Send, Receive} {
		if !Allowed(p, "x", to) || !Allowed(p, "", to) {
			t.Errorf("%s not open by default", p)
		}
	}
	if Allowed(Configure, "x", to) || !Allowed(Configure, "o", to) || !Allowed(Configure, "t", to) {
		t.Error("configure rules")
	}
	wl := Device{"uuid": "t", "sendWhitelist": []any{"a"}, "discoverWhitelist": []any{"*"}, "receiveBlacklist": []any{"b"}}
	if !Allowed(Send, "a", wl) || Allowed(Send, "x", wl) || Allowed(Send, "", wl) {
		t.Error("sendWhitelist")
	}
	if !Allowed(Discover, "anyone", wl) || Allowed(Receive, "b", wl) || !Allowed(Receive, "c", wl) {
		t.Error("discover * / receive blacklist")
	}
	if !Allowed(Configure, "a", Device{"uuid": "t", "configureWhitelist": []any{map[string]any{"uuid": "a"}}}) {
		t.Error("object whitelist entries")
	}
}

func TestEventsNewestFirstAndIndexed(t *testing.T) {
	r, _, now := newReg(t, nil)
	ctx := context.Background()
	for i := 0; i < 15; i++ {
		now.Add(1)
		r.LogEvent(ctx, EvMessage, Device{"devices": []any{"a", "b"}, "fromUuid": "c", "n": i, "token": "secret"})
	}
	r.LogEvent(ctx, EvMessage, Device{"devices": "*", "fromUuid": "z"})
	evs, err := r.Events(ctx, "b", 10)
	if err != nil || len(evs) != 10 {
		t.Fatalf("events: %v %d", err, len(evs))
	}
	if evs[0]["n"].(interface{ String() string }).String() != "14" || evs[0]["token"] != nil || evs[0]["eventCode"].(interface{ String() string }).String() != "300" {
		t.Fatalf("newest = %v", evs[0])
	}
	if e, _ := r.Events(ctx, "z", 10); len(e) != 1 {
		t.Fatalf("broadcast indexed under its sender: %v", e)
	}
	// a new registry continues the sequence (no key reuse after restart)
	r2, err := New(ctx, r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r2.LogEvent(ctx, EvMessage, Device{"uuid": "b", "n": 99})
	if e, _ := r2.Events(ctx, "b", 1); e[0]["n"].(interface{ String() string }).String() != "99" {
		t.Fatalf("after reopen newest = %v", e)
	}
}

func TestOfflineQueueBoundAgeAndOrder(t *testing.T) {
	r, _, now := newReg(t, nil)
	ctx := context.Background()
	d, _ := r.Register(ctx, Device{"offlineQueue": true}, "")
	u := d.UUID()
	if !OptedIn(d) {
		t.Fatal("opt-in not seen")
	}
	for i := 0; i < 3; i++ {
		if err := r.Enqueue(ctx, u, Device{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Enqueue(ctx, u, Device{"n": 3}); !errs.Is(err, errs.Unavailable) {
		t.Fatalf("full queue accepted: %v", err)
	}
	// after the max age the old ones expire and make room
	now.Add((2 * time.Hour).Milliseconds())
	if err := r.Enqueue(ctx, u, Device{"n": 4}); err != nil {
		t.Fatal(err)
	}
	var got []string
	n, err := r.Drain(ctx, u, func(m Device) error {
		got = append(got, m["n"].(interface{ String() string }).String())
		return nil
	})
	if err != nil || n != 1 || strings.Join(got, ",") != "4" {
		t.Fatalf("drain: %d %v %v", n, got, err)
	}
	// order, and a failed delivery keeps the rest queued
	for i := 0; i < 3; i++ {
		r.Enqueue(ctx, u, Device{"n": i})
	}
	got = nil
	r.Drain(ctx, u, func(m Device) error {
		if len(got) == 1 {
			return errs.E("test", errs.Unavailable)
		}
		got = append(got, m["n"].(interface{ String() string }).String())
		return nil
	})
	got = nil
	r.Drain(ctx, u, func(m Device) error {
		got = append(got, m["n"].(interface{ String() string }).String())
		return nil
	})
	if strings.Join(got, ",") != "1,2" {
		t.Fatalf("after partial drain: %v", got)
	}
	if l, _ := r.QueueLen(ctx, u); l != 0 {
		t.Fatalf("queue len %d", l)
	}
}

func TestSensorData(t *testing.T) {
	r, _, now := newReg(t, nil)
	ctx := context.Background()
	start := time.UnixMilli(now.Load())
	for i := 0; i < 5; i++ {
		now.Add(1000)
		if _, err := r.WriteData(ctx, "dev", Device{"temp": i, "token": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := r.ReadData(ctx, "dev", time.Time{}, time.Time{}, 10)
	if len(all) != 5 || all[0]["token"] != nil {
		t.Fatalf("all = %v", all)
	}
	win, _ := r.ReadData(ctx, "dev", start.Add(2*time.Second), start.Add(4*time.Second), 10)
	if len(win) != 3 {
		t.Fatalf("window = %v", win)
	}
	lim, _ := r.ReadData(ctx, "dev", time.Time{}, time.Time{}, 2)
	if len(lim) != 2 || lim[0]["temp"].(interface{ String() string }).String() != "4" {
		t.Fatalf("limit = %v", lim)
	}
}

func TestConcurrentAuthSharesOneBcrypt(t *testing.T) {
	r, _, _ := newReg(t, func(c *Config) { c.AuthCacheSize = 10 })
	ctx := context.Background()
	d, _ := r.Register(ctx, Device{}, "")
	rec, _ := r.load(ctx, d.UUID())
	var calls atomic.Int32
	release := make(chan struct{})
	results := make(chan bool, 8)
	for i := 0; i < 8; i++ {
		go func() {
			// as Authenticate: the cache first, then the shared comparison
			if r.cache.ok(d.UUID(), d["token"].(string), rec.Hash) {
				results <- true
				return
			}
			results <- r.cache.verify(d.UUID(), d["token"].(string), rec.Hash, func() bool {
				calls.Add(1)
				<-release
				return true
			})
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	for i := 0; i < 8; i++ {
		if !<-results {
			t.Fatal("verify failed")
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d bcrypt comparisons for one credential burst", n)
	}
}

func TestEventLogTrimmed(t *testing.T) {
	r, st, _ := newReg(t, func(c *Config) { c.EventLogMax = 100 })
	ctx := context.Background()
	for i := 0; i < 3*trimEvery; i++ {
		if _, err := r.LogEvent(ctx, EvMessage, Device{"uuid": "a", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	kv.Scan(ctx, st, kv.Prefix([]byte(pEv)), func(_, _ []byte) bool { n++; return true })
	if n > trimEvery+100 {
		t.Fatalf("%d events kept with EventLogMax 100", n)
	}
	evs, err := r.Events(ctx, "a", 10)
	if err != nil || len(evs) != 10 || evs[0]["n"].(interface{ String() string }).String() != "3071" {
		t.Fatalf("newest after trim: %v %v", err, evs)
	}
	// reading past the trimmed part drops the stale index entries
	all, _ := r.Events(ctx, "a", 5000)
	idx := 0
	kv.Scan(ctx, st, kv.Prefix([]byte(pEvx+"a/")), func(_, _ []byte) bool { idx++; return true })
	if idx != len(all) {
		t.Fatalf("index %d entries for %d live events", idx, len(all))
	}
}

func TestSubscriptionsStoredAndCleanedOnUnregister(t *testing.T) {
	r, _, _ := newReg(t, nil)
	ctx := context.Background()
	a, _ := r.Register(ctx, Device{}, "")
	b, _ := r.Register(ctx, Device{}, "")
	if typ, ok := CanonicalSubType("message.received"); !ok || typ != "received" {
		t.Fatal(typ)
	}
	if _, ok := CanonicalSubType("nope"); ok {
		t.Fatal("unknown type accepted")
	}
	r.AddSubscription(ctx, b.UUID(), a.UUID(), "broadcast")
	r.AddSubscription(ctx, b.UUID(), a.UUID(), "broadcast") // idempotent
	r.AddSubscription(ctx, a.UUID(), b.UUID(), "sent")
	if s, _ := r.Subscribers(ctx, a.UUID(), "broadcast"); len(s) != 1 || s[0] != b.UUID() {
		t.Fatalf("subscribers = %v", s)
	}
	if l, _ := r.Subscriptions(ctx, b.UUID()); len(l) != 1 || l[0].EmitterUUID != a.UUID() || l[0].Type != "broadcast" {
		t.Fatalf("subscriptions = %v", l)
	}
	if err := r.Unregister(ctx, b.UUID()); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Subscribers(ctx, a.UUID(), "broadcast"); len(s) != 0 {
		t.Fatalf("subscriber kept after unregister: %v", s)
	}
	if s, _ := r.Subscribers(ctx, b.UUID(), "sent"); len(s) != 0 {
		t.Fatalf("emitter's subscriptions kept after unregister: %v", s)
	}
}

// TestSubscribersCacheSeesEveryWrite: Subscribers is cached, and every
// subscription write (add, remove, unregister of either side) is visible
// to the next call.
func TestSubscribersCacheSeesEveryWrite(t *testing.T) {
	r, _, _ := newReg(t, nil)
	ctx := context.Background()
	em, _ := r.Register(ctx, Device{"uuid": "emitter-1"}, "")
	a, _ := r.Register(ctx, Device{"uuid": "sub-a"}, "")
	b, _ := r.Register(ctx, Device{"uuid": "sub-b"}, "")
	e := em["uuid"].(string)
	want := func(step string, n int) {
		t.Helper()
		for i := 0; i < 2; i++ { // the second call is answered from the cache
			got, err := r.Subscribers(ctx, e, "broadcast")
			if err != nil || len(got) != n {
				t.Fatalf("%s (call %d): %v %v, want %d subscribers", step, i+1, got, err, n)
			}
		}
	}
	want("none yet", 0)
	if err := r.AddSubscription(ctx, a["uuid"].(string), e, "broadcast"); err != nil {
		t.Fatal(err)
	}
	want("after add", 1)
	if err := r.AddSubscription(ctx, b["uuid"].(string), e, "broadcast"); err != nil {
		t.Fatal(err)
	}
	want("after second add", 2)
	if err := r.RemoveSubscription(ctx, a["uuid"].(string), e, "broadcast"); err != nil {
		t.Fatal(err)
	}
	want("after remove", 1)
	if err := r.Unregister(ctx, b["uuid"].(string)); err != nil {
		t.Fatal(err)
	}
	want("after the subscriber unregistered", 0)
}
