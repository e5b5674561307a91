package transport

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"skyhub/internal/wamp"
	"skyhub/internal/wamp/codec"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// wsError is a protocol error with the close code to send.
type wsError struct {
	code uint16
	msg  string
}

func (e *wsError) Error() string { return fmt.Sprintf("websocket: %s (close %d)", e.msg, e.code) }

// errPeerClosed: the client sent a close frame.
var errPeerClosed = errors.New("websocket: closed by peer")

// ServeHTTP upgrades a WebSocket request to a WAMP session. The subprotocol
// is the first one the client offers that is supported (wamp.2.json,
// wamp.2.msgpack, wamp.2.cbor, each also .batched); a request offering none
// is refused with 400.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		s.m.handshakeErrors.WithLabelValues("websocket").Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
			w.Header().Set("Upgrade", "websocket")
		}
		w.WriteHeader(status)
		io.WriteString(w, msg+"\n")
	}
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Connection", "upgrade") ||
		!headerHasToken(r.Header, "Upgrade", "websocket") {
		fail(http.StatusUpgradeRequired, "this is a WAMP WebSocket endpoint: send a WebSocket upgrade request")
		return
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		fail(http.StatusUpgradeRequired, "unsupported WebSocket version (13 required)")
		return
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		fail(http.StatusBadRequest, "invalid Sec-WebSocket-Key")
		return
	}
	var sp codec.Subprotocol
	found := false
	for _, tok := range headerTokens(r.Header, "Sec-WebSocket-Protocol") {
		if sp, found = codec.ParseSubprotocol(tok); found {
			break
		}
	}
	if !found {
		var names []string
		for _, p := range codec.Subprotocols() {
			names = append(names, p.String())
		}
		fail(http.StatusBadRequest, "no supported WAMP subprotocol offered; supported: "+strings.Join(names, ", "))
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		fail(http.StatusInternalServerError, "connection cannot be upgraded")
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n" +
		"Sec-WebSocket-Protocol: " + sp.String() + "\r\n\r\n"
	conn.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	if _, err := io.WriteString(conn, resp); err != nil {
		conn.Close()
		return
	}
	conn.SetDeadline(time.Time{})
	p := s.newPeer(conn, &wsFraming{binary: sp.Codec.Binary(), batched: sp.Batched}, sp, "websocket")
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		p.in.preload(b)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.wg.Add(1) // net/http does not wait for hijacked connections
	s.mu.Unlock()
	// A fresh goroutine, so net/http's request, buffers and grown stack are
	// released when this handler returns: that is most of an idle
	// session's memory otherwise.
	go func() {
		defer s.wg.Done()
		p.run()
	}()
}

// headerTokens returns the comma-separated tokens of every header line.
func headerTokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func headerHasToken(h http.Header, name, tok string) bool {
	for _, t := range headerTokens(h, name) {
		if strings.EqualFold(t, tok) {
			return true
		}
	}
	return false
}

// wsFraming writes server frames (never masked).
type wsFraming struct {
	binary  bool
	batched bool
}

func (f *wsFraming) name() string { return "websocket" }

func wsHeader(dst []byte, fin bool, op byte, n int) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	switch {
	case n < 126:
		return append(dst, b0, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, 126)
		return binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}

func (f *wsFraming) header(dst []byte, it *item, first, last bool) []byte {
	if it.ctl != 0 {
		return wsHeader(dst, true, it.ctl, len(it.body))
	}
	op := byte(opText)
	if f.binary {
		op = opBinary
	}
	if !f.batched {
		return wsHeader(dst, true, op, len(it.body))
	}
	// Batched mode: everything drained together is one WebSocket message,
	// sent as fragments (no copying of the bodies).
	if !first {
		op = opCont
	}
	return wsHeader(dst, last, op, len(it.body))
}

func (f *wsFraming) closeFrame(code uint16, reason string) []byte {
	body := binary.BigEndian.AppendUint16(nil, code)
	body = append(body, reason...)
	return append(wsHeader(nil, true, opClose, len(body)), body...)
}

// readLoop reads WebSocket frames, decodes WAMP messages and delivers them.
func (p *peer) readLoop() {
	if _, ok := p.fr.(*wsFraming); ok {
		p.wsReadLoop()
		return
	}
	p.rawReadLoop()
}

