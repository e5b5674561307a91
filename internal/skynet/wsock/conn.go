package wsock

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Handler receives a connection's messages and its end.
type Handler interface {
	// OnMessage gets one whole message; data is valid only during the call.
	// Calls for one connection come one at a time, in order.
	OnMessage(c *Conn, text bool, data []byte)
	// OnClose is called once, after the last OnMessage, when the
	// connection is gone; reason says why.
	OnClose(c *Conn, reason string)
}

// Config tunes a Poller. Zero values pick the defaults.
type Config struct {
	// MaxMessage bounds one message (after reassembly); default 1 MiB.
	MaxMessage int
	// MaxQueued bounds the bytes waiting to be written to one slow client;
	// past it the connection is closed with a reason. Default 1 MiB.
	MaxQueued int
	// WriteTimeout bounds one blocked write to a client; default 10 s.
	WriteTimeout time.Duration
	// Overflow, if set, is called when a connection is closed because its
	// queue overflowed (for a metric).
	Overflow func()
	Log      *slog.Logger
}

// ErrClosed is returned when writing to a closed connection.
var ErrClosed = errors.New("websocket: connection closed")

// Conn is one server-side WebSocket connection.
type Conn struct {
	p      *Poller
	nc     net.Conn
	rc     syscall.RawConn
	fd     int
	h      Handler
	remote string

	// Data belongs to the protocol layer.
	Data any

	lastRead atomic.Int64 // unix nanoseconds of the last bytes read

	// reader state, touched only by the one reading goroutine
	partial []byte // bytes of an incomplete frame
	msg     []byte // fragments of an incomplete message
	msgOp   byte

	mu          sync.Mutex
	out         []byte // frames waiting to be written
	writing     bool   // a write is in flight (inline or flusher)
	reading     bool   // a reader goroutine is running
	armed       bool   // the descriptor is in the epoll set
	closed      bool
	closeReason string
	notified    bool
	deferred    bool // in the poller's dirty list: a worker writes c.out
}

// RemoteAddr is the client's IP address without the port.
func (c *Conn) RemoteAddr() string { return c.remote }

