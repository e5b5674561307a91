package sio09

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"skyhub/internal/skynet/pollsess"
	"skyhub/internal/skynet/realtime"
	"skyhub/internal/skynet/wsock"
)

// Config configures a Server. Zero values pick the defaults.
type Config struct {
	Handler realtime.Handler
	Log     *slog.Logger
	// HeartbeatInterval is how often the server sends "2::" (default 25 s).
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is announced in the handshake; a client silent for
	// it is disconnected (default 60 s).
	HeartbeatTimeout time.Duration
	// CloseTimeout is announced in the handshake; a handshaken session
	// without a transport, or a polling client without a GET, for this long
	// is dropped (default 60 s).
	CloseTimeout time.Duration
	// PollDuration bounds one xhr-polling GET (default 20 s).
	PollDuration time.Duration
	// MaxQueued bounds the bytes waiting for one client; past it the
	// session is closed. Default 1 MiB.
	MaxQueued int
	// MaxBody bounds a POST body or a WebSocket message. Default 1 MiB.
	MaxBody int
	// MaxPendingAcks bounds server-to-client acks waiting (default 1024).
	MaxPendingAcks int
	// Overflow, if set, counts connections closed as too slow.
	Overflow func()
	// Sweep is how often heartbeats and timeouts are checked (default 1 s).
	Sweep time.Duration
}

// Server serves /socket.io/1/.
type Server struct {
	cfg Config
	log *slog.Logger
	hub *pollsess.Hub[*session]
}

// New starts a Server.
func New(cfg Config) (*Server, error) {
	d := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	d(&cfg.HeartbeatInterval, 25*time.Second)
	d(&cfg.HeartbeatTimeout, 60*time.Second)
	d(&cfg.CloseTimeout, 60*time.Second)
	d(&cfg.PollDuration, 20*time.Second)
	d(&cfg.Sweep, time.Second)
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 1 << 20
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxPendingAcks <= 0 {
		cfg.MaxPendingAcks = 1024
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Log}
	hub, err := pollsess.New(pollsess.Config[*session]{
		Poller:  wsock.Config{MaxMessage: cfg.MaxBody, MaxQueued: cfg.MaxQueued, Overflow: cfg.Overflow, Log: cfg.Log},
		Sweep:   cfg.Sweep,
		OnSweep: s.sweep,
	})
	if err != nil {
		return nil, err
	}
	s.hub = hub
	return s, nil
}

// Len is the number of sessions (handshaken or connected).
func (s *Server) Len() int { return s.hub.Len() }

// Polls is the number of polling GETs waiting for something to answer.
func (s *Server) Polls() int {
	return s.hub.Count(func(ss *session) bool {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		return ss.waiting
	})
}

// Close ends every session and stops every goroutine.
func (s *Server) Close() { s.hub.Close("server shutting down") }

// sweep closes sessions silent past their timeout and sends due heartbeats.
func (s *Server) sweep(now time.Time, all []*session) {
	var dead, beat []*session
	n := now.UnixNano()
	for _, ss := range all {
		seen := ss.lastSeen.Load()
		switch {
		case !ss.attached.Load():
			if time.Duration(n-seen) > s.cfg.CloseTimeout {
				dead = append(dead, ss)
			}
		case time.Duration(n-seen) > s.cfg.HeartbeatTimeout:
			dead = append(dead, ss)
		case time.Duration(n-ss.lastBeat.Load()) >= s.cfg.HeartbeatInterval:
			beat = append(beat, ss)
		}
	}
	for _, ss := range dead {
		ss.Close("heartbeat timeout")
	}
	for _, ss := range beat {
		ss.lastBeat.Store(n)
		ss.send([]byte("2::"))
	}
}

