package device

import (
	"crypto/sha256"
	"sync"
)

// authCache remembers (uuid, token) pairs that bcrypt verified, keyed by
// uuid and the token's SHA-256, together with the stored hash they were
// checked against: a new token (a new hash) misses the cache. Bounded: when
// full, an arbitrary entry is evicted.
type authCache struct {
	size int
	mu   sync.Mutex
	m    map[cacheKey]string
}

type cacheKey struct {
	uuid string
	sum  [32]byte
}

func newAuthCache(size int) *authCache {
	return &authCache{size: size, m: make(map[cacheKey]string)}
}

func (c *authCache) ok(uuid, token, hash string) bool {
	if c.size <= 0 {
		return false
	}
	k := cacheKey{uuid, sha256.Sum256([]byte(token))}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, found := c.m[k]
	return found && h == hash
}

func (c *authCache) put(uuid, token, hash string) {
	if c.size <= 0 {
		return
	}
	k := cacheKey{uuid, sha256.Sum256([]byte(token))}
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.m) >= c.size {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = hash
}

func (c *authCache) forget(uuid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.uuid == uuid {
			delete(c.m, k)
		}
	}
}

func (c *authCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