// LastRead is when bytes last arrived from the client.
func (c *Conn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// Poller owns many connections and one epoll set. The epoll descriptor is
// itself waited on through Go's netpoller (it is readable when any of its
// connections is), so no OS thread sits blocked in epoll_wait holding one
// of the scheduler's Ps.
type Poller struct {
	cfg    Config
	log    *slog.Logger
	epfd   int
	epf    *os.File
	eprc   syscall.RawConn
	loopWG sync.WaitGroup // the epoll loop
	wg     sync.WaitGroup // readers, flushers, closers
	mu     sync.Mutex
	conns  map[int]*Conn
	closed bool
	bufs   sync.Pool
	work   chan *Conn    // hands a readable connection to an idle reader
	done   chan struct{} // closed by Close: idle readers leave
	idle   int           // idle readers (under mu)

	// Write coalescing (see beginBatch): while a reader is decoding a
	// read's frames, writes are queued and the connections listed in
	// dirty; the reader writes them all when the read's frames are done,
	// so a burst of frames to one connection costs one write(2).
	bmu    sync.Mutex
	active int     // readers inside a batch
	dirty  []*Conn // connections with deferred writes
	spare  []*Conn
	// batchTimer writes the dirty list if no batch ends for batchMaxDelay
	// (a reader blocked in a slow handler must not hold others' writes)
	batchTimer *time.Timer
	timerArmed bool
}

// batchMaxDelay bounds how long a deferred write waits for a batch to end.
const batchMaxDelay = 500 * time.Microsecond

const readBufSize = 4096

// NewPoller starts an epoll loop.
func NewPoller(cfg Config) (*Poller, error) {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 1 << 20
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 1 << 20
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	f := os.NewFile(uintptr(epfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &Poller{cfg: cfg, log: log, epfd: epfd, epf: f, eprc: rc, conns: map[int]*Conn{}, work: make(chan *Conn), done: make(chan struct{})}
	p.bufs.New = func() any { b := make([]byte, readBufSize); return &b }
	p.batchTimer = time.AfterFunc(time.Hour, p.batchTimeout)
	p.batchTimer.Stop()
	p.loopWG.Add(1)
	go p.loop()
	return p, nil
}

// Len is the number of live connections.
func (p *Poller) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Each calls fn for every live connection (outside the poller's lock).
func (p *Poller) Each(fn func(*Conn)) {
	p.mu.Lock()
	cs := make([]*Conn, 0, len(p.conns))
	for _, c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		fn(c)
	}
}

// Close closes every connection (going away) and stops the loop and every
// goroutine the poller started.
func (p *Poller) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.done)
	p.Each(func(c *Conn) { c.CloseWith(CloseGoingAway, "server shutting down") })
	p.wg.Wait() // readers, flushers and closers finish: every conn is out of the set
	p.batchTimer.Stop()
	p.epf.Close()
	p.loopWG.Wait()
}

func (p *Poller) loop() {
	defer p.loopWG.Done()
	events := make([]syscall.EpollEvent, 256)
	var ready []*Conn
	for {
		err := p.eprc.Read(func(fd uintptr) bool {
			for {
				n, err := syscall.EpollWait(int(fd), events, 0)
				if err == syscall.EINTR {
					continue
				}
				if err != nil || n <= 0 {
					return len(ready) > 0 // park in the netpoller until readable
				}
				p.mu.Lock()
				for i := 0; i < n; i++ {
					if c := p.conns[int(events[i].Fd)]; c != nil {
						ready = append(ready, c)
					}
				}
				p.mu.Unlock()
				if n < len(events) {
					return true
				}
			}
		})
		if err != nil {
			return // the epoll file was closed
		}
		for i, c := range ready {
			c.startRead()
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// Accept completes the WebSocket handshake of r (hijacking the
// connection), calls init with the new Conn (before any message can
// arrive), and hands the connection to the poller. On a bad handshake it
// answers the HTTP error itself and returns an error.
func (p *Poller) Accept(w http.ResponseWriter, r *http.Request, h Handler, init func(*Conn)) (*Conn, error) {
	key, err := checkHandshake(w, r)
	if err != nil {
		return nil, err
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "websocket: connection cannot be taken over", http.StatusInternalServerError)
		return nil, errors.New("websocket: response writer is not a Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, err
	}
	sc, ok := nc.(syscall.Conn)
	var rc syscall.RawConn
	if ok {
		rc, err = sc.SyscallConn()
	}
	if !ok || err != nil {
		io.WriteString(nc, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		nc.Close()
		return nil, errors.New("websocket: not a socket connection")
	}
	var leftover []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		leftover = append([]byte(nil), b...)
	}
	nc.SetDeadline(time.Time{})
	c := &Conn{p: p, nc: nc, rc: rc, h: h, partial: leftover}
	if host, _, err := net.SplitHostPort(nc.RemoteAddr().String()); err == nil {
		c.remote = host
	}
	rc.Control(func(fd uintptr) { c.fd = int(fd) })
	c.lastRead.Store(time.Now().UnixNano())
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := io.WriteString(nc, resp); err != nil {
		nc.Close()
		return nil, err
	}
	if init != nil {
		init(c)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		nc.Close()
		return nil, ErrClosed
	}
	p.conns[c.fd] = c
	// Hold a place in p.wg while dispatching: taken while the poller is
	// known open, so a Close that starts now waits for it instead of
	// racing dispatch's own wg.Add against its wg.Wait.
	p.wg.Add(1)
	p.mu.Unlock()
	c.mu.Lock()
	c.reading = true // the first read runs now: leftover bytes, then arming
	c.mu.Unlock()
	p.dispatch(c)
	p.wg.Done()
	return c, nil
}

func checkHandshake(w http.ResponseWriter, r *http.Request) (string, error) {
	fail := func(code int, msg string) (string, error) {
		if code == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, msg, code)
		return "", errors.New(msg)
	}
	if r.Method != http.MethodGet {
		return fail(http.StatusMethodNotAllowed, "websocket: handshake must be a GET")
	}
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket") {
		return fail(http.StatusUpgradeRequired, "websocket: expected an Upgrade: websocket request")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return fail(http.StatusUpgradeRequired, "websocket: unsupported Sec-WebSocket-Version (13 is)")
	}
	key := strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key"))
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return fail(http.StatusBadRequest, "websocket: bad Sec-WebSocket-Key")
	}
	return key, nil
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func acceptKey(key string) string {
	s := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(s[:])
}

// IsUpgrade reports whether r asks for a WebSocket.
func IsUpgrade(r *http.Request) bool {
	return headerHas(r.Header, "Upgrade", "websocket")
}

// startRead runs a reader goroutine unless one is running.
func (c *Conn) startRead() {
	c.mu.Lock()
	if c.reading || c.closed {
		c.mu.Unlock()
		return
	}
	c.reading = true
	c.mu.Unlock()
	c.p.dispatch(c)
}

// Readers: a few goroutines linger after serving a connection so that a
// busy poller reuses them (and their grown stacks); an idle poller has
// none.
const (
	maxIdleWorkers = 32
	workerLinger   = 2 * time.Second
)

// dispatch gives c (whose reading flag is set) to an idle reader, or
// starts one.
func (p *Poller) dispatch(c *Conn) {
	select {
	case p.work <- c:
		return
	default:
	}
	p.wg.Add(1)
	go p.worker(c)
}

func (p *Poller) worker(c *Conn) {
	defer p.wg.Done()
	var t *time.Timer
	for {
		c.serve()
		p.mu.Lock()
		if p.closed || p.idle >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		p.idle++
		p.mu.Unlock()
		if t == nil {
			t = time.NewTimer(workerLinger)
			defer t.Stop()
		} else {
			t.Reset(workerLinger)
		}
		var ok bool
		select {
		case c = <-p.work:
			ok = true
		case <-t.C:
		case <-p.done:
		}
		p.mu.Lock()
		p.idle--
		p.mu.Unlock()
		if !ok {
			return
		}
	}
}

// serve reads what is available, handles whole frames, then re-arms the
// descriptor (EPOLLONESHOT keeps one reader per connection).
func (c *Conn) serve() {
	bp := c.p.bufs.Get().(*[]byte)
	buf := *bp
	first := len(c.partial) > 0
	for i := 0; i < 16; i++ {
		if first {
			first = false
			if !c.consume(nil) {
				break
			}
			continue
		}
		var n int
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
			for {
				n, rerr = syscall.Read(int(fd), buf)
				if rerr != syscall.EINTR {
					return true
				}
			}
		})
		if err != nil {
			rerr = err
		}
		if rerr == syscall.EAGAIN {
			break
		}
		if rerr != nil || n <= 0 {
			reason := "client closed the connection"
			if rerr != nil {
				reason = "read: " + rerr.Error()
			}
			c.shutdown(0, reason)
			break
		}
		c.lastRead.Store(time.Now().UnixNano())
		c.p.beginBatch()
		ok := c.consume(buf[:n])
		c.p.endBatch()
		if !ok || n < len(buf) {
			// a short read took what the socket held: re-arm rather
			// than pay a read(2) that says EAGAIN (EPOLL_CTL_MOD reports
			// bytes that arrived meanwhile at once)
			break
		}
	}
	c.p.bufs.Put(bp)
	c.mu.Lock()
	c.reading = false
	closed := c.closed
	if !closed {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(c.fd)}
		op := syscall.EPOLL_CTL_MOD
		if !c.armed {
			op = syscall.EPOLL_CTL_ADD
		}
		c.rc.Control(func(fd uintptr) {
			if err := syscall.EpollCtl(c.p.epfd, op, int(fd), &ev); err != nil {
				c.closed = true
				c.closeReason = "epoll: " + err.Error()
				closed = true
			}
		})
		c.armed = true
	}
	c.mu.Unlock()
	if closed {
		c.finish()
	}
}