// ServeHTTP answers every request under /socket.io/1/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/socket.io/1")
	if !ok {
		http.NotFound(w, r)
		return
	}
	rest = strings.Trim(rest, "/")
	if rest == "" {
		s.handshake(w, r)
		return
	}
	transport, sid, _ := strings.Cut(rest, "/")
	if sid == "" || strings.Contains(sid, "/") {
		http.Error(w, "bad socket.io 0.9 path", http.StatusBadRequest)
		return
	}
	if transport != "websocket" && transport != "xhr-polling" {
		// 0.9 answers an unknown transport with an error frame
		plain(w, r, http.StatusOK, "7:::0+1")
		return
	}
	ss, _ := s.hub.Get(sid)
	if ss == nil {
		if transport == "websocket" && wsock.IsUpgrade(r) {
			c, err := s.hub.Poller().Accept(w, r, dropHandler{}, nil)
			if err == nil {
				c.WriteText([]byte("7:::1+0"))
				c.Close("client not handshaken")
			}
			return
		}
		plain(w, r, http.StatusOK, "7:::1+0") // client not handshaken, reconnect
		return
	}
	if transport == "websocket" {
		ss.attachWS(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		ss.poll(w, r)
	case http.MethodPost:
		ss.post(w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func plain(w http.ResponseWriter, r *http.Request, code int, body string) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

type dropHandler struct{}

func (dropHandler) OnMessage(*wsock.Conn, bool, []byte) {}
func (dropHandler) OnClose(*wsock.Conn, string)         {}

func (s *Server) handshake(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "handshake must be a GET", http.StatusMethodNotAllowed)
		return
	}
	var b [12]byte
	rand.Read(b[:])
	ss := &session{srv: s, sid: hex.EncodeToString(b[:]), query: map[string]string{}}
	for k, v := range r.URL.Query() {
		if len(v) > 0 && k != "t" {
			ss.query[k] = v[0]
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ss.remote = host
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	if !s.hub.Add(ss.sid, ss) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	secs := func(d time.Duration) string { return strconv.Itoa(max(1, int(d/time.Second))) }
	body := ss.sid + ":" + secs(s.cfg.HeartbeatTimeout) + ":" + secs(s.cfg.CloseTimeout) + ":websocket,xhr-polling"
	plain(w, r, http.StatusOK, body)
}

// session is one Socket.IO 0.9 client: a realtime.Conn.
type session struct {
	srv      *Server
	sid      string
	remote   string
	query    map[string]string // from the handshake, until the transport attaches
	lastSeen atomic.Int64
	lastBeat atomic.Int64
	attached atomic.Bool

	evMu sync.Mutex
	rs   realtime.Session

	mu        sync.Mutex
	ws        *wsock.Conn
	polling   bool // the client attached over xhr-polling
	waiting   bool // a GET is waiting
	queue     [][]byte
	queued    int
	wake      chan struct{}
	closed    bool
	acks      map[int64]realtime.Ack
	nextAck   int64
	connected bool
}

var _ realtime.Conn = (*session)(nil)

func (ss *session) RemoteAddr() string { return ss.remote }
func (ss *session) Transport() string  { return "socket.io-0.9" }

// attach records the transport and asks the Handler for a Session; the
// caller holds evMu.
func (ss *session) connect(r *http.Request) {
	q := ss.query
	ss.query = nil
	for k, v := range r.URL.Query() {
		if len(v) > 0 && k != "t" {
			q[k] = v[0]
		}
	}
	h := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if len(v) > 0 {
			h[k] = v[0]
		}
	}
	now := time.Now().UnixNano()
	ss.lastSeen.Store(now)
	ss.lastBeat.Store(now)
	ss.attached.Store(true)
	ss.rs = ss.srv.cfg.Handler.Connect(ss.srv.hub.Ctx(), ss, q, h)
	ss.evMu.Unlock()
	ss.mu.Lock()
	ss.connected = true
	closed := ss.closed
	ss.mu.Unlock()
	if closed {
		ss.notifyClosed()
	}
}

func (ss *session) attachWS(w http.ResponseWriter, r *http.Request) {
	if ss.attached.Load() {
		http.Error(w, "session already has a transport", http.StatusBadRequest)
		return
	}
	ss.evMu.Lock()
	_, err := ss.srv.hub.Poller().Accept(w, r, ss, func(c *wsock.Conn) {
		ss.mu.Lock()
		ss.ws = c
		ss.mu.Unlock()
		c.WriteText([]byte("1::"))
	})
	if err != nil {
		ss.evMu.Unlock()
		return
	}
	ss.connect(r)
}

// Emit implements realtime.Conn: "5:::{name,args}", or "5:N+::" with a
// trailing Ack.
func (ss *session) Emit(event string, args ...any) error {
	var ack realtime.Ack
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(realtime.Ack); ok {
			ack, args = a, args[:n-1]
		}
	}
	id := int64(-1)
	if ack != nil {
		ss.mu.Lock()
		if ss.closed {
			ss.mu.Unlock()
			return wsock.ErrClosed
		}
		if len(ss.acks) >= ss.srv.cfg.MaxPendingAcks {
			ss.mu.Unlock()
			ss.Close("too many unanswered acks")
			return wsock.ErrClosed
		}
		if ss.acks == nil {
			ss.acks = map[int64]realtime.Ack{}
		}
		ss.nextAck++
		id = ss.nextAck
		ss.acks[id] = ack
		ss.mu.Unlock()
	}
	f, err := AppendEvent(make([]byte, 0, 40+realtime.SizeHint(event, args)), id, event, args)
	if err != nil {
		return err
	}
	return ss.send(f)
}

func (ss *session) send(f []byte) error {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return wsock.ErrClosed
	}
	if ws := ss.ws; ws != nil {
		ss.mu.Unlock()
		return ws.WriteText(f)
	}
	if ss.queued+len(f) > ss.srv.cfg.MaxQueued {
		ss.mu.Unlock()
		if ss.srv.cfg.Overflow != nil {
			ss.srv.cfg.Overflow()
		}
		ss.srv.log.Warn("socket.io 0.9 client too slow; closing", "sid", ss.sid, "remote", ss.remote)
		ss.Close("slow consumer: polling queue over " + strconv.Itoa(ss.srv.cfg.MaxQueued) + " bytes")
		return wsock.ErrClosed
	}
	ss.queue = append(ss.queue, f)
	ss.queued += len(f)
	if ss.wake != nil {
		close(ss.wake)
		ss.wake = nil
	}
	ss.mu.Unlock()
	return nil
}

