package transport

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"net"
	"time"

	"skyhub/internal/wamp/codec"
)

// RawSocket frame types (the low three bits of the first header byte).
const (
	rsMessage = 0
	rsPing    = 1
	rsPong    = 2
)

// RawSocket handshake error codes (the high nibble of the second byte).
const (
	rsErrSerializer = 1 // serializer unsupported
	rsErrMaxLen     = 2 // maximum message length unacceptable
	rsErrReserved   = 3 // use of reserved bits (unsupported feature)
	rsErrConnCount  = 4 // maximum connection count reached
)

// ServeRawSocket serves RawSocket on ln until ln is closed.
func (s *Server) ServeRawSocket(ln net.Listener) {
	s.acceptLoop(ln, func(c net.Conn) { s.rawSocket(c, nil) })
}

// rawSocket runs the handshake on c (pre holds bytes already read, the
// universal port's peeked byte) and then the session.
func (s *Server) rawSocket(c net.Conn, pre []byte) {
	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	var hs [4]byte
	k := copy(hs[:], pre)
	if _, err := io.ReadFull(c, hs[k:]); err != nil {
		s.m.handshakeErrors.WithLabelValues("rawsocket").Inc()
		c.Close()
		return
	}
	sp, peerMax, code := s.parseRawHandshake(hs)
	if code != 0 {
		s.m.handshakeErrors.WithLabelValues("rawsocket").Inc()
		s.cfg.Log.Info("wamp: rawsocket handshake refused", "remote", c.RemoteAddr().String(),
			"handshake", fmt.Sprintf("%x", hs[:]), "error", code)
		if hs[0] == 0x7F {
			c.Write([]byte{0x7F, code << 4, 0, 0})
		}
		c.Close()
		return
	}
	// Our own receive limit, as a power of two 2^(9+L), rounded down.
	l := bits.Len(uint(s.cfg.MaxMessageBytes)) - 1 - 9
	l = max(0, min(l, 15))
	if _, err := c.Write([]byte{0x7F, byte(l)<<4 | sp.Codec.RawSocketID(), 0, 0}); err != nil {
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	p := s.newPeer(c, rsFraming{}, sp, "rawsocket")
	p.peerMax = peerMax
	p.run()
}

// parseRawHandshake checks a client handshake: 0x7F, LLLL SSSS, 0, 0.
func (s *Server) parseRawHandshake(hs [4]byte) (codec.Subprotocol, int, byte) {
	if hs[0] != 0x7F {
		return codec.Subprotocol{}, 0, rsErrReserved
	}
	if hs[2] != 0 || hs[3] != 0 {
		return codec.Subprotocol{}, 0, rsErrReserved
	}
	c, ok := codec.ByRawSocketID(hs[1] & 0x0F)
	if !ok {
		return codec.Subprotocol{}, 0, rsErrSerializer
	}
	return codec.Subprotocol{Codec: c}, 1 << (9 + int(hs[1]>>4)), 0
}

// rsFraming writes RawSocket frames: RRRR XTTT and a 24-bit length.
type rsFraming struct{}

func (rsFraming) name() string { return "rawsocket" }

func (rsFraming) header(dst []byte, it *item, first, last bool) []byte {
	n := len(it.body)
	b0 := it.ctl // rsMessage is 0
	if n == 1<<24 {
		b0 |= 0x08 // X: the 25th length bit, for exactly 16 MiB
	}
	return append(dst, b0, byte(n>>16), byte(n>>8), byte(n))
}

func (rsFraming) closeFrame(uint16, string) []byte { return nil }

func (p *peer) rawReadLoop() {
	max := p.s.cfg.MaxMessageBytes
	for {
		h, err := p.in.take(4)
		if err != nil {
			return
		}
		if h[0]&0xF0 != 0 {
			p.rawFail("reserved bits set in frame header")
			return
		}
		typ := h[0] & 0x07
		n := int(h[0]&0x08)<<21 | int(binary.BigEndian.Uint32(h)&0xFFFFFF)
		if n > max {
			p.rawFail(fmt.Sprintf("frame of %d bytes exceeds the announced limit of %d", n, max))
			return
		}
		var payload []byte
		if n <= readBufSize {
			payload, err = p.in.take(n)
		} else {
			payload, err = p.in.readLarge(n)
		}
		if err != nil {
			return
		}
		switch typ {
		case rsMessage:
			if !p.handleMessage(payload) {
				return
			}
		case rsPing:
			p.enqueue(item{body: append([]byte(nil), payload...), ctl: rsPong})
		case rsPong:
		default:
			p.rawFail(fmt.Sprintf("unknown frame type %d", typ))
			return
		}
		p.in.release(false)
	}
}

// rawFail ends a RawSocket connection for a framing error: RawSocket has
// no error frame, so the connection is dropped (after what is queued).
func (p *peer) rawFail(msg string) {
	p.s.m.protocolErrors.WithLabelValues(p.kind).Inc()
	p.s.cfg.Log.Info("wamp: rawsocket protocol error", "remote", p.conn.RemoteAddr().String(), "err", msg)
	p.closeWith(0, msg)
}
