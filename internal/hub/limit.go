package hub

import (
	"sync"
	"time"
)

// limiter is a token bucket per key. Buckets that have refilled completely
// carry no information and are swept when the map grows, so memory stays
// bounded by the number of recently active senders.
type limiter struct {
	rate, burst float64
	now         func() time.Time
	mu          sync.Mutex
	b           map[string]*bucket
	sweepAt     int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate, burst float64, now func() time.Time) *limiter {
	if burst <= 0 {
		burst = rate
		if burst < 1 {
			burst = 1
		}
	}
	return &limiter{rate: rate, burst: burst, now: now, b: map[string]*bucket{}, sweepAt: 4096}
}

func (l *limiter) allow(key string) bool {
	if l.rate <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	bk := l.b[key]
	if bk == nil {
		if len(l.b) >= l.sweepAt {
			l.sweep(now)
		}
		bk = &bucket{tokens: l.burst, last: now}
		l.b[key] = bk
	} else {
		bk.tokens += now.Sub(bk.last).Seconds() * l.rate
		if bk.tokens > l.burst {
			bk.tokens = l.burst
		}
		bk.last = now
	}
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

func (l *limiter) sweep(now time.Time) {
	for k, bk := range l.b {
		if bk.tokens+now.Sub(bk.last).Seconds()*l.rate >= l.burst {
			delete(l.b, k)
		}
	}
	if len(l.b) >= l.sweepAt/2 {
		l.sweepAt *= 2
	}
}

// has reports whether key's bucket holds a token, without taking it.
func (l *limiter) has(key string) bool {
	if l.rate <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	bk := l.b[key]
	if bk == nil {
		return true
	}
	return bk.tokens+now.Sub(bk.last).Seconds()*l.rate >= 1
}
