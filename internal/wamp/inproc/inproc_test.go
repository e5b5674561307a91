package inproc

import (
	"errors"
	"testing"
	"time"

	"skyhub/internal/wamp"
)

func recv(t *testing.T, p wamp.Peer) (wamp.Message, bool) {
	t.Helper()
	select {
	case m, ok := <-p.Recv():
		return m, ok
	case <-time.After(2 * time.Second):
		t.Fatal("timeout")
	}
	return nil, false
}

func TestOrderAndBothDirections(t *testing.T) {
	c, s := Pipe(0)
	defer c.Close()
	for i := range 100 {
		if err := c.Send(&wamp.Published{Request: wamp.ID(i + 1), Publication: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		m, _ := recv(t, s)
		if m.(*wamp.Published).Request != wamp.ID(i+1) {
			t.Fatalf("out of order at %d", i)
		}
	}
	_ = s.Send(&wamp.Goodbye{Reason: wamp.CloseNormal})
	if m, _ := recv(t, c); m.MessageType() != wamp.GOODBYE {
		t.Fatal("server to client")
	}
}

func TestOverflowClosesWithReason(t *testing.T) {
	c, s := Pipe(3)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = c.Send(&wamp.Published{Request: 1, Publication: 1})
	}
	// The pump may hand one message to the (blocked) channel, so the
	// overflow comes after 3 or 4 sends: never silently.
	if !errors.Is(err, ErrOverflow) {
		t.Fatalf("send error %v, want ErrOverflow", err)
	}
	if Err(s) != ErrOverflow {
		t.Fatalf("Err = %v", Err(s))
	}
	if err := c.Send(&wamp.Published{Request: 1, Publication: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestCloseFlushesQueued(t *testing.T) {
	c, s := Pipe(0)
	_ = s.Send(&wamp.Abort{Details: wamp.Dict{}, Reason: wamp.ErrProtocolViolation})
	s.Close()
	m, ok := recv(t, c)
	if !ok || m.MessageType() != wamp.ABORT {
		t.Fatalf("queued ABORT lost on close: %v %v", m, ok)
	}
	if _, ok := recv(t, c); ok {
		t.Fatal("Recv not closed after the flush")
	}
}
