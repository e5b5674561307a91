package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
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
	// PingInterval and PingTimeout are announced in the open packet (EIO3:
	// the client pings); a session silent for their sum is closed.
	// Defaults 25 s and 60 s, as socket.io 1.x/2.x.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// MaxQueued bounds the bytes waiting for one client (polling queue or
	// WebSocket send queue); past it the session is closed. Default 1 MiB.
	MaxQueued int
	// MaxBody bounds a polling POST body and a WebSocket message. Default 1 MiB.
	MaxBody int
	// MaxPendingAcks bounds the server-to-client acks waiting for an answer
	// on one connection; past it the connection is closed. Default 1024.
	MaxPendingAcks int
	// Overflow, if set, counts connections closed as too slow.
	Overflow func()
	// Sweep is how often sessions are checked for ping timeouts (default 1 s).
	Sweep time.Duration
}

// Server serves /socket.io/ (Engine.IO v3).
type Server struct {
	cfg Config
	log *slog.Logger
	hub *pollsess.Hub[*session]
}

// New starts a Server (its WebSocket poller and its timeout sweeper).
func New(cfg Config) (*Server, error) {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 60 * time.Second
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 1 << 20
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxPendingAcks <= 0 {
		cfg.MaxPendingAcks = 1024
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = time.Second
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

// Len is the number of live sessions.
func (s *Server) Len() int { return s.hub.Len() }

// Polls is the number of polling GETs waiting for something to answer.
func (s *Server) Polls() int {
	return s.hub.Count(func(ss *session) bool {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		return ss.polling
	})
}

// Close ends every session and stops every goroutine.
func (s *Server) Close() { s.hub.Close("server shutting down") }

// sweep closes sessions silent for longer than PingInterval+PingTimeout.
func (s *Server) sweep(now time.Time, all []*session) {
	limit := s.cfg.PingInterval + s.cfg.PingTimeout
	for _, ss := range all {
		if now.Sub(time.Unix(0, ss.lastSeen.Load())) > limit {
			ss.Close("ping timeout")
		}
	}
}

// Engine.IO error codes for HTTP answers.
const (
	errTransportUnknown = 0
	errSessionUnknown   = 1
	errBadHandshake     = 2
	errBadRequest       = 3
	errForbidden        = 4
	errUnsupported      = 5
)

var errMessages = map[int]string{
	errTransportUnknown: "Transport unknown",
	errSessionUnknown:   "Session ID unknown",
	errBadHandshake:     "Bad handshake method",
	errBadRequest:       "Bad request",
	errForbidden:        "Forbidden",
	errUnsupported:      "Unsupported protocol version",
}

func writeError(w http.ResponseWriter, r *http.Request, code int) {
	cors(w, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]any{"code": code, "message": errMessages[code]})
	w.Write(b)
}

func cors(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
}

// ServeHTTP answers every request under /socket.io/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodOptions {
		cors(w, r)
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusOK)
		return
	}
	if q.Get("EIO") != "3" {
		writeError(w, r, errUnsupported)
		return
	}
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		writeError(w, r, errTransportUnknown)
		return
	}
	if q.Get("j") != "" {
		// JSONP polling is for old browsers; no client SkyNet knows uses it.
		writeError(w, r, errBadRequest)
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		if r.Method != http.MethodGet {
			writeError(w, r, errBadHandshake)
			return
		}
		if transport == "websocket" {
			s.openWebSocket(w, r)
			return
		}
		s.openPolling(w, r)
		return
	}
	ss, _ := s.hub.Get(sid)
	if ss == nil {
		writeError(w, r, errSessionUnknown)
		return
	}
	if transport == "websocket" {
		if !wsock.IsUpgrade(r) {
			writeError(w, r, errBadRequest)
			return
		}
		ss.upgrade(w, r)
		return
	}
	if ss.isWS() {
		writeError(w, r, errBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		ss.poll(w, r)
	case http.MethodPost:
		ss.post(w, r)
	default:
		writeError(w, r, errBadRequest)
	}
}

func newSID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) openPacket(sid string, upgrades bool) []byte {
	up := []string{}
	if upgrades {
		up = []string{"websocket"}
	}
	b, _ := json.Marshal(map[string]any{
		"sid":          sid,
		"upgrades":     up,
		"pingInterval": s.cfg.PingInterval.Milliseconds(),
		"pingTimeout":  s.cfg.PingTimeout.Milliseconds(),
	})
	return append([]byte{eioOpen}, b...)
}

func (s *Server) newSession(r *http.Request) *session {
	ss := &session{srv: s, sid: newSID(), nextAck: 0}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ss.remote = host
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	return ss
}

