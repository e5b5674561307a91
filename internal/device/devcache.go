package device

import (
	"context"
	"sync"
)

// devCacheMax bounds the decoded-record cache (entries, ~1-2 KB each).
const devCacheMax = 4096

// devCache holds decoded device documents for the routing path, where
// decoding the stored JSON on every message was half of Send's CPU. Every
// write of a device record forgets its entry after the write; a load that
// raced a write is not cached (gen changed), so no stale document
// outlives the write that replaced it.
type devCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]Device
}

func (c *devCache) forget(uuid string) {
	c.mu.Lock()
	c.gen++
	delete(c.m, uuid)
	c.mu.Unlock()
}

// GetShared is Get for readers that never modify the result (routing,
// permission checks): the document may be shared with other callers, so
// it must be treated as read-only. It is served from a small cache.
func (r *Registry) GetShared(ctx context.Context, uuid string) (Device, error) {
	c := &r.dc
	c.mu.Lock()
	if d, ok := c.m[uuid]; ok {
		c.mu.Unlock()
		return d, nil
	}
	gen := c.gen
	c.mu.Unlock()
	rec, err := r.load(ctx, uuid)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.m == nil {
			c.m = map[string]Device{}
		}
		if len(c.m) >= devCacheMax {
			for k := range c.m { // evict one at random
				delete(c.m, k)
				break
			}
		}
		c.m[uuid] = rec.Device
	}
	c.mu.Unlock()
	return rec.Device, nil
}