// consume decodes frames from partial+b; false means the connection ended.
func (c *Conn) consume(b []byte) bool {
	data := b
	if len(c.partial) > 0 {
		data = append(c.partial, b...)
		c.partial = nil
	}
	for len(data) > 0 {
		f, n, err := ParseFrame(data, c.p.cfg.MaxMessage)
		if err != nil {
			var pe *ProtocolError
			errors.As(err, &pe)
			c.shutdown(pe.Code, pe.Msg)
			return false
		}
		if n == 0 {
			break
		}
		data = data[n:]
		if !c.frame(f) {
			return false
		}
	}
	if len(data) > 0 {
		c.partial = append([]byte(nil), data...)
	}
	return true
}

func (c *Conn) frame(f Frame) bool {
	switch f.Opcode {
	case OpPing:
		c.writeFrame(OpPong, f.Payload)
		return true
	case OpPong:
		return true
	case OpClose:
		code, reason := CloseNormal, "client closed the connection"
		if len(f.Payload) >= 2 {
			got := int(f.Payload[0])<<8 | int(f.Payload[1])
			if got >= 1000 && got < 5000 && got != 1004 && got != 1005 && got != 1006 {
				code = got
			} else {
				code = CloseProtocolError
			}
			if len(f.Payload) > 2 {
				reason = "client closed: " + string(f.Payload[2:])
			}
		}
		c.shutdown(code, reason)
		return false
	case OpText, OpBinary:
		if c.msg != nil {
			c.shutdown(CloseProtocolError, "new message inside a fragmented one")
			return false
		}
		if !f.Fin {
			c.msgOp = f.Opcode
			c.msg = append(make([]byte, 0, len(f.Payload)), f.Payload...)
			return true
		}
		return c.deliver(f.Opcode, f.Payload)
	case OpContinuation:
		if c.msg == nil {
			c.shutdown(CloseProtocolError, "continuation frame without a message")
			return false
		}
		if len(c.msg)+len(f.Payload) > c.p.cfg.MaxMessage {
			c.shutdown(CloseTooBig, "message too big")
			return false
		}
		c.msg = append(c.msg, f.Payload...)
		if !f.Fin {
			return true
		}
		m := c.msg
		c.msg = nil
		return c.deliver(c.msgOp, m)
	}
	return true
}

