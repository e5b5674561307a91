package device

import (
	"context"
	"sync"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// evBatch is the batching writer of the event log: LogEventLater queues an
// event's writes and returns; one goroutine (started when there is work,
// gone when there is none) commits everything queued so far in one
// kv.Write, so many messages share one fsync. The writer lingers up to
// evLinger before each commit unless a quarter of the queue is already
// filled or a flush is waiting: at moderate rates a commit per event (an
// fdatasync each, a large part of a message's CPU) would otherwise be the
// common case. Nothing waits for the linger but Flush, which cuts it short.
// The queue is bounded: past maxPending events a caller waits for the next
// commit (back-pressure). Flush waits until everything queued before it is
// written; Close flushes.
type evBatch struct {
	st         kv.Store
	maxPending int
	hurry      chan struct{} // cuts the writer's linger short (buffered 1)

	mu      sync.Mutex
	ops     []kv.Op
	spare   []kv.Op       // the last committed batch's slice, for reuse
	events  int           // queued, not yet taken by the writer
	queued  uint64        // events ever queued
	written uint64        // events ever taken and committed (or failed)
	running bool          // the writer goroutine exists
	commit  chan struct{} // closed after each commit, then replaced
	failed  error         // the last commit error (logged by the caller)
	wg      sync.WaitGroup
}

func newEvBatch(st kv.Store, maxPending int) *evBatch {
	if maxPending <= 0 {
		return nil // Config.EventBatch 0: no batching
	}
	return &evBatch{st: st, maxPending: maxPending, commit: make(chan struct{}), hurry: make(chan struct{}, 1)}
}

// evLinger is how long the writer gathers events before a commit when the
// queue is not filling fast; a crash loses at most the entries of this
// window plus one commit (only entries whose answer promised nothing).
const evLinger = 5 * time.Millisecond

func (b *evBatch) hurryUp() {
	select {
	case b.hurry <- struct{}{}:
	default:
	}
}

// add queues ops (one event), waiting while the queue is full.
func (b *evBatch) add(ctx context.Context, ops []kv.Op) error {
	b.mu.Lock()
	for b.events >= b.maxPending {
		ch := b.commit
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return errs.E("device.LogEventLater", errs.Unavailable, "event log busy", ctx.Err())
		}
		b.mu.Lock()
	}
	if b.ops == nil && b.spare != nil {
		b.ops, b.spare = b.spare, nil
	}
	b.ops = append(b.ops, ops...)
	b.events++
	b.queued++
	if b.events == b.maxPending/4+1 {
		b.hurryUp()
	}
	if !b.running {
		b.running = true
		b.wg.Add(1)
		go b.run()
	}
	b.mu.Unlock()
	return nil
}

// run commits batches until the queue is empty, then ends.
func (b *evBatch) run() {
	defer b.wg.Done()
	t := time.NewTimer(evLinger)
	defer t.Stop()
	for {
		b.mu.Lock()
		full := b.events > b.maxPending/4
		b.mu.Unlock()
		if !full {
			t.Reset(evLinger)
			select {
			case <-t.C:
			case <-b.hurry:
			}
		}
		b.mu.Lock()
		ops, n := b.ops, b.events
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.ops, b.events = nil, 0
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := b.st.Write(ctx, ops...)
		cancel()
		clear(ops) // the store copied the batch: keep the slice, not the bytes
		b.mu.Lock()
		if cap(ops) <= 4*b.maxPending {
			b.spare = ops[:0]
		}
		b.written += uint64(n)
		if err != nil {
			b.failed = err
		}
		close(b.commit)
		b.commit = make(chan struct{})
		b.mu.Unlock()
	}
}

// flush waits until every event queued before the call is written.
func (b *evBatch) flush(ctx context.Context) error {
	b.mu.Lock()
	target := b.queued
	if b.written < target {
		b.hurryUp()
	}
	for b.written < target {
		ch := b.commit
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return errs.E("device.Flush", errs.Unavailable, "event log flush", ctx.Err())
		}
		b.mu.Lock()
	}
	err := b.failed
	b.failed = nil
	b.mu.Unlock()
	if err != nil {
		return errs.E("device.Flush", errs.Internal, err)
	}
	return nil
}

// LogEventLater appends an event to the log through the batching writer
// (Config.EventBatch > 0; else it is LogEvent):
// it returns once the event is queued (waiting only while the queue is
// full), before it is durable. Use it where nothing acknowledged depends
// on the entry (a message delivered live); use LogEvent where the answer
// promises durability. Events (the read side) flushes first, so a reader
// sees every event logged before it asked.
func (r *Registry) LogEventLater(ctx context.Context, code int, ev Device) error {
	return r.LogEventLaterEncoded(ctx, code, ev, nil)
}

// LogEventLaterEncoded is LogEventLater for a caller that already rendered
// ev with json.Marshal (enc; nil: LogEventLater).
func (r *Registry) LogEventLaterEncoded(ctx context.Context, code int, ev Device, enc []byte) error {
	if r.evb == nil {
		_, err := r.LogEventEncoded(ctx, code, ev, enc)
		return err
	}
	ops, _, err := r.eventOps(code, ev, enc)
	if err != nil {
		return err
	}
	return r.evb.add(ctx, ops)
}

// Flush waits until every event queued by LogEventLater before the call is
// written durably.
func (r *Registry) Flush(ctx context.Context) error {
	if r.evb == nil {
		return nil
	}
	return r.evb.flush(ctx)
}

// Close flushes the event log's queue and waits for its writer. The
// registry stays usable (a later LogEventLater starts a writer again), but
// the app calls Close only before closing the store.
func (r *Registry) Close() error {
	if r.evb == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.evb.flush(ctx)
	r.evb.wg.Wait()
	return err
}
