package transport

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/wamp"
	"skyhub/internal/wamp/codec"
)

// ErrClosed is returned by Send on a closed peer.
var ErrClosed = errs.E("wamp.transport", errs.Unavailable, "session closed")

// ErrOverflow is returned by Send when the peer's outbound queue overflowed;
// the session has been closed with ABORT wamp.close.slow_consumer.
var ErrOverflow = errs.E("wamp.transport", errs.Unavailable, "outbound queue overflow: session closed")

// ErrTooLarge is returned by Send for a message larger than the client
// accepts (RawSocket); see metric skyhub_wamp_outbound_too_large_total.
var ErrTooLarge = errs.E("wamp.transport", errs.TooLarge, "message larger than the client accepts")

// CloseSlowConsumer is the ABORT reason of a session whose outbound queue
// overflowed.
const CloseSlowConsumer wamp.URI = "wamp.close.slow_consumer"

// framing is what differs between WebSocket and RawSocket on the wire.
type framing interface {
	// header returns the frame header for a data item; first/last say where
	// the item sits in a coalesced batch (WebSocket batched mode sends one
	// message as several fragments).
	header(dst []byte, it *item, first, last bool) []byte
	// closeFrame returns the final frame to send before closing, or nil.
	closeFrame(code uint16, reason string) []byte
	name() string
}

// item is one queued frame: a header built at drain time and a body that
// may be shared with other peers (a cached EVENT encoding).
type item struct {
	body   []byte
	ctl    byte // 0: WAMP message; else a control opcode/frame type
	pool   bool // body came from the buffer pool and is not shared
	framed bool // body is the unwritten rest of a frame, header included
}

// Write-through: a message for a peer whose queue is empty and whose
// last write is at least quietGap old is written at once by the sending
// goroutine (one non-blocking write, no writer goroutine); denser traffic
// goes through the writer, which coalesces. What a write-through leaves
// unwritten (a full socket buffer) is queued, framed, for the writer.
const (
	quietGap     = 100 * time.Microsecond
	writeThruMax = 8 << 10
)

type peer struct {
	s       *Server
	conn    net.Conn
	fr      framing
	sp      codec.Subprotocol // the serializer; Batched only on WebSocket
	kind    string            // "websocket", "rawsocket"
	peerMax int               // largest frame the client accepts (RawSocket), 0 = unlimited
	recv    chan wamp.Message
	done    chan struct{} // closed when the peer starts closing
	in      inbuf

	mu        sync.Mutex
	q         []item
	qBytes    int
	writing   bool
	lastWrite time.Time // when the last write started, for write-through
	closing   bool
	closeErr  wamp.URI // why, for the log
	wclosed   bool     // write side finished (close frame sent or failed)
	closeCode uint16
	closeMsg  string
	writer    sync.WaitGroup
}

// recvBuffer is how many decoded messages may wait for the router: the
// reader hands over everything one socket read brought without a goroutine
// switch per message, and the router routes them in one go (so replies to
// the same peer leave in one write).
const recvBuffer = 8

func (s *Server) newPeer(c net.Conn, fr framing, sp codec.Subprotocol, kind string) *peer {
	p := &peer{s: s, conn: c, fr: fr, sp: sp, kind: kind,
		recv: make(chan wamp.Message, recvBuffer), done: make(chan struct{})}
	p.in.c = c
	p.in.rc = rawConnOf(c)
	p.in.pool = &s.bufs
	return p
}

// run serves p: the router's session on its own goroutine, the reader on
// this one. It returns when both have finished.
func (p *peer) run() {
	s := p.s
	if !s.track(p) {
		p.conn.Close()
		return
	}
	s.m.sessions.WithLabelValues(p.kind).Inc()
	s.m.connections.WithLabelValues(p.kind, p.sp.String()).Inc()
	go func() {
		defer s.wg.Done()
		s.acc.Accept(p)
		p.Close()
	}()
	p.readLoop()
	close(p.recv)
	p.mu.Lock()
	graceful := p.closing
	p.mu.Unlock()
	if graceful {
		p.writer.Wait() // let the close frame / ABORT go out (bounded by CloseTimeout)
	}
	p.shutdown()
	p.writer.Wait()
	p.conn.Close()
	p.in.release(true)
	s.untrack(p)
	s.m.sessions.WithLabelValues(p.kind).Dec()
}