func (s *Server) register(ss *session) bool { return s.hub.Add(ss.sid, ss) }

func (s *Server) forget(ss *session) { s.hub.Remove(ss.sid, ss) }

func flatten(h map[string][]string) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

func headerMap(r *http.Request) map[string]string {
	m := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if len(v) > 0 {
			m[http.CanonicalHeaderKey(k)] = v[0]
		}
	}
	return m
}

// openPolling is the Engine.IO handshake over polling: the first GET
// answers the open packet and the Socket.IO CONNECT of "/".
func (s *Server) openPolling(w http.ResponseWriter, r *http.Request) {
	ss := s.newSession(r)
	ss.queue = [][]byte{s.openPacket(ss.sid, true), []byte("40")}
	if !s.register(ss) {
		writeError(w, r, errForbidden)
		return
	}
	ss.evMu.Lock()
	ss.connect(r)
	ss.poll(w, r)
}

// openWebSocket is a session that starts on WebSocket (transports:
// ['websocket']).
func (s *Server) openWebSocket(w http.ResponseWriter, r *http.Request) {
	ss := s.newSession(r)
	ss.evMu.Lock()
	_, err := s.hub.Poller().Accept(w, r, ss, func(c *wsock.Conn) {
		ss.ws = c
		c.WriteText(s.openPacket(ss.sid, false))
		c.WriteText([]byte("40"))
	})
	if err != nil {
		ss.evMu.Unlock()
		s.log.Debug("socket.io websocket handshake failed", "err", err)
		return
	}
	if !s.register(ss) {
		ss.evMu.Unlock()
		ss.Close("server shutting down")
		return
	}
	// the WebSocket may have ended (client gone, garbage, server Close)
	// before the session was registered: its Close could not forget it
	ss.mu.Lock()
	closed := ss.closed
	ss.mu.Unlock()
	if closed {
		s.forget(ss)
	}
	ss.connect(r)
}

// session is one Engine.IO session: a realtime.Conn for the event layer.
type session struct {
	srv      *Server
	sid      string
	remote   string
	lastSeen atomic.Int64

	// evMu keeps client events in order, one at a time, and Closed after
	// the last of them.
	evMu sync.Mutex
	rs   realtime.Session

	mu        sync.Mutex
	ws        *wsock.Conn // the WebSocket once upgraded (or from the start)
	probe     *wsock.Conn // a WebSocket probing for upgrade
	queue     [][]byte    // Engine.IO packets waiting for a polling GET
	queued    int
	wake      chan struct{} // closed to release a waiting GET
	polling   bool          // a GET is waiting
	closed    bool
	reason    string
	acks      map[int64]realtime.Ack
	nextAck   int64
	connected bool // Handler.Connect has returned
}

var _ realtime.Conn = (*session)(nil)

// connect asks the Handler for the Session; the caller holds evMu, so no
// event can run before the Session exists.
func (ss *session) connect(r *http.Request) {
	rs := ss.srv.cfg.Handler.Connect(ss.srv.hub.Ctx(), ss, flatten(r.URL.Query()), headerMap(r))
	ss.rs = rs
	ss.evMu.Unlock()
	ss.mu.Lock()
	ss.connected = true
	closed := ss.closed
	ss.mu.Unlock()
	if closed {
		ss.notifyClosed()
	}
}

func (ss *session) isWS() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ws != nil
}

// RemoteAddr implements realtime.Conn.
func (ss *session) RemoteAddr() string { return ss.remote }

// Transport implements realtime.Conn.
func (ss *session) Transport() string { return "socket.io" }

// Emit implements realtime.Conn: EVENT ["event", args...], with an ack id
// when the last arg is a realtime.Ack.
func (ss *session) Emit(event string, args ...any) error {
	var ack realtime.Ack
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(realtime.Ack); ok {
			ack, args = a, args[:n-1]
		}
	}
	// the packet is rendered into one buffer (Engine.IO message type,
	// Socket.IO EVENT type, ack id, the array), after the ack id is known
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
		id = ss.nextAck
		ss.nextAck++
		ss.acks[id] = ack
		ss.mu.Unlock()
	}
	pkt := make([]byte, 0, 2+20+realtime.SizeHint(event, args))
	pkt = append(pkt, eioMessage)
	pkt = AppendSIO(pkt, sioEvent, id, nil)
	pkt, err := realtime.AppendEvent(pkt, event, args)
	if err != nil {
		ss.forgetAck(id)
		return err
	}
	return ss.send(pkt)
}

