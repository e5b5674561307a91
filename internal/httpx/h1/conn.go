package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// conn is one client connection.
type conn struct {
	s        *Server
	nc       net.Conn
	br       *bufio.Reader
	out      []byte // response bytes not yet written
	wbuf     []byte // the current response's body while it is buffered
	cur      *response
	hdr      []byte        // scratch for a header line longer than br's buffer
	hdrBlock []byte        // the request's header block, reused
	tmpl     *http.Request // empty request carrying ctx
	remote   string
	ctx      context.Context
	cancel   context.CancelFunc
	state    atomicState
	werr     error // first write error: the connection is dead
	// Watching a long-running handler's connection for the client going
	// away (see watch): busySince is when the running handler started (0
	// between requests), bodyDone that the request body needs no more
	// reads; wmu orders starting and stopping the watcher.
	busySince atomic.Int64
	bodyDone  atomic.Bool
	wmu       sync.Mutex
	watchDone chan struct{}
}

// watch starts reading ahead while a handler runs whose request body is
// done: the client closing the connection cancels the connection's context,
// as net/http's background read does. It is started for streamed (flushed)
// responses and by the server's sweep for handlers running longer than
// watchAfter (long polls), not for every request.
func (c *conn) watch() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.watchDone != nil || c.busySince.Load() == 0 || !c.bodyDone.Load() {
		return
	}
	done := make(chan struct{})
	c.watchDone = done
	go func() {
		defer close(done)
		if _, err := c.br.Peek(1); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				c.cancel()
			}
		}
	}()
}

// unwatch marks the handler finished and stops a watcher before the
// connection reads again; bytes it read ahead (a pipelined request) stay
// in br.
func (c *conn) unwatch() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.busySince.Store(0)
	if c.watchDone == nil {
		return
	}
	c.nc.SetReadDeadline(time.Unix(1, 0))
	<-c.watchDone
	c.watchDone = nil
	c.nc.SetReadDeadline(time.Time{})
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc}
}

var errTooLarge = errors.New("h1: header too large")

const preface = "PRI * HTTP/2.0\r\n"

func (c *conn) serve() {
	defer c.s.forget(c)
	defer func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.nc.Close()
	}()
	c.br = bufio.NewReaderSize(c.nc, 4096)
	c.remote = c.nc.RemoteAddr().String()
	for first := true; ; first = false {
		// Wait for the next request (idle), unless one is already buffered.
		if c.br.Buffered() == 0 {
			if len(c.out) > 0 && !c.flush() {
				return
			}
			c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
			if _, err := c.br.Peek(1); err != nil {
				return
			}
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // closed by Shutdown
		}
		if b, _ := c.br.Peek(c.br.Buffered()); !headerComplete(b) {
			// The header is not all here yet: bound the wait for the rest.
			c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
		}
		if first && c.s.cfg.H2 != nil {
			n := min(c.br.Buffered(), len(preface))
			if b, _ := c.br.Peek(n); string(b) == preface[:n] {
				// It may be the HTTP/2 preface: wait for all of it, bounded.
				c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
				if b, err := c.br.Peek(len(preface)); err == nil && string(b) == preface {
					c.nc.SetReadDeadline(time.Time{})
					nc := c.nc
					c.nc = nopCloseConn{nc} // the h2 server owns it now
					c.s.cfg.H2(&bufConn{Conn: nc, br: c.br})
					return
				}
			}
		}
		if c.ctx == nil {
			c.ctx, c.cancel = context.WithCancel(context.WithValue(context.Background(), http.LocalAddrContextKey, c.nc.LocalAddr()))
			c.tmpl = (&http.Request{}).WithContext(c.ctx)
		}
		ex, perr := c.readRequest()
		if perr != nil {
			c.fail(perr)
			return
		}
		c.nc.SetReadDeadline(time.Time{})
		keep := c.handle(ex)
		if !keep || c.werr != nil {
			c.flush()
			return
		}
		if c.s.shutting.Load() {
			c.flush()
			return
		}
		c.state.Store(stateIdle)
	}
}

// nopCloseConn keeps serve's deferred Close from closing a handed-off conn.
type nopCloseConn struct{ net.Conn }

func (nopCloseConn) Close() error { return nil }