// Recv delivers the client's messages; closed when the connection ends.
func (p *peer) Recv() <-chan wamp.Message { return p.recv }

// deliver hands m to the router; false when the peer is closing.
func (p *peer) deliver(m wamp.Message) bool {
	select {
	case p.recv <- m:
		return true
	case <-p.done:
		return false
	}
}

// Send encodes msg and queues it. It never blocks.
func (p *peer) Send(msg wamp.Message) error {
	body, pooled, err := p.encode(msg)
	if err != nil {
		return err
	}
	if p.peerMax > 0 && len(body) > p.peerMax {
		if pooled {
			p.s.putBuf(body)
		}
		return p.tooLarge(msg, len(body))
	}
	return p.enqueue(item{body: body, pool: pooled})
}

// encode returns msg's frame body, from the server's EVENT cache when the
// router sends the same EVENT value to many peers.
func (p *peer) encode(msg wamp.Message) ([]byte, bool, error) {
	ev, isEvent := msg.(*wamp.Event)
	var slot *atomic.Pointer[encoded]
	if isEvent {
		slot = p.s.cacheSlot(p.sp)
		if e := slot.Load(); e != nil && e.msg == ev {
			return e.body, false, nil
		}
	}
	l := wamp.ToList(msg)
	if l == nil {
		return nil, false, errs.E("wamp.transport.Send", errs.Invalid, "not a WAMP message")
	}
	var buf []byte
	if !isEvent {
		if h := sizeHint(msg); h > smallBufMax/2 {
			buf = p.s.bufs.getLarge(h + h/8 + 512) // binary in JSON grows by 4/3
		} else {
			buf = p.s.getBuf()
		}
	}
	body, err := p.sp.AppendFrame(buf, l)
	if err != nil {
		if buf != nil {
			p.s.putBuf(buf)
		}
		return nil, false, errs.E("wamp.transport.Send", err)
	}
	if isEvent {
		slot.Store(&encoded{msg: ev, body: body})
		return body, false, nil
	}
	return body, true, nil
}

// sizeHint is a lower bound of msg's encoded size from its positional
// arguments' strings and byte strings, so a large body is encoded into a
// buffer of about the right size instead of growing one many times.
func sizeHint(msg wamp.Message) int {
	var args wamp.List
	switch m := msg.(type) {
	case *wamp.Invocation:
		args = m.Arguments
	case *wamp.Result:
		args = m.Arguments
	case *wamp.Error:
		args = m.Arguments
	default:
		return 0
	}
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			n += len(v) * 4 / 3
		case string:
			n += len(v)
		}
	}
	return n
}

// tooLarge applies the oversize policy: an EVENT is dropped (counted and
// logged), a RESULT becomes ERROR payload_size_exceeded for the caller;
// anything else fails with ErrTooLarge for the router to handle.
func (p *peer) tooLarge(msg wamp.Message, n int) error {
	t := msg.MessageType()
	p.s.m.tooLarge.WithLabelValues(t.String()).Inc()
	p.s.cfg.Log.Warn("wamp: outbound message larger than the client accepts",
		"type", t.String(), "bytes", n, "limit", p.peerMax, "remote", p.conn.RemoteAddr().String())
	if r, ok := msg.(*wamp.Result); ok {
		return p.Send(&wamp.Error{Type: wamp.CALL, Request: r.Request, Details: wamp.Dict{},
			Error: wamp.ErrPayloadSizeExceeded, Arguments: wamp.List{"result larger than the client's RawSocket limit"}})
	}
	return ErrTooLarge
}

