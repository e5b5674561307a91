package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/skynet/realtime"
)

type ep struct {
	mu  sync.Mutex
	got []device.Device
	evs []string
}

func (e *ep) Deliver(event string, payload any, reply func(args ...any)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, event)
	switch m := payload.(type) {
	case device.Device:
		e.got = append(e.got, m)
	case realtime.Encoded: // messages arrive rendered once for every recipient
		var d device.Device
		if err := json.Unmarshal(m, &d); err != nil {
			panic("hub delivered invalid JSON: " + err.Error())
		}
		e.got = append(e.got, d)
	}
	return nil
}

func (e *ep) n() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.got) }

func setup(t *testing.T, cfg Config) (*Hub, *device.Registry) {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := device.New(context.Background(), device.Config{Store: st, BcryptCost: 4, OfflineMaxMessages: 100})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Registry = reg
	return New(cfg), reg
}

func reg(t *testing.T, r *device.Registry, f device.Device) string {
	d, err := r.Register(context.Background(), f, "")
	if err != nil {
		t.Fatal(err)
	}
	return d.UUID()
}

func TestSendListObserveAndWhitelist(t *testing.T) {
	h, r := setup(t, Config{})
	ctx := context.Background()
	a, b := reg(t, r, device.Device{}), reg(t, r, device.Device{})
	c := reg(t, r, device.Device{"sendWhitelist": []any{a}})
	eb, ec := &ep{}, &ep{}
	h.Connect(ctx, b, eb, "", "test")
	h.Connect(ctx, c, ec, "", "test")
	var seen []Delivery
	cancel := h.Observe(func(d Delivery) { seen = append(seen, d) })
	res, err := h.Send(ctx, a, device.Device{"devices": []any{b, c}, "payload": 1, "token": "x"}, SendOptions{})
	if err != nil || res.Delivered != 2 {
		t.Fatalf("send: %+v %v", res, err)
	}
	if eb.got[0]["fromUuid"] != a || eb.got[0]["token"] != nil {
		t.Fatalf("delivered %v", eb.got[0])
	}
	if len(seen) != 1 || seen[0].From != a || len(seen[0].Targets) != 2 {
		t.Fatalf("observed %+v", seen)
	}
	cancel()
	// b may not send to c: refused as a whole, nothing delivered
	if _, err := h.Send(ctx, b, device.Device{"devices": []any{a, c}}, SendOptions{}); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("whitelist: %v", err)
	}
	if ec.n() != 1 || len(seen) != 1 {
		t.Fatal("refused message was delivered or observed")
	}
}

func TestBroadcastToAll(t *testing.T) {
	h, r := setup(t, Config{BroadcastToAll: true})
	ctx := context.Background()
	a, b := reg(t, r, device.Device{}), reg(t, r, device.Device{})
	ea, eb := &ep{}, &ep{}
	h.Connect(ctx, a, ea, "", "")
	h.Connect(ctx, b, eb, "", "")
	if _, err := h.Send(ctx, a, device.Device{"devices": "all", "payload": "x"}, SendOptions{}); err != nil {
		t.Fatal(err)
	}
	count := func(e *ep) (n int) {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, m := range e.got {
			if m["payload"] == "x" {
				n++
			}
		}
		return n
	}
	if count(eb) != 1 || count(ea) != 0 {
		t.Fatalf("broadcast to all: a=%d b=%d", count(ea), count(eb))
	}
	// with BroadcastToAll, device-status reaches everyone too (a saw b come online)
	if ea.n() != 1 || ea.got[0]["topic"] != "device-status" {
		t.Fatalf("a got %v", ea.got)
	}
}

