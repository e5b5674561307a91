// Package pollsess is the session-server core shared by SkyNet's two
// Socket.IO servers (0.9 and Engine.IO 3): the WebSocket poller, the
// registry of sessions by id, the periodic sweeper goroutine, tracked
// goroutines, and an orderly Close. Each protocol keeps its own framing,
// handshake and timeout rules; it hands them to a Hub as a sweep callback.
package pollsess

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"

	"skyhub/internal/skynet/wsock"
)

// Session is what a Hub holds: something closable with a reason.
type Session interface {
	comparable
	Close(reason string)
}

// Config configures a Hub.
type Config[S Session] struct {
	// Poller configures the WebSocket poller the Hub owns.
	Poller wsock.Config
	// Sweep is how often OnSweep runs (must be > 0).
	Sweep time.Duration
	// OnSweep, if set, is called every Sweep from the sweeper goroutine
	// with the tick time and a snapshot of the sessions (no lock held).
	OnSweep func(now time.Time, all []S)
}

// Hub owns the sessions of one server and every goroutine it starts.
type Hub[S Session] struct {
	poller *wsock.Poller
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	idle     sync.Cond // signalled when running drops to 0
	running  int       // goroutines started by Go and not yet finished
	sessions map[string]S
	closed   bool
}

// New starts a Hub: its WebSocket poller and its sweeper goroutine.
func New[S Session](cfg Config[S]) (*Hub[S], error) {
	p, err := wsock.NewPoller(cfg.Poller)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub[S]{poller: p, ctx: ctx, cancel: cancel, sessions: map[string]S{}}
	h.idle.L = &h.mu
	h.Go(func() { h.sweep(cfg.Sweep, cfg.OnSweep) })
	return h, nil
}

// Poller is the WebSocket poller that serves the Hub's WebSocket sessions.
func (h *Hub[S]) Poller() *wsock.Poller { return h.poller }

// Ctx is cancelled when the Hub closes.
func (h *Hub[S]) Ctx() context.Context { return h.ctx }

// Go runs fn on a goroutine that Close waits for. It is a counter under
// the Hub's lock rather than a sync.WaitGroup because sessions closing
// during Close may call Go while Close is already waiting.
func (h *Hub[S]) Go(fn func()) {
	h.mu.Lock()
	h.running++
	h.mu.Unlock()
	go func() {
		defer func() {
			h.mu.Lock()
			h.running--
			if h.running == 0 {
				h.idle.Broadcast()
			}
			h.mu.Unlock()
		}()
		fn()
	}()
}

// Add registers s under id; false once the Hub is closing.
func (h *Hub[S]) Add(id string, s S) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.sessions[id] = s
	return true
}

// Get is the session registered under id.
func (h *Hub[S]) Get(id string) (S, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[id]
	return s, ok
}

// Remove unregisters id if it still names s.
func (h *Hub[S]) Remove(id string, s S) {
	h.mu.Lock()
	if h.sessions[id] == s {
		delete(h.sessions, id)
	}
	h.mu.Unlock()
}

// Len is the number of registered sessions.
func (h *Hub[S]) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// Count is how many registered sessions satisfy pred (called without the
// Hub's lock held).
func (h *Hub[S]) Count(pred func(S) bool) int {
	n := 0
	for _, s := range h.snapshot() {
		if pred(s) {
			n++
		}
	}
	return n
}

func (h *Hub[S]) snapshot() []S {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := make([]S, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	return all
}

// Close closes every session with reason, cancels Ctx, closes the poller
// and waits for every goroutine. Later calls do nothing.
func (h *Hub[S]) Close(reason string) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	for _, s := range h.snapshot() {
		s.Close(reason)
	}
	h.cancel()
	h.poller.Close()
	h.mu.Lock()
	for h.running > 0 {
		h.idle.Wait()
	}
	h.mu.Unlock()
}

func (h *Hub[S]) sweep(every time.Duration, on func(time.Time, []S)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case now := <-t.C:
			if on != nil {
				on(now, h.snapshot())
			}
		}
	}
}

// UTF16Prefix is the byte length of the first n UTF-16 code units of the
// UTF-8 text b, as the long-polling payloads of both Socket.IO versions
// count their frame lengths; false if b is shorter, is not valid UTF-8
// there, or n ends inside a surrogate pair.
func UTF16Prefix(b []byte, n int) (int, bool) {
	i, units := 0, 0
	for units < n {
		if i >= len(b) {
			return 0, false
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return 0, false
		}
		i += size
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	if units != n {
		return 0, false
	}
	return i, true
}