func (p *peer) enqueue(it item) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		if it.pool {
			p.s.putBuf(it.body)
		}
		return ErrClosed
	}
	n := len(it.body)
	if p.qBytes > 0 && p.qBytes+n > p.s.cfg.OutboundQueueBytes && it.ctl == 0 {
		queued := p.qBytes
		p.mu.Unlock()
		if it.pool {
			p.s.putBuf(it.body)
		}
		p.overflow(queued, n)
		return ErrOverflow
	}
	if it.ctl == 0 {
		p.s.m.msgsOut.Inc()
		p.s.m.bytesOut.Add(float64(n))
	}
	if p.in.rc != nil && !p.writing && !p.wclosed && len(p.q) == 0 && n <= writeThruMax {
		if now := time.Now(); now.Sub(p.lastWrite) >= p.s.quietGap {
			p.writing = true
			p.writer.Add(1) // a close waits for this write like for the writer's
			p.lastWrite = now
			p.mu.Unlock()
			p.writeThrough(it)
			return nil
		}
	}
	p.q = append(p.q, it)
	p.qBytes += n
	p.startWriterLocked()
	p.mu.Unlock()
	return nil
}

// writeThrough writes it with one non-blocking write from the calling
// goroutine; p.writing is held. The unwritten rest, if any, is queued in
// front of whatever was queued meanwhile, and the writer takes over. It
// counts in p.writer, so a close that waits for the writer also waits for
// this write and the writer it may start (the ABORT of a protocol violation
// would otherwise be dropped when it is queued during a write-through).
func (p *peer) writeThrough(it item) {
	defer p.writer.Done()
	buf := p.fr.header(p.s.getBuf(), &it, true, true)
	buf = append(buf, it.body...)
	if it.pool {
		p.s.putBuf(it.body)
	}
	k, err := 0, error(nil)
	werr := p.in.rc.Write(func(fd uintptr) bool {
		for {
			k, err = syscall.Write(int(fd), buf)
			if err != syscall.EINTR {
				break
			}
		}
		return true // one attempt: never wait here
	})
	if err == syscall.EAGAIN {
		k, err = 0, nil
	}
	if werr != nil {
		err = werr
	}
	k = max(k, 0)
	p.s.m.writes.Inc()
	p.mu.Lock()
	if err != nil {
		p.wclosed = true
		p.writing = false
		p.mu.Unlock()
		p.s.putBuf(buf)
		p.conn.Close()
		return
	}
	if k < len(buf) {
		rest := item{body: buf[k:], pool: true, framed: true}
		p.q = append(p.q, item{})
		copy(p.q[1:], p.q)
		p.q[0] = rest
		p.qBytes += len(rest.body)
		p.s.thruRests.Add(1)
	} else {
		p.s.putBuf(buf)
	}
	p.writing = false
	if len(p.q) > 0 || (p.closing && !p.wclosed) {
		p.startWriterLocked()
	}
	p.mu.Unlock()
}

// startWriterLocked starts the writer goroutine unless it runs. p.mu held.
func (p *peer) startWriterLocked() {
	if p.writing || p.wclosed {
		return
	}
	p.writing = true
	p.writer.Add(1)
	go p.writeLoop()
}

// overflow closes a slow consumer: what is queued is discarded, the client
// gets ABORT wamp.close.slow_consumer, the event is logged and counted.
func (p *peer) overflow(queued, n int) {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	for _, it := range p.q {
		p.qBytes -= len(it.body) // what the writer has taken stays counted until written
		if it.pool {
			p.s.putBuf(it.body)
		}
	}
	p.q = p.q[:0]
	p.mu.Unlock()
	p.s.m.overflow.WithLabelValues(p.kind).Inc()
	p.s.cfg.Log.Warn("wamp: outbound queue overflow, closing slow consumer",
		"transport", p.kind, "remote", p.conn.RemoteAddr().String(),
		"queued_bytes", queued, "message_bytes", n, "limit", p.s.cfg.OutboundQueueBytes)
	p.abort(&wamp.Abort{Reason: CloseSlowConsumer, Details: wamp.Dict{
		"message": "outbound queue overflow: the client reads too slowly"}}, 1008, "slow consumer")
}

// abort queues msg as the last message and closes the peer.
func (p *peer) abort(msg *wamp.Abort, code uint16, reason string) {
	body, pooled, err := p.encode(msg)
	if err == nil {
		p.mu.Lock()
		if !p.closing {
			p.q = append(p.q, item{body: body, pool: pooled})
			p.qBytes += len(body)
		}
		p.mu.Unlock()
	}
	p.closeWith(code, reason)
}

