package dynamo

import "sync"

// itemCache keeps recently read items in storage form, so that GetItem of a
// hot item skips the store's read path. It is bounded in bytes and never
// serves a value older than the last acknowledged write of its key:
//
//   - a writer calls begin before its store write (which drops the key and
//     counts the write as in flight in the key's shard) and end after it
//     (which drops the key again and bumps the shard's version);
//   - a reader that misses notes the shard's version, reads the store, and
//     inserts what it read only if the version is unchanged and no write is
//     in flight in the shard, so nothing read before or during a write can
//     be cached once the write is done.
//
// Shards are the item lock stripes (Service.stripe).
type itemCache struct {
	shards   []cacheShard
	maxShard int // bytes per shard
}

type cacheShard struct {
	mu       sync.Mutex
	m        map[string][]byte
	bytes    int
	version  uint64
	inflight int
}

const defaultReadCache = 32 << 20

func newItemCache(total int64, shards int) *itemCache {
	if total <= 0 {
		return nil
	}
	c := &itemCache{shards: make([]cacheShard, shards), maxShard: int(total / int64(shards))}
	for i := range c.shards {
		c.shards[i].m = map[string][]byte{}
	}
	return c
}

// get returns the cached value and, on a miss, the version to pass to put.
func (c *itemCache) get(shard int, key []byte) ([]byte, uint64, bool) {
	sh := &c.shards[shard]
	sh.mu.Lock()
	v, ok := sh.m[string(key)]
	ver := sh.version
	if sh.inflight > 0 {
		ver = ^uint64(0) // a write is under way: do not cache what is read now
	}
	sh.mu.Unlock()
	return v, ver, ok
}

// put caches value (read from the store after get returned ver) unless a
// write began since.
func (c *itemCache) put(shard int, key, value []byte, ver uint64) {
	size := len(key) + len(value) + 64
	if size > c.maxShard/4 {
		return
	}
	sh := &c.shards[shard]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.version != ver || sh.inflight > 0 {
		return
	}
	if old, ok := sh.m[string(key)]; ok {
		sh.bytes -= len(key) + len(old) + 64
	}
	for k, v := range sh.m { // random eviction until there is room
		if sh.bytes+size <= c.maxShard {
			break
		}
		delete(sh.m, k)
		sh.bytes -= len(k) + len(v) + 64
	}
	sh.m[string(key)] = value
	sh.bytes += size
}

func (sh *cacheShard) drop(key []byte) {
	if v, ok := sh.m[string(key)]; ok {
		delete(sh.m, string(key))
		sh.bytes -= len(key) + len(v) + 64
	}
}

// begin marks a write of key as in flight.
func (c *itemCache) begin(shard int, key []byte) {
	sh := &c.shards[shard]
	sh.mu.Lock()
	sh.inflight++
	sh.version++
	sh.drop(key)
	sh.mu.Unlock()
}

// end marks the write done (whether or not it succeeded).
func (c *itemCache) end(shard int, key []byte) {
	sh := &c.shards[shard]
	sh.mu.Lock()
	sh.inflight--
	sh.version++
	sh.drop(key)
	sh.mu.Unlock()
}

// dropPrefix removes every cached key with prefix (a deleted table).
func (c *itemCache) dropPrefix(prefix []byte) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.version++
		for k, v := range sh.m {
			if len(k) >= len(prefix) && k[:len(prefix)] == string(prefix) {
				delete(sh.m, k)
				sh.bytes -= len(k) + len(v) + 64
			}
		}
		sh.mu.Unlock()
	}
}