// forgetAck drops an ack registered for a packet that was never sent.
func (ss *session) forgetAck(id int64) {
	if id < 0 {
		return
	}
	ss.mu.Lock()
	delete(ss.acks, id)
	ss.mu.Unlock()
}

func (ss *session) sendSIO(typ int, id int64, data []byte) error {
	pkt := make([]byte, 0, 2+len(data)+8)
	pkt = append(pkt, eioMessage)
	pkt = AppendSIO(pkt, typ, id, data)
	return ss.send(pkt)
}

// send queues one Engine.IO packet (string form) for the client.
func (ss *session) send(pkt []byte) error {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return wsock.ErrClosed
	}
	if ws := ss.ws; ws != nil {
		err := ws.WriteText(pkt)
		ss.mu.Unlock()
		return err
	}
	if ss.queued+len(pkt) > ss.srv.cfg.MaxQueued {
		ss.mu.Unlock()
		if ss.srv.cfg.Overflow != nil {
			ss.srv.cfg.Overflow()
		}
		ss.srv.log.Warn("socket.io client too slow; closing", "sid", ss.sid, "remote", ss.remote, "queued", ss.srv.cfg.MaxQueued)
		ss.Close("slow consumer: polling queue over " + strconv.Itoa(ss.srv.cfg.MaxQueued) + " bytes")
		return wsock.ErrClosed
	}
	ss.queue = append(ss.queue, pkt)
	ss.queued += len(pkt)
	ss.wakeLocked()
	ss.mu.Unlock()
	return nil
}

func (ss *session) wakeLocked() {
	if ss.wake != nil {
		close(ss.wake)
		ss.wake = nil
	}
}

// Close implements realtime.Conn: DISCONNECT, then the transport ends.
func (ss *session) Close(reason string) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ws, probe := ss.ws, ss.probe
	if ws == nil {
		// the waiting (or next) GET gets the DISCONNECT and the close packet
		ss.queue = append(ss.queue, []byte("41"), []byte{eioClose})
	}
	ss.closed = true
	ss.reason = reason
	ss.wakeLocked()
	ss.mu.Unlock()
	ss.srv.log.Debug("socket.io session closed", "sid", ss.sid, "reason", reason)
	if ws != nil {
		ws.WriteText([]byte("41"))
		ws.Close(reason)
	}
	if probe != nil {
		probe.Close(reason)
	}
	ss.srv.forget(ss)
	ss.notifyClosed()
}

// notifyClosed calls Session.Closed once, after Connect returned and after
// the last event, without blocking the caller (Close may run inside Event
// or inside the hub's Emit).
func (ss *session) notifyClosed() {
	ss.mu.Lock()
	if !ss.connected || !ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.connected = false // marks Closed as delivered
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

// poll is a polling GET: it answers the queued packets, waiting for some
// up to the ping interval.
func (ss *session) poll(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.polling {
		ss.mu.Unlock()
		writeError(w, r, errBadRequest)
		ss.Close("overlapping polling requests")
		return
	}
	ss.polling = true
	var timer *time.Timer
	for len(ss.queue) == 0 && !ss.closed && ss.ws == nil {
		if ss.probe != nil {
			// an upgrade is under way: the client waits for this poll to
			// end before it sends the upgrade packet
			break
		}
		if ss.wake == nil {
			ss.wake = make(chan struct{})
		}
		wake := ss.wake
		ss.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(ss.srv.cfg.PingInterval)
			defer timer.Stop()
		}
		timedOut := false
		select {
		case <-wake:
		case <-timer.C:
			timedOut = true
		case <-r.Context().Done():
			ss.mu.Lock()
			ss.polling = false
			ss.mu.Unlock()
			return
		case <-ss.srv.hub.Ctx().Done():
		}
		ss.mu.Lock()
		if timedOut || ss.srv.hub.Ctx().Err() != nil {
			break
		}
	}
	if len(ss.queue) == 0 {
		// timed out, probing or upgraded: release the poll with a noop
		ss.queue = append(ss.queue, []byte{eioNoop})
	}
	pkts := ss.queue
	ss.queue, ss.queued = nil, 0
	ss.polling = false
	ss.mu.Unlock()
	ss.lastSeen.Store(time.Now().UnixNano())
	var body []byte
	for _, p := range pkts {
		body = AppendPayloadPacket(body, p)
	}
	cors(w, r)
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// post is a polling POST: the client's packets.
func (ss *session) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(ss.srv.cfg.MaxBody)+1))
	if err != nil {
		writeError(w, r, errBadRequest)
		return
	}
	if len(body) > ss.srv.cfg.MaxBody {
		writeError(w, r, errBadRequest)
		ss.Close("polling payload too big")
		return
	}
	pkts, err := DecodePayload(body)
	if err != nil {
		// engine.io closes a session whose payload does not parse
		writeError(w, r, errBadRequest)
		ss.Close("parse error")
		return
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	for _, p := range pkts {
		ss.packet(p, nil)
	}
	cors(w, r)
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "ok")
}

