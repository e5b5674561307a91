package device

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// gatedStore counts Writes and holds each until the gate lets it through.
type gatedStore struct {
	kv.Store
	writes atomic.Int32
	gate   chan struct{}
}

func (g *gatedStore) Write(ctx context.Context, ops ...kv.Op) error {
	g.writes.Add(1)
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.Write(ctx, ops...)
}

// LogEventLater returns before the entry is written, many entries share one
// kv.Write, a full queue makes callers wait (back-pressure), Events reads
// its own writes, and Close leaves everything in the store.
func TestLogEventLaterBatchedBoundedAndFlushed(t *testing.T) {
	r, st, _ := newReg(t, nil)
	g := &gatedStore{Store: st, gate: make(chan struct{})}
	r.evb = newEvBatch(g, 8)
	ctx := context.Background()

	// the first event: the writer takes it and waits in Write
	if err := r.LogEventLater(ctx, EvMessage, Device{"uuid": "a", "n": 0}); err != nil {
		t.Fatal(err)
	}
	for i := 0; g.writes.Load() == 0; i++ {
		if i > 500 {
			t.Fatal("writer never wrote")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// 8 more fill the queue without waiting for any write
	for i := 1; i <= 8; i++ {
		if err := r.LogEventLater(ctx, EvMessage, Device{"uuid": "a", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	// the 10th waits for room, here until its context ends
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err := r.LogEventLater(short, EvMessage, Device{"uuid": "a", "n": 99})
	cancel()
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("full queue: %v", err)
	}
	// let the writes through: the 8 queued go in one more Write
	close(g.gate)
	evs, err := r.Events(ctx, "a", 100)
	if err != nil || len(evs) != 9 {
		t.Fatalf("events after flush: %d %v", len(evs), err)
	}
	if w := g.writes.Load(); w != 2 {
		t.Fatalf("%d writes for 9 events, want 2", w)
	}
	for i := 9; i < 50; i++ {
		if err := r.LogEventLater(ctx, EvMessage, Device{"uuid": "a", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	kv.Scan(ctx, st, kv.Prefix([]byte(pEv)), func(_, _ []byte) bool { n++; return true })
	if n != 50 {
		t.Fatalf("%d events in the store after Close, want 50", n)
	}
	if w := g.writes.Load(); w >= 50 {
		t.Fatalf("%d writes for 50 events: not batched", w)
	}
}

// GetShared serves repeated reads from its cache, and every write of the
// record (update, token reset, unregister) is seen by the next read.
func TestGetSharedSeesEveryWrite(t *testing.T) {
	r, _, _ := newReg(t, nil)
	ctx := context.Background()
	d, err := r.Register(ctx, Device{"sendWhitelist": []any{"*"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	u := d.UUID()
	a, err := r.GetShared(ctx, u)
	if err != nil || !Allowed(Send, "someone", a) {
		t.Fatalf("first read: %v %v", a, err)
	}
	if _, err := r.GetShared(ctx, u); err != nil || len(r.dc.m) != 1 {
		t.Fatalf("not cached: %d entries", len(r.dc.m))
	}
	if _, err := r.Update(ctx, u, Device{"sendWhitelist": []any{}}); err != nil {
		t.Fatal(err)
	}
	if b, err := r.GetShared(ctx, u); err != nil || Allowed(Send, "someone", b) {
		t.Fatalf("after update the old whitelist is still used: %v %v", b, err)
	}
	if _, err := r.ResetToken(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.dc.m[u]; ok {
		t.Fatal("token reset left the cached record")
	}
	if err := r.Unregister(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetShared(ctx, u); !errs.Is(err, errs.NotFound) {
		t.Fatalf("after unregister: %v", err)
	}
}

// An entry logged from the caller's JSON rendering of the event reads back
// exactly like one logged from the document (ids aside), indexed under the
// same uuids; a document carrying a field the entry sets takes the general
// path and keeps its meaning.
func TestLogEventEncodedSameEntry(t *testing.T) {
	r, _, _ := newReg(t, nil)
	ctx := context.Background()
	a, b := NewUUID(), NewUUID()
	for _, ev := range []Device{
		{"devices": b, "fromUuid": a, "payload": map[string]any{"x": json.Number("1.50"), "s": "<é>"}},
		{"devices": []any{b}, "fromUuid": a, "timestamp": json.Number("7")},
		{"devices": b, "fromUuid": a, "id": "mine", "eventCode": 1, "token": "secret", "_id": "z"},
		{},
	} {
		enc, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.LogEvent(ctx, EvMessage, ev); err != nil {
			t.Fatal(err)
		}
		if _, err := r.LogEventEncoded(ctx, EvMessage, ev, enc); err != nil {
			t.Fatal(err)
		}
		if ev.UUID() == "" && ev["fromUuid"] == nil {
			continue
		}
		evs, err := r.Events(ctx, b, 2)
		if err != nil || len(evs) != 2 {
			t.Fatalf("events of %v: %v %v", ev, evs, err)
		}
		for _, e := range evs {
			if e["id"] == nil || e["id"] == "mine" || e["token"] != nil || e["_id"] != nil {
				t.Fatalf("entry %v", e)
			}
			delete(e, "id")
		}
		x, _ := json.Marshal(evs[0])
		y, _ := json.Marshal(evs[1])
		if string(x) != string(y) {
			t.Fatalf("encoded entry %s, document entry %s", x, y)
		}
		if evs[0]["eventCode"] != float64(EvMessage) && evs[0]["eventCode"] != json.Number("300") {
			t.Fatalf("eventCode %v", evs[0]["eventCode"])
		}
		if byA, err := r.Events(ctx, a, 2); err != nil || len(byA) != 2 {
			t.Fatalf("not indexed under the sender: %v %v", byA, err)
		}
	}
}

// eventUUIDs lists each uuid once, in order, for short and long lists.
func TestEventUUIDsDeduplicated(t *testing.T) {
	var list []any
	var want []string
	for i := 0; i < 40; i++ {
		u := NewUUID()
		list = append(list, u, u, "*")
		want = append(want, u)
	}
	got := eventUUIDs(Device{"fromUuid": want[3], "devices": list, "toUuid": want[39]})
	if len(got) != len(want) {
		t.Fatalf("%d uuids, want %d", len(got), len(want))
	}
	if got[0] != want[3] {
		t.Fatalf("first %s, want the sender", got[0])
	}
	seen := map[string]bool{}
	for _, u := range got {
		if seen[u] {
			t.Fatalf("%s twice", u)
		}
		seen[u] = true
	}
}