func TestQueueOrderWithConcurrentSends(t *testing.T) {
	h, r := setup(t, Config{})
	ctx := context.Background()
	a, b := reg(t, r, device.Device{}), reg(t, r, device.Device{"offlineQueue": true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40; i++ {
			if _, err := h.Send(ctx, a, device.Device{"devices": b, "n": i}, SendOptions{NoLog: true}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	time.Sleep(2 * time.Millisecond)
	e := &ep{}
	h.Connect(ctx, b, e, "", "")
	<-done
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.got) != 40 {
		t.Fatalf("got %d of 40", len(e.got))
	}
	for i, m := range e.got {
		if m["n"] != i && m["n"] != float64(i) && !numIs(m["n"], i) {
			t.Fatalf("message %d out of order: %v", i, m["n"])
		}
	}
}

func numIs(v any, i int) bool {
	type stringer interface{ String() string }
	s, ok := v.(stringer)
	return ok && s.String() == itoa(i)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(2, 0, func() time.Time { return now })
	if !l.allow("k") || !l.allow("k") || l.allow("k") {
		t.Fatal("burst of 2")
	}
	now = now.Add(500 * time.Millisecond)
	if !l.allow("k") || l.allow("k") {
		t.Fatal("refill at 2/s")
	}
	if !l.allow("other") {
		t.Fatal("buckets are per key")
	}
	off := newLimiter(0, 0, time.Now)
	for i := 0; i < 100; i++ {
		if !off.allow("k") {
			t.Fatal("rate 0 must not limit")
		}
	}
}

// BenchmarkSendDirect: one direct message to an online device, logged
// (one fsync-less in-memory kv write per message here; the disk figures are
// bench/skynet's).
func BenchmarkSendDirect(b *testing.B) {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r, _ := device.New(context.Background(), device.Config{Store: st, BcryptCost: 4})
	h := New(Config{Registry: r})
	ctx := context.Background()
	a, _ := r.Register(ctx, device.Device{}, "")
	t, _ := r.Register(ctx, device.Device{}, "")
	h.Connect(ctx, t.UUID(), discard{}, "", "")
	msg := device.Device{"devices": t.UUID(), "payload": map[string]any{"temperature": 21.5}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Send(ctx, a.UUID(), msg, SendOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type discard struct{}

func (discard) Deliver(string, any, func(...any)) error { return nil }

// BenchmarkSendDirectDisk: as BenchmarkSendDirect on an on-disk store
// (fsynced writes), 1,000 sender/receiver pairs, many senders at once (as
// 1,000 devices would): what a live message costs when its event-log entry
// shares the store with everything else.
func BenchmarkSendDirectDisk(b *testing.B) {
	benchSendPairs(b, pebblekv.Config{Dir: b.TempDir()})
}

// BenchmarkSendDirectPairs: the same on an in-memory store, where the
// hub's own locks and routing show rather than the disk.
func BenchmarkSendDirectPairs(b *testing.B) {
	benchSendPairs(b, pebblekv.Config{InMemory: true})
}

func benchSendPairs(b *testing.B, cfg pebblekv.Config) {
	st, err := pebblekv.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r, _ := device.New(context.Background(), device.Config{Store: st, BcryptCost: 4, EventBatch: 4096})
	defer r.Close()
	h := New(Config{Registry: r})
	ctx := context.Background()
	const pairs = 1000
	from, to := make([]string, pairs), make([]string, pairs)
	for i := range from {
		a, _ := r.Register(ctx, device.Device{}, "")
		t, _ := r.Register(ctx, device.Device{}, "")
		h.Connect(ctx, t.UUID(), discard{}, "", "")
		from[i], to[i] = a.UUID(), t.UUID()
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) % pairs
		msg := device.Device{"devices": to[i], "payload": map[string]any{"temperature": 21.5}}
		for pb.Next() {
			if _, err := h.Send(ctx, from[i], msg, SendOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// typeEP notes the type of each message payload it gets.
type typeEP struct {
	ep
	types []string
}

func (e *typeEP) Deliver(event string, payload any, reply func(...any)) error {
	if event == "message" {
		e.mu.Lock()
		e.types = append(e.types, fmt.Sprintf("%T", payload))
		e.mu.Unlock()
	}
	return e.ep.Deliver(event, payload, reply)
}

type encEP struct{ typeEP }

func (*encEP) TakesEncoded() {}

// A message is encoded once: an EncodedEndpoint gets the shared rendering,
// any other endpoint the document.
func TestSendEncodedOnlyToEncodedEndpoints(t *testing.T) {
	h, reg := setup(t, Config{})
	ctx := context.Background()
	a, _ := reg.Register(ctx, device.Device{}, "")
	b, _ := reg.Register(ctx, device.Device{}, "")
	plain, enc := &typeEP{}, &encEP{}
	for _, e := range []Endpoint{plain, enc} {
		if err := h.Connect(ctx, b.UUID(), e, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := h.Send(ctx, a.UUID(), device.Device{"devices": b.UUID(), "payload": "p"}, SendOptions{}); err != nil || res.Delivered != 2 {
		t.Fatalf("send: %+v %v", res, err)
	}
	if fmt.Sprint(plain.types) != "[device.Device]" || fmt.Sprint(enc.types) != "[realtime.Encoded]" {
		t.Fatalf("payload types: plain %v, encoded %v", plain.types, enc.types)
	}
	for _, e := range []*ep{&plain.ep, &enc.ep} {
		if g := e.got; len(g) != 1 || g[0]["payload"] != "p" || g[0]["fromUuid"] != a.UUID() {
			t.Fatalf("got %v", g)
		}
	}
}