// packet handles one Engine.IO packet from the client; via is the
// WebSocket it came on (nil for polling).
func (ss *session) packet(p EIOPacket, via *wsock.Conn) {
	switch p.Type {
	case eioPing:
		pong := append([]byte{eioPong}, p.Data...)
		if via != nil && string(p.Data) == "probe" {
			via.WriteText(pong)
			// release a waiting GET so the client can pause polling
			ss.mu.Lock()
			ss.probe = via
			ss.wakeLocked()
			ss.mu.Unlock()
			return
		}
		ss.send(pong)
	case eioUpgrade:
		if via == nil {
			return
		}
		ss.mu.Lock()
		if ss.probe != via || ss.closed {
			ss.mu.Unlock()
			return
		}
		ss.ws, ss.probe = via, nil
		// flush under the lock so later packets cannot overtake these
		for _, q := range ss.queue {
			via.WriteText(q)
		}
		ss.queue, ss.queued = nil, 0
		ss.wakeLocked()
		ss.mu.Unlock()
	case eioMessage:
		ss.message(p)
	case eioClose:
		ss.Close("client closed the session")
	case eioNoop, eioPong, eioOpen:
	}
}

// message handles one Socket.IO packet.
func (ss *session) message(p EIOPacket) {
	if p.Binary {
		ss.sendSIO(sioError, -1, []byte(`"binary packets are not supported"`))
		return
	}
	sp, err := DecodeSIO(p.Data)
	if err != nil {
		ss.sendSIO(sioError, -1, []byte(`"parser error"`))
		return
	}
	if sp.Nsp != "/" {
		data, _ := json.Marshal("Invalid namespace")
		ss.send(append([]byte("44"+sp.Nsp+","), data...))
		return
	}
	switch sp.Type {
	case sioConnect:
		// already connected to "/"
	case sioDisconnect:
		ss.Close("client disconnected")
	case sioEvent:
		name, args := sp.Name, sp.Args
		var ack realtime.Ack
		if sp.ID >= 0 {
			id := sp.ID
			var once sync.Once
			ack = func(res ...any) {
				once.Do(func() {
					if res == nil {
						res = []any{}
					}
					b, err := json.Marshal(res)
					if err != nil {
						b = []byte("[]")
					}
					ss.sendSIO(sioAck, id, b)
				})
			}
		}
		ss.evMu.Lock()
		if rs := ss.rs; rs != nil {
			rs.Event(ss.srv.hub.Ctx(), name, args, ack)
		}
		ss.evMu.Unlock()
	case sioAck:
		ss.mu.Lock()
		a := ss.acks[sp.ID]
		delete(ss.acks, sp.ID)
		if len(ss.acks) == 0 {
			ss.acks = nil
		}
		ss.mu.Unlock()
		if a != nil {
			args := make([]any, len(sp.Args))
			for i, v := range sp.Args {
				args[i] = v
			}
			a(args...)
		}
	case sioError:
	case sioBinaryEvent, sioBinaryAck:
		ss.sendSIO(sioError, -1, []byte(`"binary packets are not supported"`))
	}
}

// upgrade takes a WebSocket for an existing polling session (probe, then
// upgrade packet).
func (ss *session) upgrade(w http.ResponseWriter, r *http.Request) {
	if _, err := ss.srv.hub.Poller().Accept(w, r, ss, nil); err != nil {
		ss.srv.log.Debug("socket.io upgrade handshake failed", "err", err)
	}
}

// OnMessage implements wsock.Handler.
func (ss *session) OnMessage(c *wsock.Conn, text bool, data []byte) {
	var p EIOPacket
	var err error
	if text {
		p, err = DecodePacket(data)
	} else {
		p, err = DecodeBinaryPacket(data)
	}
	if err != nil {
		// engine.io ends a transport that sends an unparsable packet
		c.CloseWith(wsock.CloseProtocolError, "engine.io parse error")
		return
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	ss.packet(p, c)
}

// OnClose implements wsock.Handler.
func (ss *session) OnClose(c *wsock.Conn, reason string) {
	ss.mu.Lock()
	if ss.probe == c {
		// a failed upgrade: polling goes on
		ss.probe = nil
		ss.mu.Unlock()
		return
	}
	mine := ss.ws == c
	ss.mu.Unlock()
	if mine {
		ss.Close(reason)
	}
}