func (c *Conn) deliver(op byte, p []byte) bool {
	if op == OpText && !utf8.Valid(p) {
		c.shutdown(CloseInvalidPayload, "text message is not UTF-8")
		return false
	}
	c.h.OnMessage(c, op == OpText, p)
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	return !closed
}

// WriteText queues a text message.
func (c *Conn) WriteText(p []byte) error { return c.writeFrame(OpText, p) }

// WriteBinary queues a binary message.
func (c *Conn) WriteBinary(p []byte) error { return c.writeFrame(OpBinary, p) }

// writeFrame appends a frame and writes it at once when the socket takes
// it; it never blocks on the client.
func (c *Conn) writeFrame(op byte, p []byte) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.out)+FrameSize(len(p)) > c.p.cfg.MaxQueued {
		c.closed = true
		c.closeReason = "slow consumer: outgoing queue over " + itoa(c.p.cfg.MaxQueued) + " bytes"
		c.mu.Unlock()
		if c.p.cfg.Overflow != nil {
			c.p.cfg.Overflow()
		}
		c.p.log.Warn("websocket client too slow; closing", "remote", c.remote, "queued", c.p.cfg.MaxQueued)
		c.finishAsync()
		return ErrClosed
	}
	c.out = AppendFrame(c.out, op, p)
	if c.writing || c.deferred {
		c.mu.Unlock()
		return nil
	}
	if c.p.deferWrite(c) {
		c.deferred = true
		c.mu.Unlock()
		return nil
	}
	err := c.writeNowLocked()
	if err != nil {
		c.closed = true
		c.closeReason = "write: " + err.Error()
		c.mu.Unlock()
		c.finishAsync()
		return ErrClosed
	}
	if len(c.out) > 0 {
		c.writing = true
		c.p.wg.Add(1)
		go c.flush()
	}
	c.mu.Unlock()
	return nil
}

// beginBatch marks a reader decoding a read's frames: writes made
// meanwhile (by it or by anyone) are deferred to the end of a batch.
func (p *Poller) beginBatch() {
	p.bmu.Lock()
	p.active++
	p.bmu.Unlock()
}

// endBatch ends a reader's batch and writes every deferred connection.
func (p *Poller) endBatch() {
	p.bmu.Lock()
	p.active--
	p.flushDirtyLocked()
}

// deferWrite lists c (whose mu is held) for a batch's end when a batch is
// running; false means the caller writes now.
func (p *Poller) deferWrite(c *Conn) bool {
	p.bmu.Lock()
	defer p.bmu.Unlock()
	if p.active == 0 {
		return false
	}
	p.dirty = append(p.dirty, c)
	if !p.timerArmed {
		p.timerArmed = true
		p.batchTimer.Reset(batchMaxDelay)
	}
	return true
}

