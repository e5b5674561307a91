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
	size     int
	mu       sync.Mutex
	m        map[cacheKey]string
	inflight map[inflightKey]*flight
}

type inflightKey struct {
	k    cacheKey
	hash string
}

// flight is one bcrypt comparison others wait for.
type flight struct {
	done chan struct{}
	ok   bool
}

type cacheKey struct {
	uuid string
	sum  [32]byte
}

func newAuthCache(size int) *authCache {
	return &authCache{size: size, m: make(map[cacheKey]string), inflight: map[inflightKey]*flight{}}
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

// verify runs check (the bcrypt comparison) once for concurrent callers
// with the same uuid, token and hash, and caches a success.
func (c *authCache) verify(uuid, token, hash string, check func() bool) bool {
	k := inflightKey{cacheKey{uuid, sha256.Sum256([]byte(token))}, hash}
	c.mu.Lock()
	if f := c.inflight[k]; f != nil {
		c.mu.Unlock()
		<-f.done
		return f.ok
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[k] = f
	c.mu.Unlock()
	f.ok = check()
	if f.ok {
		c.put(uuid, token, hash) // before the flight ends: no second bcrypt
	}
	c.mu.Lock()
	delete(c.inflight, k)
	c.mu.Unlock()
	close(f.done)
	return f.ok
}
