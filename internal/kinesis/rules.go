package kinesis

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"sync"

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

// Rules holds the routing rules (durable under "kinesis/rule/").
type Rules struct {
	svc   *Service
	mu    sync.RWMutex
	rules map[string]Rule
}

var ruleName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func ruleKey(n string) []byte { return []byte("kinesis/rule/" + n) }

// NewRules loads stored rules and adds the configured ones (not stored).
func NewRules(ctx context.Context, svc *Service, configured []Rule) (*Rules, error) {
	r := &Rules{svc: svc, rules: map[string]Rule{}}
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
	return r, nil
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
