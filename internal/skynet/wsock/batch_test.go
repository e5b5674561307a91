package wsock

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// relayTo forwards every text message of any connection to the connection
// named "b" (the first message of a connection names it); a message "hold"
// is forwarded, then its handler waits until release is closed.
type relayTo struct {
	mu      sync.Mutex
	byName  map[*Conn]string
	target  *Conn
	release chan struct{}
}

func (h *relayTo) OnMessage(c *Conn, text bool, data []byte) {
	h.mu.Lock()
	if _, ok := h.byName[c]; !ok {
		h.byName[c] = string(data)
		if string(data) == "b" {
			h.target = c
		}
		h.mu.Unlock()
		c.WriteText([]byte("ok"))
		return
	}
	t := h.target
	h.mu.Unlock()
	t.WriteText(data)
	if string(data) == "hold" {
		<-h.release
	}
}

func (h *relayTo) OnClose(*Conn, string) {}

// Writes made while a reader decodes a read's frames are coalesced and
// written when the read's frames are done, in order; a reader blocked in its
// handler does not hold them back (batchMaxDelay).
func TestDeferredWritesOrderedAndNotHeldByABlockedReader(t *testing.T) {
	p, err := NewPoller(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := &relayTo{byName: map[*Conn]string{}, release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Accept(w, r, h, nil)
	}))
	defer srv.Close()
	defer p.Close()
	released := false
	defer func() {
		if !released {
			close(h.release)
		}
	}()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, a := dial(t, url), dial(t, url)
	if err := b.Write(ctx, 1, []byte("b")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := b.Read(ctx); err != nil || string(m) != "ok" {
		t.Fatalf("b: %q %v", m, err)
	}
	if err := a.Write(ctx, 1, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := a.Read(ctx); err != nil || string(m) != "ok" {
		t.Fatalf("a: %q %v", m, err)
	}
	// a burst from a: b gets every message, in order
	const n = 200
	for i := 0; i < n; i++ {
		if err := a.Write(ctx, 1, []byte(fmt.Sprintf("m%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		_, m, err := b.Read(ctx)
		if err != nil || string(m) != fmt.Sprintf("m%03d", i) {
			t.Fatalf("message %d: %q %v", i, m, err)
		}
	}
	// a's reader blocks after forwarding "hold": b still gets it
	if err := a.Write(ctx, 1, []byte("hold")); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	_, m, err := b.Read(rctx)
	rcancel()
	if err != nil || string(m) != "hold" {
		t.Fatalf("held message: %q %v", m, err)
	}
	close(h.release)
	released = true
}