func (p *peer) wsReadLoop() {
	limit := p.s.cfg.MaxMessageBytes
	var frag []byte // a fragmented message being assembled
	var fragOp byte
	for {
		h, err := p.in.take(2)
		if err != nil {
			return
		}
		fin, rsv, op := h[0]&0x80 != 0, h[0]&0x70, h[0]&0x0F
		masked, n := h[1]&0x80 != 0, uint64(h[1]&0x7F)
		if rsv != 0 {
			p.wsFail(&wsError{1002, "reserved bits set (no extension was negotiated)"})
			return
		}
		if !masked {
			p.wsFail(&wsError{1002, "client frames must be masked"})
			return
		}
		switch n {
		case 126:
			e, err := p.in.take(2)
			if err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(e))
		case 127:
			e, err := p.in.take(8)
			if err != nil {
				return
			}
			n = binary.BigEndian.Uint64(e)
		}
		mk, err := p.in.take(4)
		if err != nil {
			return
		}
		var mask [4]byte
		copy(mask[:], mk)

		if op >= 0x8 { // control frame
			if !fin || n > 125 {
				p.wsFail(&wsError{1002, "control frames must be unfragmented and at most 125 bytes"})
				return
			}
			pl, err := p.in.take(int(n))
			if err != nil {
				return
			}
			unmask(pl, mask)
			switch op {
			case opPing:
				p.enqueue(item{body: append([]byte(nil), pl...), ctl: opPong})
			case opPong:
			case opClose:
				code := uint16(1000)
				if len(pl) >= 2 {
					code = binary.BigEndian.Uint16(pl)
				}
				if len(pl) == 1 || !utf8.Valid(pl[min(2, len(pl)):]) || !validCloseCode(code) {
					code = 1002
				}
				p.closeWith(code, "")
				return
			default:
				p.wsFail(&wsError{1002, fmt.Sprintf("unknown control opcode %d", op)})
				return
			}
			p.in.release(false)
			continue
		}
		switch {
		case op != opCont && op != opText && op != opBinary:
			p.wsFail(&wsError{1002, fmt.Sprintf("unknown opcode %d", op)})
			return
		case op == opCont && fragOp == 0:
			p.wsFail(&wsError{1002, "continuation frame without a message to continue"})
			return
		case op != opCont && fragOp != 0:
			p.wsFail(&wsError{1002, "new message inside a fragmented message"})
			return
		}
		if n > uint64(limit) || uint64(len(frag))+n > uint64(limit) {
			p.wsFail(&wsError{1009, fmt.Sprintf("message larger than %d bytes", limit)})
			return
		}
		var payload []byte
		if n <= readBufSize {
			payload, err = p.in.take(int(n))
		} else {
			payload, err = p.in.readLarge(int(n))
		}
		if err != nil {
			return
		}
		unmask(payload, mask)
		if !fin || fragOp != 0 {
			if fragOp == 0 {
				fragOp = op
				frag = p.in.pool.getLarge(4 * len(payload))
			}
			if len(frag)+len(payload) > cap(frag) {
				// Double (append grows large slices by only 1.25x).
				frag = slices.Grow(frag, max(len(payload), cap(frag)))
			}
			frag = append(frag, payload...)
			p.in.putLent() // copied
			if !fin {
				continue // keep the read buffer: the next fragment follows
			}
			payload, op = frag, fragOp
			fragOp = 0
		}
		if op == opText && !utf8.Valid(payload) {
			p.wsFail(&wsError{1007, "text message is not valid UTF-8"})
			return
		}
		if !p.handleMessage(payload) {
			return
		}
		if frag != nil { // decoding copied what it keeps
			p.in.pool.putLarge(frag)
			frag = nil
		}
		p.in.release(false)
	}
}

// validCloseCode reports whether a client may send code (RFC 6455 7.4).
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// wsFail ends the connection for a framing error with a close frame.
func (p *peer) wsFail(e *wsError) {
	p.s.m.protocolErrors.WithLabelValues(p.kind).Inc()
	p.s.cfg.Log.Info("wamp: websocket protocol error", "remote", p.conn.RemoteAddr().String(), "err", e.msg)
	p.closeWith(e.code, e.msg)
}

// handleMessage decodes one transport message (a batch in batched mode)
// and delivers its WAMP messages; false ends the connection. A message
// that cannot be decoded, or is not a valid WAMP message, gets ABORT
// wamp.error.protocol_violation.
func (p *peer) handleMessage(b []byte) bool {
	p.s.m.bytesIn.Add(float64(len(b)))
	ok := true
	err := p.sp.Split(b, func(m []byte) error {
		l, err := p.sp.Codec.Decode(m)
		if err != nil {
			return err
		}
		msg, err := wamp.FromList(l)
		if err != nil {
			return err
		}
		p.s.m.msgsIn.Inc()
		if !p.deliver(msg) {
			ok = false
			return errStop
		}
		return nil
	})
	if err == errStop {
		return false
	}
	if err != nil {
		p.s.m.protocolErrors.WithLabelValues(p.kind).Inc()
		p.s.cfg.Log.Info("wamp: protocol violation", "transport", p.kind, "remote", p.conn.RemoteAddr().String(), "err", err)
		p.abort(wamp.ProtocolViolation(violationMessage(err)), 1002, "protocol violation")
		return false
	}
	return ok
}

var errStop = errors.New("stop")

// violationMessage is the client-safe text of a decoding or shape error.
func violationMessage(err error) string {
	var pe *wamp.ProtocolError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// unmask XORs p with the 4-byte mask, eight bytes at a time.
func unmask(p []byte, mask [4]byte) {
	if len(p) >= 8 {
		m32 := binary.LittleEndian.Uint32(mask[:])
		m64 := uint64(m32) | uint64(m32)<<32
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^m64)
			p = p[8:]
		}
	}
	for i := range p {
		p[i] ^= mask[i&3]
	}
}
