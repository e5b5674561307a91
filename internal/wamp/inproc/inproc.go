// Package inproc connects a WAMP client to a router inside one process,
// with no sockets and no serialization (the nexus idea): Pipe returns the
// two ends of a session as wamp.Peers. Tests and embedded clients (the
// device-hub bridge) use it.
package inproc

import (
	"errors"
	"sync"
	"time"

	"skyhub/internal/wamp"
)

// DefaultLimit bounds each direction's queue, in messages.
const DefaultLimit = 1 << 16

// ErrClosed is returned by Send on a closed pipe.
var ErrClosed = errors.New("inproc: peer closed")

// ErrOverflow is returned by Send when the receiver is too slow; the pipe
// is closed (never silently dropping a message).
var ErrOverflow = errors.New("inproc: outbound queue full, peer disconnected")

// Pipe returns two connected peers: what one Sends, the other Recvs.
// limit bounds each queue in messages (0 means DefaultLimit).
func Pipe(limit int) (client, server wamp.Peer) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	p := &pipe{done: make(chan struct{})}
	a := &queue{p: p, out: make(chan wamp.Message), limit: limit, wake: make(chan struct{}, 1)}
	b := &queue{p: p, out: make(chan wamp.Message), limit: limit, wake: make(chan struct{}, 1)}
	p.wg.Add(2)
	go a.pump()
	go b.pump()
	return &end{p: p, tx: b, rx: a}, &end{p: p, tx: a, rx: b}
}

type pipe struct {
	once sync.Once
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

func (p *pipe) close(err error) {
	p.once.Do(func() {
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	})
}

// queue is an unbounded-until-limit FIFO drained into an unbuffered
// channel by one goroutine, so Send never blocks.
type queue struct {
	p     *pipe
	mu    sync.Mutex
	buf   []wamp.Message
	limit int
	wake  chan struct{}
	out   chan wamp.Message
}

func (q *queue) push(m wamp.Message) error {
	select {
	case <-q.p.done:
		return ErrClosed
	default:
	}
	q.mu.Lock()
	if len(q.buf) >= q.limit {
		q.mu.Unlock()
		q.p.close(ErrOverflow)
		return ErrOverflow
	}
	q.buf = append(q.buf, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

func (q *queue) pump() {
	defer q.p.wg.Done()
	defer close(q.out)
	for {
		q.mu.Lock()
		batch := q.buf
		q.buf = nil
		q.mu.Unlock()
		for i, m := range batch {
			select {
			case q.out <- m:
			case <-q.p.done:
				q.flush(batch[i:])
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-q.wake:
		case <-q.p.done:
			q.flush(nil)
			return
		}
	}
}

// flush delivers what was queued before the close, as a socket transport
// flushes its queue before closing; a reader that has gone away gets one
// second.
func (q *queue) flush(rest []wamp.Message) {
	q.mu.Lock()
	rest = append(rest, q.buf...)
	q.buf = nil
	q.mu.Unlock()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for _, m := range rest {
		select {
		case q.out <- m:
		case <-t.C:
			return
		}
	}
}

type end struct {
	p      *pipe
	tx, rx *queue
}

func (e *end) Send(m wamp.Message) error { return e.tx.push(m) }
func (e *end) Recv() <-chan wamp.Message { return e.rx.out }
func (e *end) Close()                    { e.p.close(ErrClosed) }

// Err reports why the pipe closed (nil while open).
func Err(p wamp.Peer) error {
	e, ok := p.(*end)
	if !ok {
		return nil
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	return e.p.err
}