// Close flushes what is queued (within CloseTimeout) and closes the
// connection.
func (p *peer) Close() { p.closeWith(1000, "") }

func (p *peer) closeWith(code uint16, reason string) {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	p.closing = true
	p.closeCode, p.closeMsg = code, reason
	close(p.done)
	// Bound the flush: the writer's deadline below, and the reader's, so a
	// client that neither reads nor closes cannot hold the connection.
	p.conn.SetDeadline(time.Now().Add(p.s.cfg.CloseTimeout))
	p.startWriterLocked()
	p.mu.Unlock()
}

// shutdown is called when the reader has ended: nothing more is sent.
func (p *peer) shutdown() {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		close(p.done)
	}
	p.wclosed = true
	for _, it := range p.q {
		if it.pool {
			p.s.putBuf(it.body)
		}
	}
	p.q = nil
	p.qBytes = 0
	p.mu.Unlock()
	p.conn.Close()
}

func (p *peer) writeLoop() {
	defer p.writer.Done()
	var iov net.Buffers
	var hdrs []byte
	var hl []int
	var deadline time.Time // the write deadline last set
	for {
		// Let every goroutine that is already runnable (readers woken by
		// the same poll, sessions routing to this peer) queue first: under
		// load that turns many small writes into one writev.
		runtime.Gosched()
		p.mu.Lock()
		batch := p.q
		p.q = nil
		// When closing and this drains the queue, the close frame goes out
		// in the same write.
		final := p.closing && !p.wclosed
		if final {
			p.wclosed = true
		}
		if len(batch) == 0 && !final {
			p.writing = false
			p.mu.Unlock()
			return
		}
		code, msg := p.closeCode, p.closeMsg
		p.lastWrite = time.Now()
		p.mu.Unlock()

		iov = iov[:0]
		hdrs = hdrs[:0]
		hl = hl[:0]
		n := 0
		for i := range batch {
			it := &batch[i]
			// Batched WebSocket mode: a run of WAMP messages between control
			// frames (and framed rests, complete messages) is one message.
			first := i == 0 || batch[i-1].ctl != 0 || batch[i-1].framed
			last := i == len(batch)-1 || batch[i+1].ctl != 0 || batch[i+1].framed
			start := len(hdrs)
			if !it.framed {
				hdrs = p.fr.header(hdrs, it, first, last)
			}
			hl = append(hl, len(hdrs)-start)
			n += len(it.body)
		}
		if !final { // closing set its own deadline
			// Refresh the deadline only when a quarter of it has passed:
			// resetting the poller's timer on every write costs more.
			if now := time.Now(); deadline.Sub(now) < p.s.cfg.WriteTimeout*3/4 {
				deadline = now.Add(p.s.cfg.WriteTimeout)
				p.conn.SetWriteDeadline(deadline)
			}
		}
		off := 0
		for i := range batch {
			iov = append(iov, hdrs[off:off+hl[i]], batch[i].body)
			off += hl[i]
		}
		if final {
			if f := p.fr.closeFrame(code, msg); f != nil {
				iov = append(iov, f)
			}
		}
		var err error
		if len(iov) > 0 {
			w := iov // WriteTo consumes its receiver; keep iov's backing array
			_, err = w.WriteTo(p.conn)
			p.s.m.writes.Inc()
		}
		clear(iov)
		for _, it := range batch {
			if it.pool {
				p.s.putBuf(it.body)
			}
		}
		p.mu.Lock()
		p.qBytes -= n
		if err != nil || final {
			p.wclosed = true
			p.writing = false
			p.mu.Unlock()
			if err != nil {
				p.conn.Close()
			} else if tc, ok := p.conn.(interface{ CloseWrite() error }); ok {
				tc.CloseWrite()
			} else {
				p.conn.Close()
			}
			return
		}
		p.mu.Unlock()
	}
}

// encoded is a cached EVENT encoding for one subprotocol.
type encoded struct {
	msg  *wamp.Event
	body []byte
}

var errProtocol = errors.New("protocol error")
