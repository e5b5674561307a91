package device

import (
	"context"
	"strings"
	"sync"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Server-side subscriptions (Meshblu 1.x/core): the subscriber device gets,
// on its own connections, the emitter's traffic of one type. Stored twice
// so both directions are one prefix scan:
//
//	sub/<emitter>/<type>/<subscriber>
//	subby/<subscriber>/<emitter>/<type>
const (
	pSub   = pfx + "sub/"
	pSubBy = pfx + "subby/"
)

// Subscription types.
var subTypes = map[string]bool{
	"broadcast": true, "broadcast.sent": true, "broadcast.received": true,
	"received": true, "message.received": true,
	"sent": true, "message.sent": true,
}

// CanonicalSubType maps a Meshblu subscription type to the three Skyhub
// routes: "broadcast" (the emitter's broadcasts), "received" (messages to
// the emitter), "sent" (messages from the emitter); ok is false for an
// unknown type.
func CanonicalSubType(t string) (string, bool) {
	if !subTypes[t] {
		return "", false
	}
	switch {
	case strings.HasPrefix(t, "broadcast"):
		return "broadcast", true
	case strings.HasSuffix(t, "received"):
		return "received", true
	}
	return "sent", true
}

// Subscription is one server-side subscription.
type Subscription struct {
	SubscriberUUID string `json:"subscriberUuid"`
	EmitterUUID    string `json:"emitterUuid"`
	Type           string `json:"type"`
}

// AddSubscription stores a subscription (idempotent). typ must be canonical.
func (r *Registry) AddSubscription(ctx context.Context, subscriber, emitter, typ string) error {
	if !validUUID(subscriber) || !validUUID(emitter) {
		return errs.E("device.AddSubscription", errs.NotFound, "Device not found")
	}
	err := r.st.Write(ctx,
		kv.Set([]byte(pSub+emitter+"/"+typ+"/"+subscriber), nil),
		kv.Set([]byte(pSubBy+subscriber+"/"+emitter+"/"+typ), nil))
	r.sc.invalidate()
	if err != nil {
		return errs.E("device.AddSubscription", errs.Internal, err)
	}
	return nil
}

// RemoveSubscription deletes a subscription (idempotent).
func (r *Registry) RemoveSubscription(ctx context.Context, subscriber, emitter, typ string) error {
	err := r.st.Write(ctx,
		kv.Del([]byte(pSub+emitter+"/"+typ+"/"+subscriber)),
		kv.Del([]byte(pSubBy+subscriber+"/"+emitter+"/"+typ)))
	r.sc.invalidate()
	if err != nil {
		return errs.E("device.RemoveSubscription", errs.Internal, err)
	}
	return nil
}

// Subscriptions lists subscriber's subscriptions.
func (r *Registry) Subscriptions(ctx context.Context, subscriber string) ([]Subscription, error) {
	out := []Subscription{}
	if !validUUID(subscriber) {
		return out, nil
	}
	o := kv.Prefix([]byte(pSubBy + subscriber + "/"))
	err := kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
		rest := string(k[len(o.Lower):])
		if i := strings.LastIndexByte(rest, '/'); i > 0 {
			out = append(out, Subscription{SubscriberUUID: subscriber, EmitterUUID: rest[:i], Type: rest[i+1:]})
		}
		return true
	})
	if err != nil {
		return nil, errs.E("device.Subscriptions", errs.Internal, err)
	}
	return out, nil
}

// Subscribers lists the devices subscribed to emitter's traffic of type typ.
// The hub asks this for every message, and subscriptions change rarely, so
// answers (most often: none) are cached in memory; every subscription write
// clears the cache. The returned slice is shared: callers must not modify it.
func (r *Registry) Subscribers(ctx context.Context, emitter, typ string) ([]string, error) {
	if !validUUID(emitter) {
		return nil, nil
	}
	key := emitter + "/" + typ
	out, gen, ok := r.sc.get(key)
	if ok {
		return out, nil
	}
	out, err := r.scanSubscribers(ctx, key)
	if err != nil {
		return nil, err
	}
	r.sc.put(key, out, gen)
	return out, nil
}

func (r *Registry) scanSubscribers(ctx context.Context, key string) ([]string, error) {
	var out []string
	o := kv.Prefix([]byte(pSub + key + "/"))
	err := kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
		out = append(out, string(k[len(o.Lower):]))
		return true
	})
	if err != nil {
		return nil, errs.E("device.Subscribers", errs.Internal, err)
	}
	return out, nil
}

// subCache caches Subscribers answers. A generation number keeps a scan
// that overlapped a subscription write from being cached: put stores only
// if no invalidate happened since the matching get.
type subCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string][]string
}

// subCacheMax bounds the cache; past it the cache starts over.
const subCacheMax = 16384

func (c *subCache) get(key string) ([]string, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, c.gen, ok
}

func (c *subCache) put(key string, v []string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= subCacheMax {
		c.m = map[string][]string{}
	}
	c.m[key] = v
}

// invalidate forgets every answer; call it after any write to subscriptions.
func (c *subCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
