package transport

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServeUniversal serves RawSocket and HTTP/WebSocket on one listener: a
// connection whose first byte is 0x7F (which never starts an HTTP request)
// is RawSocket, anything else goes to an HTTP server whose handler is h
// (the WAMP WebSocket endpoint, at any path, when h is nil).
func (s *Server) ServeUniversal(ln net.Listener, h http.Handler) {
	if h == nil {
		h = s
	}
	cl := &chanListener{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: s.cfg.HandshakeTimeout, ErrorLog: nil}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return
	}
	s.https = append(s.https, hs)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		hs.Serve(cl)
	}()
	defer cl.Close()
	s.acceptLoop(ln, func(c net.Conn) {
		var first [1]byte
		c.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
		if _, err := io.ReadFull(c, first[:]); err != nil {
			c.Close()
			return
		}
		c.SetReadDeadline(time.Time{})
		if first[0] == 0x7F {
			s.rawSocket(c, first[:])
			return
		}
		select {
		case cl.conns <- &prefixConn{Conn: c, pre: first[:]}:
		case <-cl.done:
			c.Close()
		}
	})
}

// chanListener is a net.Listener fed with connections by the universal
// port's accept loop.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// prefixConn replays bytes already read before the connection's own.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the underlying TCP connection.
func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}