// Close implements realtime.Conn: a disconnect frame, then the end.
func (ss *session) Close(reason string) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ws := ss.ws
	if ws == nil {
		ss.queue = append(ss.queue, []byte("0::"))
	}
	ss.closed = true
	if ss.wake != nil {
		close(ss.wake)
		ss.wake = nil
	}
	ss.mu.Unlock()
	ss.srv.log.Debug("socket.io 0.9 session closed", "sid", ss.sid, "reason", reason)
	if ws != nil {
		ws.WriteText([]byte("0::"))
		ws.Close(reason)
	}
	ss.srv.hub.Remove(ss.sid, ss)
	ss.notifyClosed()
}

func (ss *session) notifyClosed() {
	ss.mu.Lock()
	if !ss.connected || !ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.connected = false
	ss.mu.Unlock()
	ss.srv.hub.Go(func() {
		ss.evMu.Lock()
		rs := ss.rs
		ss.rs = nil
		ss.evMu.Unlock()
		if rs != nil {
			rs.Closed()
		}
	})
}

// poll is an xhr-polling GET.
func (ss *session) poll(w http.ResponseWriter, r *http.Request) {
	first := false
	ss.mu.Lock()
	if ss.ws != nil || ss.waiting {
		ss.mu.Unlock()
		http.Error(w, "overlapping or mismatched polling request", http.StatusBadRequest)
		return
	}
	if !ss.polling {
		ss.polling, first = true, true
		ss.queue = append([][]byte{[]byte("1::")}, ss.queue...)
	}
	ss.mu.Unlock()
	if first {
		ss.evMu.Lock()
		ss.connect(r)
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	ss.mu.Lock()
	ss.waiting = true
	var timer *time.Timer
	for len(ss.queue) == 0 && !ss.closed {
		if ss.wake == nil {
			ss.wake = make(chan struct{})
		}
		wake := ss.wake
		ss.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(ss.srv.cfg.PollDuration)
			defer timer.Stop()
		}
		done := false
		select {
		case <-wake:
		case <-timer.C:
			done = true
		case <-r.Context().Done():
			ss.mu.Lock()
			ss.waiting = false
			ss.mu.Unlock()
			return
		case <-ss.srv.hub.Ctx().Done():
			done = true
		}
		ss.mu.Lock()
		if done && len(ss.queue) == 0 {
			ss.queue = append(ss.queue, []byte("8::"))
		}
	}
	frames := ss.queue
	ss.queue, ss.queued = nil, 0
	ss.waiting = false
	ss.mu.Unlock()
	ss.lastSeen.Store(time.Now().UnixNano())
	plain(w, r, http.StatusOK, string(AppendPayload(nil, frames)))
}

