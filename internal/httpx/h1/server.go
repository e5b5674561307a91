// Package h1 serves an ordinary http.Handler over HTTP/1.1 at a fraction of
// net/http's CPU cost per request, for the AWS edge where every request is
// small and the HTTP layer used to be half the work.
//
// One goroutine per connection on Go's netpoller; per-connection read and
// write buffers reused across requests; the request line and headers are
// parsed from one string per request (header names and values are slices of
// it, common names interned); the request, its URL, body reader and response
// writer are one allocation; the request context is the connection's (no
// per-request cancel or background reader); a response the handler finishes
// within the buffer goes out as one write with its Content-Length, larger or
// flushed ones as chunked (or with the handler's own Content-Length), so
// large bodies stream. Pipelined requests are answered in order and their
// responses coalesced. Connections that open with the HTTP/2 preface (h2c
// with prior knowledge) are handed, bytes intact, to Config.H2.
//
// Not supported (the AWS services need none of it): Hijack, CloseNotify,
// response trailers, Upgrade.
package h1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server.
type Config struct {
	Handler http.Handler
	// H2 receives connections that start with the HTTP/2 client preface;
	// nil closes them.
	H2 func(net.Conn)
	// ReadHeaderTimeout bounds reading a request's header once its first
	// byte arrived (30 s when zero).
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection (120 s when zero).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line plus headers (1 MiB when
	// zero); more gets 431.
	MaxHeaderBytes int
	// BufferBytes is how much response body is held to be sent with its
	// Content-Length in one write (64 KiB when zero); beyond it the
	// response streams.
	BufferBytes int
	// Log receives handler panics (discarded when nil).
	Log *slog.Logger
}

// Server serves HTTP/1.1 on listeners.
type Server struct {
	cfg  Config
	date dateCache

	mu       sync.Mutex
	lns      map[net.Listener]struct{}
	conns    map[*conn]struct{}
	shutting atomic.Bool
	wg       sync.WaitGroup // accept loops, connections and the sweeper
	sweep    sync.Once
	stop     chan struct{}
	stopOnce sync.Once
}

// watchAfter is how long a handler runs before the sweeper watches its
// connection for the client going away.
const watchAfter = 200 * time.Millisecond

// sweeper watches the connections of long-running handlers (long polls)
// until the server stops.
func (s *Server) sweeper() {
	defer s.wg.Done()
	t := time.NewTicker(watchAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			limit := now.Add(-watchAfter).UnixNano()
			s.mu.Lock()
			for c := range s.conns {
				if b := c.busySince.Load(); b != 0 && b < limit && c.bodyDone.Load() {
					c.watch()
				}
			}
			s.mu.Unlock()
		}
	}
}

func (s *Server) stopSweeper() {
	s.stopOnce.Do(func() { close(s.stop) })
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// New returns a server; nothing listens until Serve.
func New(cfg Config) *Server {
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 1 << 20
	}
	if cfg.BufferBytes <= 0 {
		cfg.BufferBytes = 64 << 10
	}
	return &Server{cfg: cfg, lns: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}, stop: make(chan struct{})}
}

// Serve accepts connections on ln until Shutdown or Close (then it returns
// ErrServerClosed) or an accept error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.wg.Add(1)
	s.sweep.Do(func() {
		s.wg.Add(1)
		go s.sweeper()
	})
	s.mu.Unlock()
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.shutting.Load() {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, closes idle connections, lets in-flight
// requests finish (their connections close after the response), and waits
// until every connection is gone or ctx ends; then it closes what is left
// and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutting.Store(true)
	s.closeListeners()
	s.stopSweeper()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if s.closeIdle() == 0 {
			s.wg.Wait()
			return nil
		}
		select {
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.shutting.Store(true)
	s.closeListeners()
	s.stopSweeper()
	s.mu.Lock()
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ln := range s.lns {
		ln.Close()
		delete(s.lns, ln)
	}
}

// closeIdle closes the idle connections and returns how many remain.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.nc.Close()
		}
	}
	return len(s.conns)
}

// dateCache is the Date header value, formatted once a second.
type dateCache struct {
	v atomic.Pointer[dateVal]
}

type dateVal struct {
	sec int64
	b   []byte
}

func (d *dateCache) get() []byte {
	now := time.Now()
	sec := now.Unix()
	if v := d.v.Load(); v != nil && v.sec == sec {
		return v.b
	}
	v := &dateVal{sec: sec, b: now.UTC().AppendFormat(nil, http.TimeFormat)}
	d.v.Store(v)
	return v.b
}

// bufConn is a connection whose first bytes were already read into br.
type bufConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.br.Read(p) }

// ChanListener is a net.Listener fed by Put: it hands connections that
// another server accepted (h2c ones) to an http.Server.
type ChanListener struct {
	addr net.Addr
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

// NewChanListener returns a listener reporting addr.
func NewChanListener(addr net.Addr) *ChanListener {
	return &ChanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Put hands c to the next Accept; after Close it closes c.
func (l *ChanListener) Put(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		c.Close()
	}
}

// Accept implements net.Listener.
func (l *ChanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *ChanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *ChanListener) Addr() net.Addr { return l.addr }

var _ io.Reader = (*bufConn)(nil)