func (p *Poller) batchTimeout() {
	p.mu.Lock() // tracked like every goroutine of the poller
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()
	p.bmu.Lock()
	p.timerArmed = false
	p.flushDirtyLocked()
}

// flushDirtyLocked takes the dirty list (p.bmu held; released here) and
// writes each connection's queue.
func (p *Poller) flushDirtyLocked() {
	if len(p.dirty) == 0 {
		p.bmu.Unlock()
		return
	}
	list := p.dirty
	p.dirty = p.spare[:0]
	p.spare = nil
	if p.timerArmed {
		p.timerArmed = false
		p.batchTimer.Stop()
	}
	p.bmu.Unlock()
	for i, c := range list {
		c.writeDeferred()
		list[i] = nil
	}
	p.bmu.Lock()
	if p.spare == nil && cap(list) <= 1024 {
		p.spare = list[:0]
	}
	p.bmu.Unlock()
}

// writeDeferred writes what was queued while c was in the dirty list.
func (c *Conn) writeDeferred() {
	c.mu.Lock()
	c.deferred = false
	if c.closed || c.writing || len(c.out) == 0 {
		c.mu.Unlock()
		return
	}
	if err := c.writeNowLocked(); err != nil {
		c.closed = true
		c.closeReason = "write: " + err.Error()
		c.mu.Unlock()
		c.finishAsync()
		return
	}
	if len(c.out) > 0 {
		c.writing = true
		c.p.wg.Add(1)
		go c.flush()
	}
	c.mu.Unlock()
}

// writeNowLocked writes as much of c.out as the socket takes without
// waiting.
func (c *Conn) writeNowLocked() error {
	var werr error
	var n int
	err := c.rc.Write(func(fd uintptr) bool {
		for len(c.out) > 0 {
			n, werr = syscall.Write(int(fd), c.out)
			if werr == syscall.EINTR {
				continue
			}
			if werr != nil || n <= 0 {
				break
			}
			c.out = c.out[n:]
		}
		return true
	})
	if len(c.out) == 0 {
		c.out = nil
	}
	if err != nil {
		return err
	}
	if werr == syscall.EAGAIN {
		return nil
	}
	return werr
}

// flush waits (through Go's netpoller) until the client takes the queue.
func (c *Conn) flush() {
	defer c.p.wg.Done()
	for {
		c.mu.Lock()
		buf := c.out
		c.out = nil
		if len(buf) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.nc.SetWriteDeadline(time.Now().Add(c.p.cfg.WriteTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			c.shutdown(0, "write: "+err.Error())
			return
		}
	}
}

// Close sends a normal close frame with reason and ends the connection.
func (c *Conn) Close(reason string) { c.CloseWith(CloseNormal, reason) }

// CloseWith sends a close frame with code and reason (best effort, without
// waiting) and ends the connection.
func (c *Conn) CloseWith(code int, reason string) { c.shutdown(code, reason) }

// shutdown ends the connection once; code 0 sends no close frame.
func (c *Conn) shutdown(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closeReason = reason
	if code != 0 && !c.writing {
		c.out = AppendClose(c.out, code, reason)
		c.writeNowLocked()
	}
	reading := c.reading
	c.mu.Unlock()
	if !reading {
		c.finishAsync()
	}
	// a running reader calls finish when it returns
}

func (c *Conn) finishAsync() {
	c.mu.Lock()
	reading := c.reading
	c.mu.Unlock()
	if reading {
		return
	}
	c.p.wg.Add(1)
	go func() {
		defer c.p.wg.Done()
		c.finish()
	}()
}

// finish releases the socket and tells the handler, once.
func (c *Conn) finish() {
	c.mu.Lock()
	if c.notified || c.reading {
		c.mu.Unlock()
		return
	}
	c.notified = true
	reason := c.closeReason
	c.mu.Unlock()
	c.p.mu.Lock()
	if c.p.conns[c.fd] == c {
		delete(c.p.conns, c.fd)
	}
	c.p.mu.Unlock()
	c.rc.Control(func(fd uintptr) {
		syscall.EpollCtl(c.p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	c.nc.Close()
	c.h.OnClose(c, reason)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