// handle runs the handler for ex and finishes the response; it reports
// whether the connection can serve another request.
func (c *conn) handle(ex *exchange) (keep bool) {
	w := &ex.w
	defer func() {
		if p := recover(); p != nil {
			c.unwatch()
			if p != http.ErrAbortHandler && c.s.cfg.Log != nil {
				buf := make([]byte, 16<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.s.cfg.Log.Error("h1: handler panic", "remote", c.remote, "panic", fmt.Sprint(p), "stack", string(buf))
			}
			if !w.wroteHeader {
				// Nothing sent yet: answer 500 and close.
				c.out = c.out[:w.outStart]
				c.out = append(c.out, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"...)
			}
			keep = false
		}
	}()
	c.bodyDone.Store(ex.body.kind == bodyNone)
	c.busySince.Store(time.Now().UnixNano())
	c.s.cfg.Handler.ServeHTTP(w, &ex.req)
	c.unwatch()
	w.finish()
	if !w.keep() {
		return false
	}
	// Discard what the handler left of the body, a bounded amount.
	if b := &ex.body; !b.eof && b.kind != bodyNone {
		if b.expect && !b.continued {
			return false // the client still waits for 100 Continue
		}
		c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout)) // a client that stalls here is dropped
		n, err := io.CopyN(io.Discard, readerOnly{b.read}, maxDiscard)
		if err != io.EOF && (err != nil || n == maxDiscard) {
			return false
		}
	}
	return true
}

// flush writes the pending output; false when the connection failed.
func (c *conn) flush() bool {
	if c.werr != nil {
		return false
	}
	if len(c.out) == 0 {
		return true
	}
	_, err := c.nc.Write(c.out)
	if cap(c.out) > 256<<10 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	if err != nil {
		c.werr = err
		c.cancel()
		return false
	}
	return true
}

// write sends p after the pending output.
func (c *conn) write(p []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.out)+len(p) <= 32<<10 {
		c.out = append(c.out, p...)
		return nil
	}
	if !c.flush() {
		return c.werr
	}
	if _, err := c.nc.Write(p); err != nil {
		c.werr = err
		c.cancel()
		return err
	}
	return nil
}

// fail answers a request that could not be parsed, then the connection
// closes.
func (c *conn) fail(err error) {
	var pe *parseError
	if !errors.As(err, &pe) {
		return // read error or timeout: nobody to answer
	}
	c.out = append(c.out, "HTTP/1.1 "...)
	c.out = append(c.out, pe.status...)
	c.out = append(c.out, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	msg := pe.status + ": " + pe.msg + "\n"
	c.out = appendInt(c.out, int64(len(msg)))
	c.out = append(c.out, "\r\n\r\n"...)
	c.out = append(c.out, msg...)
	c.flush()
}

func appendInt(b []byte, n int64) []byte {
	if n == 0 {
		return append(b, '0')
	}
	var tmp [20]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

var crlf = []byte("\r\n")

// headerComplete reports whether b holds a whole request header (an empty
// line after the first non-empty one).
func headerComplete(b []byte) bool {
	b = bytes.TrimLeft(b, "\r\n")
	return bytes.Contains(b, []byte("\r\n\r\n")) || bytes.Contains(b, []byte("\n\n")) || bytes.Contains(b, []byte("\n\r\n"))
}

// maxDiscard is how much of an unread request body the server reads to
// keep the connection.
const maxDiscard = 256 << 10

type readerOnly struct{ read func([]byte) (int, error) }

func (r readerOnly) Read(p []byte) (int, error) { return r.read(p) }

// readLine returns the next line (without CRLF or LF) from br; for lines
// longer than br's buffer it gathers them in c.hdr. limit bounds its length.
func (c *conn) readLine(limit int) ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if err == nil {
		if len(l) > limit {
			return nil, errTooLarge
		}
		return trimEOL(l), nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	c.hdr = append(c.hdr[:0], l...)
	for {
		l, err = c.br.ReadSlice('\n')
		if len(c.hdr)+len(l) > limit {
			return nil, errTooLarge
		}
		c.hdr = append(c.hdr, l...)
		if err == nil {
			return trimEOL(c.hdr), nil
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
}

func trimEOL(l []byte) []byte {
	l = l[:len(l)-1]
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l
}