// post is an xhr-polling POST of client frames.
func (ss *session) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(ss.srv.cfg.MaxBody)+1))
	if err != nil || len(body) > ss.srv.cfg.MaxBody {
		http.Error(w, "body too big", http.StatusRequestEntityTooLarge)
		return
	}
	ss.mu.Lock()
	ok := ss.polling && !ss.closed
	ss.mu.Unlock()
	if !ok {
		plain(w, r, http.StatusOK, "7:::1+0")
		return
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	frames, err := DecodePayload(body)
	if err != nil {
		ss.send([]byte("7:::"))
	}
	for _, f := range frames {
		ss.frame(f)
	}
	plain(w, r, http.StatusOK, "1")
}

// frame handles one client frame.
func (ss *session) frame(b []byte) {
	f, err := Decode(b)
	if err != nil {
		// a frame 0.9 cannot parse: an error frame, and the session goes on
		ss.send([]byte("7:::"))
		return
	}
	switch f.Type {
	case TypeDisconnect:
		ss.Close("client disconnected")
	case TypeHeartbeat, TypeNoop, TypeConnect, TypeError:
	case TypeMessage, TypeJSON:
		arg := json.RawMessage(f.Data)
		if f.Type == TypeMessage {
			arg, _ = json.Marshal(string(f.Data))
		}
		ss.event("message", []json.RawMessage{arg}, f)
	case TypeEvent:
		ss.event(f.Name, f.Args, f)
	case TypeAck:
		ss.mu.Lock()
		a := ss.acks[f.AckID]
		delete(ss.acks, f.AckID)
		if len(ss.acks) == 0 {
			ss.acks = nil
		}
		ss.mu.Unlock()
		if a != nil {
			args := make([]any, len(f.AckArgs))
			for i, v := range f.AckArgs {
				args[i] = v
			}
			a(args...)
		}
	}
}

func (ss *session) event(name string, args []json.RawMessage, f Frame) {
	var ack realtime.Ack
	if f.ID >= 0 {
		id, data := f.ID, f.DataAck
		var once sync.Once
		ack = func(res ...any) {
			once.Do(func() {
				if !data {
					ss.send([]byte("6:::" + strconv.FormatInt(id, 10)))
					return
				}
				if res == nil {
					res = []any{}
				}
				b, err := json.Marshal(res)
				if err != nil {
					b = []byte("[]")
				}
				ss.send(AppendAck(nil, id, b))
			})
		}
	}
	ss.evMu.Lock()
	if rs := ss.rs; rs != nil {
		rs.Event(ss.srv.hub.Ctx(), name, args, ack)
	}
	ss.evMu.Unlock()
}

// OnMessage implements wsock.Handler.
func (ss *session) OnMessage(c *wsock.Conn, text bool, data []byte) {
	ss.lastSeen.Store(time.Now().UnixNano())
	ss.frame(data)
}

// OnClose implements wsock.Handler.
func (ss *session) OnClose(c *wsock.Conn, reason string) { ss.Close(reason) }
