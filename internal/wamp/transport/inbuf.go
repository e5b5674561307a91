package transport

import (
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"skyhub/internal/wamp/codec"
)

// readBufSize is the pooled read buffer: frames up to this size are parsed
// in place; larger payloads get their own allocation.
const readBufSize = 16 << 10

// bufPools hold the server's reusable buffers.
type bufPools struct {
	read sync.Pool // *[readBufSize]byte
	out  sync.Pool // *[]byte, outbound message bodies up to 64 KiB
	// large holds buffers of 64 KiB to 1 MiB: big inbound messages and
	// their reassembly, big outbound bodies. Nothing in it survives two
	// garbage collections, so an idle server keeps none.
	large sync.Pool // *[]byte
}

const (
	smallBufMax = 64 << 10
	largeBufMax = 1 << 20
)

// getLarge returns an empty buffer, with capacity n when a pooled one is
// big enough (a fresh one of capacity n otherwise).
func (bp *bufPools) getLarge(n int) []byte {
	if v, ok := bp.large.Get().(*[]byte); ok {
		if cap(*v) >= n {
			return (*v)[:0]
		}
		bp.large.Put(v)
	}
	return make([]byte, 0, n)
}

// putLarge keeps b for reuse when its size suits the large pool.
func (bp *bufPools) putLarge(b []byte) {
	if cap(b) <= smallBufMax || cap(b) > largeBufMax {
		return
	}
	b = b[:0]
	bp.large.Put(&b)
}

func (s *Server) getBuf() []byte {
	if b, ok := s.bufs.out.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 512)
}

func (s *Server) putBuf(b []byte) {
	if cap(b) > smallBufMax {
		s.bufs.putLarge(b)
		return
	}
	b = b[:0]
	s.bufs.out.Put(&b)
}

// cacheSlot returns the EVENT encoding cache of one subprotocol.
func (s *Server) cacheSlot(sp codec.Subprotocol) *atomic.Pointer[encoded] {
	i := int(sp.Codec.RawSocketID() - 1)
	if sp.Batched {
		i += 3
	}
	return &s.evCache[i]
}

// inbuf is a connection's read side. While the connection is idle it holds
// no buffer: a blocking read lands in a few inline bytes, and a pooled
// buffer is taken only when data arrives and given back once it is all
// consumed.
type inbuf struct {
	c    net.Conn
	rc   syscall.RawConn // c's descriptor, when it has one: reads go straight into a pooled buffer
	pool *bufPools
	tiny [128]byte // one small message arrives with a single read
	buf  *[readBufSize]byte
	r, w int
	lent []byte // the large buffer readLarge returned last, until release
}

// fill makes n bytes (n <= readBufSize) available at buf[r:].
func (b *inbuf) fill(n int) error {
	for b.w-b.r < n {
		if b.rc != nil {
			if err := b.rawFill(n); err != nil {
				return err
			}
			continue
		}
		if b.buf == nil {
			k, err := b.c.Read(b.tiny[:])
			if k > 0 {
				b.get()
				copy(b.buf[:], b.tiny[:k])
				b.r, b.w = 0, k
				continue
			}
			if err == nil {
				err = io.ErrNoProgress
			}
			return err
		}
		if b.r > 0 && len(b.buf)-b.r < n {
			copy(b.buf[:], b.buf[b.r:b.w])
			b.w -= b.r
			b.r = 0
		}
		k, err := b.c.Read(b.buf[b.w:])
		b.w += k
		if err != nil && b.w-b.r < n {
			if err == io.EOF && b.w-b.r > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// rawFill does one read on the descriptor into the pooled buffer, taking
// the buffer only once the socket is readable and handing it back while
// waiting with nothing buffered (so an idle connection holds none). One
// read gets as much as has arrived, not just a first small piece.
func (b *inbuf) rawFill(n int) error {
	var k int
	var rerr error
	err := b.rc.Read(func(fd uintptr) bool {
		if b.buf == nil {
			b.get()
		}
		if b.r > 0 && (b.r == b.w || len(b.buf)-b.r < n) {
			copy(b.buf[:], b.buf[b.r:b.w])
			b.w -= b.r
			b.r = 0
		}
		for {
			k, rerr = syscall.Read(int(fd), b.buf[b.w:])
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			if b.r == b.w {
				b.release(true)
			}
			return false // wait until readable
		}
		return true
	})
	if err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	if k <= 0 {
		if b.w-b.r > 0 {
			return io.ErrUnexpectedEOF
		}
		return io.EOF
	}
	b.w += k
	return nil
}

// rawConnOf returns c's descriptor for direct reads, or nil.
func rawConnOf(c net.Conn) syscall.RawConn {
	switch t := c.(type) {
	case *net.TCPConn:
		rc, err := t.SyscallConn()
		if err == nil {
			return rc
		}
	case *prefixConn:
		if len(t.pre) == 0 {
			return rawConnOf(t.Conn)
		}
	}
	return nil
}

func (b *inbuf) get() {
	if v, ok := b.pool.read.Get().(*[readBufSize]byte); ok {
		b.buf = v
		return
	}
	b.buf = new([readBufSize]byte)
}

// take returns the next n bytes (n <= readBufSize), valid until the next
// call.
func (b *inbuf) take(n int) ([]byte, error) {
	if err := b.fill(n); err != nil {
		return nil, err
	}
	p := b.buf[b.r : b.r+n]
	b.r += n
	return p, nil
}

// readInto fills dst from what is buffered, then from the connection.
func (b *inbuf) readInto(dst []byte) error {
	if b.buf != nil {
		k := copy(dst, b.buf[b.r:b.w])
		b.r += k
		dst = dst[k:]
	}
	_, err := io.ReadFull(b.c, dst)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readLarge reads an n-byte payload too big for the pooled buffer into a
// large buffer from the pool (valid until release), growing it as data
// arrives when the pooled one is smaller (a header alone cannot make the
// server allocate the full claimed length).
func (b *inbuf) readLarge(n int) ([]byte, error) {
	b.putLent()
	out := b.pool.getLarge(min(n, 256<<10))
	for len(out) < n {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(n-len(out), cap(out))) // at most doubles
		}
		k := min(n-len(out), cap(out)-len(out))
		if err := b.readInto(out[len(out) : len(out)+k]); err != nil {
			b.pool.putLarge(out)
			return nil, err
		}
		out = out[:len(out)+k]
	}
	b.lent = out
	return out, nil
}

// putLent gives the buffer readLarge lent back to the pool.
func (b *inbuf) putLent() {
	if b.lent != nil {
		b.pool.putLarge(b.lent)
		b.lent = nil
	}
}

// release gives the pooled buffer back when everything in it has been
// consumed (or unconditionally, when the connection is done).
func (b *inbuf) release(force bool) {
	b.putLent()
	if b.buf == nil || (!force && b.r != b.w) {
		return
	}
	b.pool.read.Put(b.buf)
	b.buf = nil
	b.r, b.w = 0, 0
}

// buffered reports bytes already read but not consumed.
func (b *inbuf) buffered() int { return b.w - b.r }

// preload puts bytes read before the transport took over (the rest of an
// HTTP buffer, a peeked first byte) in front of the connection's data.
func (b *inbuf) preload(p []byte) {
	if len(p) == 0 {
		return
	}
	if len(p) > readBufSize {
		p = p[:readBufSize] // cannot happen: HTTP buffers are 4 KiB
	}
	b.get()
	copy(b.buf[:], p)
	b.r, b.w = 0, len(p)
}
