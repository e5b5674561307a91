// Package wsv2 serves SkyNet's plain WebSocket endpoint /ws/v2 with the
// framing of Meshblu 1.x and the npm meshblu-websocket client: every text
// message is a JSON array ["event", payload] in both directions, errors go
// back as ["error", {"message", "status", "frame"}], and WebSocket ping
// frames keep the connection alive. There are no acks on this transport.
// Only framing lives here: events go to a realtime.Session.
package wsv2

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"skyhub/internal/skynet/jsonv"
	"skyhub/internal/skynet/realtime"
	"skyhub/internal/skynet/wsock"
)

// Config configures a Server. Zero values pick the defaults.
type Config struct {
	Handler realtime.Handler
	Log     *slog.Logger
	// MaxQueued bounds the bytes waiting for one client (default 1 MiB).
	MaxQueued int
	// MaxMessage bounds one client message (default 1 MiB).
	MaxMessage int
	// Overflow, if set, counts connections closed as too slow.
	Overflow func()
}

// Server serves /ws/v2.
type Server struct {
	cfg    Config
	poller *wsock.Poller
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p, err := wsock.NewPoller(wsock.Config{MaxMessage: cfg.MaxMessage, MaxQueued: cfg.MaxQueued, Overflow: cfg.Overflow, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, poller: p, ctx: ctx, cancel: cancel}, nil
}

// Len is the number of live connections.
func (s *Server) Len() int { return s.poller.Len() }

// Close ends every connection and stops every goroutine.
func (s *Server) Close() {
	s.cancel()
	s.poller.Close()
	s.wg.Wait()
}

// ServeHTTP accepts a WebSocket at /ws/v2.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &conn{srv: s}
	c.evMu.Lock()
	_, err := s.poller.Accept(w, r, c, func(wc *wsock.Conn) { c.ws = wc })
	if err != nil {
		c.evMu.Unlock()
		return
	}
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			q[k] = v[0]
		}
	}
	h := map[string]string{}
	for k, v := range r.Header {
		if len(v) > 0 {
			h[k] = v[0]
		}
	}
	c.rs = s.cfg.Handler.Connect(s.ctx, c, q, h)
	c.evMu.Unlock()
	c.mu.Lock()
	c.connected = true
	closed := c.closed
	c.mu.Unlock()
	if closed {
		c.notifyClosed()
	}
}

type conn struct {
	srv  *Server
	ws   *wsock.Conn
	evMu sync.Mutex
	rs   realtime.Session

	mu        sync.Mutex
	connected bool
	closed    bool
}

var _ realtime.Conn = (*conn)(nil)

func (c *conn) RemoteAddr() string { return c.ws.RemoteAddr() }
func (c *conn) Transport() string  { return "ws" }

// Emit implements realtime.Conn: [event, args...]; an Ack is dropped.
func (c *conn) Emit(event string, args ...any) error {
	if n := len(args); n > 0 {
		if _, ok := args[n-1].(realtime.Ack); ok {
			args = args[:n-1]
		}
	}
	b, err := EncodeFrame(event, args)
	if err != nil {
		return err
	}
	return c.ws.WriteText(b)
}

// Close implements realtime.Conn.
func (c *conn) Close(reason string) { c.ws.Close(reason) }

// EncodeFrame renders [event, args...] (["event", null] without args, as
// meshblu-websocket destructures [type, data]).
func EncodeFrame(event string, args []any) ([]byte, error) {
	if len(args) == 0 {
		args = []any{nil}
	}
	return realtime.AppendEvent(make([]byte, 0, realtime.SizeHint(event, args)), event, args)
}

var errFrame = errors.New("invalid frame: expected a JSON array [\"event\", data]")

// DecodeFrame parses a client message ["event", data...].
func DecodeFrame(b []byte) (string, []json.RawMessage, error) {
	arr, err := jsonv.SplitRaw(b)
	if err != nil || len(arr) == 0 {
		return "", nil, errFrame
	}
	name, ok := jsonv.String(arr[0])
	if !ok || name == "" {
		return "", nil, errFrame
	}
	return name, arr[1:], nil
}

// OnMessage implements wsock.Handler.
func (c *conn) OnMessage(wc *wsock.Conn, text bool, data []byte) {
	name, args, err := DecodeFrame(data)
	if err != nil {
		frame := json.RawMessage(data)
		if !json.Valid(data) {
			frame, _ = json.Marshal(string(data))
		}
		b, _ := json.Marshal([]any{"error", map[string]any{"message": err.Error(), "status": 400, "frame": frame}})
		wc.WriteText(b)
		return
	}
	c.evMu.Lock()
	if rs := c.rs; rs != nil {
		rs.Event(c.srv.ctx, name, args, nil)
	}
	c.evMu.Unlock()
}

// OnClose implements wsock.Handler.
func (c *conn) OnClose(wc *wsock.Conn, reason string) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.notifyClosed()
}

func (c *conn) notifyClosed() {
	c.mu.Lock()
	if !c.connected || !c.closed {
		c.mu.Unlock()
		return
	}
	c.connected = false
	c.mu.Unlock()
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		c.evMu.Lock()
		rs := c.rs
		c.rs = nil
		c.evMu.Unlock()
		if rs != nil {
			rs.Closed()
		}
	}()
}
