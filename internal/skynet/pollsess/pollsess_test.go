package pollsess

import (
	"sync/atomic"
	"testing"
	"time"

	"skyhub/internal/skynet/wsock"
)

func TestUTF16Prefix(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want int
		ok   bool
	}{
		{"abc", 2, 2, true},
		{"é1", 1, 2, true},
		{"😀x", 2, 4, true},
		{"😀x", 1, 0, false}, // ends inside a surrogate pair
		{"ab", 3, 0, false},
		{"\xffa", 1, 0, false},
		{"", 0, 0, true},
	} {
		got, ok := UTF16Prefix([]byte(c.in), c.n)
		if got != c.want || ok != c.ok {
			t.Errorf("UTF16Prefix(%q, %d) = %d, %v; want %d, %v", c.in, c.n, got, ok, c.want, c.ok)
		}
	}
}

type fake struct {
	h      *Hub[*fake]
	closed atomic.Int32
	ran    *atomic.Int32
}

// Close starts a tracked goroutine, as the servers' sessions do.
func (f *fake) Close(string) {
	f.closed.Add(1)
	f.h.Go(func() {
		time.Sleep(10 * time.Millisecond)
		f.ran.Add(1)
	})
}

func TestHubRegistryAndClose(t *testing.T) {
	swept := make(chan int, 100)
	h, err := New(Config[*fake]{
		Poller:  wsock.Config{},
		Sweep:   time.Millisecond,
		OnSweep: func(_ time.Time, all []*fake) { swept <- len(all) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	a, b := &fake{h: h, ran: &ran}, &fake{h: h, ran: &ran}
	if !h.Add("a", a) || !h.Add("b", b) {
		t.Fatal("Add refused on an open hub")
	}
	if got, ok := h.Get("a"); !ok || got != a {
		t.Fatal("Get(a) did not return a")
	}
	h.Remove("a", b) // a different session under "a": kept
	if h.Len() != 2 {
		t.Fatalf("Len = %d after Remove of a stale session", h.Len())
	}
	for n := range swept {
		if n == 2 {
			break
		}
	}
	h.Remove("a", a)
	if h.Len() != 1 || h.Count(func(f *fake) bool { return f == b }) != 1 {
		t.Fatal("Remove(a) did not leave only b")
	}
	h.Close("bye")
	if b.closed.Load() != 1 || a.closed.Load() != 0 {
		t.Fatalf("closed a=%d b=%d, want 0 and 1", a.closed.Load(), b.closed.Load())
	}
	if ran.Load() != 1 {
		t.Fatal("Close returned before the goroutine a closing session started")
	}
	if h.Ctx().Err() == nil {
		t.Fatal("Ctx not cancelled by Close")
	}
	if h.Add("c", &fake{h: h, ran: &ran}) {
		t.Fatal("Add accepted after Close")
	}
	h.Close("again") // no-op
}
