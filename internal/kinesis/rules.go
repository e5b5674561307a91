package kinesis

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Rule routes a device's messages into a stream; the partition key is the
// device UUID, so one device's records stay ordered in one shard.
type Rule struct {
	Name   string `json:"name"`
	Device string `json:"device"` // a UUID or "*"
	Stream string `json:"stream"`
}

// Rules holds the routing rules (durable under "kinesis/rule/") and a
// bounded feed queue: Enqueue never blocks the caller (the device hub); a
// full queue drops the message and counts it in Dropped.
type Rules struct {
	svc   *Service
	mu    sync.RWMutex
	rules map[string]Rule

	queue   chan feedItem
	dropped atomic.Int64
	failed  atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type feedItem struct {
	device  string
	payload []byte
}

// FeedQueue bounds the messages waiting to be written into streams.
const FeedQueue = 10000

var ruleName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func ruleKey(n string) []byte { return []byte("kinesis/rule/" + n) }

// NewRules loads stored rules and adds the configured ones (not stored).
func NewRules(ctx context.Context, svc *Service, configured []Rule) (*Rules, error) {
	r := &Rules{svc: svc, rules: map[string]Rule{}, queue: make(chan feedItem, FeedQueue)}
	err := kv.Scan(ctx, svc.store, kv.Prefix([]byte("kinesis/rule/")), func(k, v []byte) bool {
		var x Rule
		if json.Unmarshal(v, &x) == nil {
			r.rules[x.Name] = x
		}
		return true
	})
	if err != nil {
		return nil, errs.E("kinesis.NewRules", errs.Internal, err)
	}
	for _, x := range configured {
		if x.Name == "" {
			x.Name = "config-" + x.Device + "-" + x.Stream
		}
		r.rules[x.Name] = x
	}
	fctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go r.feed(fctx)
	return r, nil
}

func (r *Rules) feed(ctx context.Context) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-r.queue:
			if _, err := r.Route(ctx, it.device, it.payload); err != nil {
				r.failed.Add(1)
				r.svc.cfg.Log.Warn("kinesis rule write failed", "device", it.device, "err", err)
			}
		}
	}
}

// Matches reports whether any rule takes device's messages (cheap; lets
// callers skip encoding a message no rule wants).
func (r *Rules) Matches(device string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, x := range r.rules {
		if x.Device == "*" || x.Device == device {
			return true
		}
	}
	return false
}

// Enqueue queues a device message for the rules without blocking; it
// reports false (and counts a drop) when the queue is full.
func (r *Rules) Enqueue(device string, payload []byte) bool {
	select {
	case r.queue <- feedItem{device, payload}:
		return true
	default:
		r.dropped.Add(1)
		return false
	}
}

// Dropped is how many messages a full queue dropped; Failed how many
// could not be written (e.g. the stream does not exist).
func (r *Rules) Dropped() int64 { return r.dropped.Load() }

// Failed counts messages whose stream write failed.
func (r *Rules) Failed() int64 { return r.failed.Load() }

// Close stops the feed (queued messages not yet written are discarded).
func (r *Rules) Close() {
	r.cancel()
	r.wg.Wait()
}

// Put creates or replaces a rule.
func (r *Rules) Put(ctx context.Context, x Rule) error {
	const op = "kinesis.Rules.Put"
	if !ruleName.MatchString(x.Name) || x.Device == "" || len(x.Device) > 256 || !ruleName.MatchString(x.Stream) {
		return errs.E(op, errs.Invalid, "a rule needs a name and stream matching [a-zA-Z0-9_.-]{1,128} and a device (UUID or *)")
	}
	b, _ := json.Marshal(x)
	if err := r.svc.store.Write(ctx, kv.Set(ruleKey(x.Name), b)); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	r.mu.Lock()
	r.rules[x.Name] = x
	r.mu.Unlock()
	return nil
}

// Delete removes a rule.
func (r *Rules) Delete(ctx context.Context, name string) error {
	const op = "kinesis.Rules.Delete"
	r.mu.Lock()
	_, ok := r.rules[name]
	r.mu.Unlock()
	if !ok {
		return errs.E(op, errs.NotFound, "no such rule")
	}
	if err := r.svc.store.Write(ctx, kv.Del(ruleKey(name))); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	r.mu.Lock()
	delete(r.rules, name)
	r.mu.Unlock()
	return nil
}

// List returns the rules sorted by name.
func (r *Rules) List() []Rule {
	r.mu.RLock()
	out := make([]Rule, 0, len(r.rules))
	for _, x := range r.rules {
		out = append(out, x)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Route writes payload (a device message or sensor reading, usually JSON)
// from device into every stream a rule names; it returns how many records
// were written. The hub calls it for each routed message.
func (r *Rules) Route(ctx context.Context, device string, payload []byte) (int, error) {
	r.mu.RLock()
	var streams []string
	for _, x := range r.rules {
		if x.Device == "*" || x.Device == device {
			streams = append(streams, x.Stream)
		}
	}
	r.mu.RUnlock()
	n := 0
	var first error
	for _, s := range streams {
		pk := device
		if pk == "" {
			pk = "anonymous"
		}
		if len(pk) > 256 {
			pk = pk[:256]
		}
		if _, err := r.svc.PutRecord(ctx, s, PutInput{PartitionKey: pk, Data: payload}); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}
