// Package transport carries WAMP sessions over sockets and hands each one to
// a wamp.Acceptor (the router) as a wamp.Peer:
//
//   - WebSocket (RFC 6455, server side, written here) with the subprotocols
//     wamp.2.json, wamp.2.msgpack, wamp.2.cbor and their .batched variants;
//   - RawSocket over TCP (handshake, length limits, PING/PONG);
//   - a universal port serving both on one listener: a first byte of 0x7F
//     is RawSocket, anything else HTTP/WebSocket (as Crossbar does).
//
// Every peer has a byte-bounded outbound queue drained by a writer
// goroutine that exists only while there is something to write and sends
// everything queued in one writev. A peer whose queue overflows is closed
// with ABORT wamp.close.slow_consumer, logged and counted — never silently
// skipped. Idle connections hold no read buffer (a pooled one is taken when
// bytes arrive) and no writer goroutine, to keep memory per idle session
// small.
package transport

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/wamp"
)

// Config configures a Server. Zero values take the defaults shown.
type Config struct {
	Log *slog.Logger
	// Metrics receives the transport metrics; nil means none are exported.
	Metrics prometheus.Registerer
	// OutboundQueueBytes bounds each peer's queue of encoded, unsent
	// messages (default 4 MiB). One message larger than the bound is still
	// sent when the queue is empty.
	OutboundQueueBytes int
	// MaxMessageBytes is the largest message accepted from a client
	// (default and maximum 16 MiB, the RawSocket limit).
	MaxMessageBytes int
	// HandshakeTimeout bounds the WebSocket upgrade request and the
	// RawSocket handshake (default 10 s).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each socket write (default 30 s); a client that
	// reads nothing for that long is disconnected.
	WriteTimeout time.Duration
	// CloseTimeout bounds the flush of queued messages when a peer closes
	// (default 2 s).
	CloseTimeout time.Duration
}

const (
	maxRawSocketLen = 1 << 24
)

func (c *Config) defaults() {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.OutboundQueueBytes <= 0 {
		c.OutboundQueueBytes = 4 << 20
	}
	if c.MaxMessageBytes <= 0 || c.MaxMessageBytes > maxRawSocketLen {
		c.MaxMessageBytes = maxRawSocketLen
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 2 * time.Second
	}
}

// Server runs the transports of one router.
type Server struct {
	cfg Config
	acc wamp.Acceptor
	m   *metrics

	mu     sync.Mutex
	peers  map[*peer]struct{}
	lns    map[net.Listener]struct{}
	https  []*http.Server
	closed bool
	wg     sync.WaitGroup

	bufs    bufPools
	evCache [6]atomic.Pointer[encoded]

	quietGap  time.Duration // write-through threshold (quietGap in peer.go; tests change it)
	thruRests atomic.Int64  // write-throughs that left a rest for the writer
}

// New returns a Server handing peers to acc.
func New(cfg Config, acc wamp.Acceptor) *Server {
	cfg.defaults()
	return &Server{
		cfg:   cfg,
		acc:   acc,
		m:     newMetrics(cfg.Metrics),
		peers: map[*peer]struct{}{},
		lns:   map[net.Listener]struct{}{},

		quietGap: quietGap,
	}
}

// track registers a running peer; false when the server is closed.
func (s *Server) track(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.peers[p] = struct{}{}
	s.wg.Add(1) // the session goroutine, released in run
	return true
}

func (s *Server) untrack(p *peer) {
	s.mu.Lock()
	delete(s.peers, p)
	s.mu.Unlock()
}

// Sessions returns the number of open peers.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

// Close stops the listeners given to Serve*, closes every peer (flushing
// what is queued, within CloseTimeout) and waits for every goroutine the
// server started, until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	lns := s.lns
	s.lns = map[net.Listener]struct{}{}
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	https := s.https
	s.mu.Unlock()
	for ln := range lns {
		ln.Close()
	}
	for _, h := range https {
		h.Close()
	}
	for _, p := range peers {
		p.Close()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addListener remembers ln so Close can stop it; false when closed.
func (s *Server) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.lns[ln] = struct{}{}
	return true
}

// acceptLoop accepts connections on ln and runs handle for each on its own
// goroutine, until ln is closed.
func (s *Server) acceptLoop(ln net.Listener, handle func(net.Conn)) {
	if !s.addListener(ln) {
		ln.Close()
		return
	}
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			handle(c)
		}()
	}
}
