package router

import (
	"sync"
	"time"

	"skyhub/internal/wamp"
)

// realm is one routing domain: its sessions, broker and dealer.
type realm struct {
	r      *Router
	name   wamp.URI
	pol    *realmPolicy
	broker *broker
	dealer *dealer

	mu       sync.RWMutex
	sessions map[wamp.ID]*session

	authnCache *ttlCache
	authzCache *ttlCache
}

func newRealm(r *Router, name wamp.URI, pol *realmPolicy) *realm {
	rl := &realm{r: r, name: name, pol: pol, sessions: map[wamp.ID]*session{}}
	rl.broker = newBroker(rl)
	rl.dealer = newDealer(rl)
	rl.authnCache = newTTLCache(pol.cacheTTL, 10000)
	rl.authzCache = newTTLCache(pol.cacheTTL, 10000)
	return rl
}

// join adds an authenticated session and announces it.
func (rl *realm) join(s *session) {
	rl.mu.Lock()
	rl.sessions[s.id] = s
	rl.mu.Unlock()
	rl.r.track(s, true)
	if !s.trusted {
		rl.broker.publishMeta("wamp.session.on_join", wamp.List{s.metaDetails()}, nil)
	}
}

// leave removes s from every table, settles its pending calls, publishes
// its testaments and announces the departure. It runs once per session, on
// the session's own goroutine.
func (rl *realm) leave(s *session) {
	rl.mu.Lock()
	delete(rl.sessions, s.id)
	rl.mu.Unlock()
	rl.r.track(s, false)
	rl.dealer.sessionGone(s)
	rl.broker.sessionGone(s)
	s.publishTestaments()
	if !s.trusted {
		rl.broker.publishMeta("wamp.session.on_leave", wamp.List{s.id, s.authid, s.authrole}, nil)
	}
}

func (rl *realm) session(id wamp.ID) *session {
	rl.mu.RLock()
	defer rl.mu.RUnlock()
	return rl.sessions[id]
}

// metaSession is session as the session meta API sees it: router-local
// components (LocalSession, e.g. the device-hub bridge) are part of the
// router, not clients, so the meta API neither counts, lists, announces nor
// kills them.
func (rl *realm) metaSession(id wamp.ID) *session {
	if s := rl.session(id); s != nil && !s.trusted {
		return s
	}
	return nil
}

// sessionList returns the client sessions (not router-local components).
func (rl *realm) sessionList() []*session {
	rl.mu.RLock()
	defer rl.mu.RUnlock()
	l := make([]*session, 0, len(rl.sessions))
	for _, s := range rl.sessions {
		if !s.trusted {
			l = append(l, s)
		}
	}
	return l
}

// ttlCache is a bounded map with expiry, for authenticator and authorizer
// answers. A full cache is cleared (simple, and bounded).
type ttlCache struct {
	ttl time.Duration
	max int
	mu  sync.Mutex
	m   map[string]cacheEntry
}

type cacheEntry struct {
	v   any
	exp time.Time
}

func newTTLCache(ttl time.Duration, max int) *ttlCache {
	return &ttlCache{ttl: ttl, max: max, m: map[string]cacheEntry{}}
}

func (c *ttlCache) get(k string) (any, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	if time.Now().After(e.exp) {
		delete(c.m, k)
		return nil, false
	}
	return e.v, true
}

func (c *ttlCache) put(k string, v any) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = cacheEntry{v: v, exp: time.Now().Add(c.ttl)}
}
