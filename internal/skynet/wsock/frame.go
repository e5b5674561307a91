// Package wsock is a small server-side WebSocket (RFC 6455) for SkyNet's
// real-time transports, built for many idle connections: the HTTP handler
// hijacks the connection, and from then on no goroutine waits on it. One
// epoll loop per Poller watches every connection; when one becomes readable
// a short-lived goroutine reads what is there, decodes whole frames and hands
// messages to the connection's Handler, then re-arms the descriptor. Writes
// go straight to the non-blocking socket; only when the kernel buffer is
// full does a flusher goroutine wait for it (through Go's netpoller), and
// the bytes waiting are bounded: past the bound the connection is closed
// with a reason. An idle connection therefore costs its socket, one small
// struct and the protocol layer's state, not two goroutine stacks and
// buffers (see docs/skynet-realtime.md for the measured reason).
package wsock

import (
	"encoding/binary"
	"errors"
)

// Opcodes (RFC 6455 §5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Close status codes used here (RFC 6455 §7.4.1).
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001
	CloseProtocolError  = 1002
	CloseUnsupported    = 1003
	CloseInvalidPayload = 1007
	ClosePolicy         = 1008
	CloseTooBig         = 1009
	CloseInternal       = 1011
)

// Frame is one decoded frame. Payload is unmasked and aliases the input.
type Frame struct {
	Fin     bool
	Opcode  byte
	Payload []byte
}

// ProtocolError is a frame the peer should not have sent; Code is the close
// status to answer with.
type ProtocolError struct {
	Code int
	Msg  string
}

func (e *ProtocolError) Error() string { return "websocket: " + e.Msg }

var errIncomplete = errors.New("incomplete frame")

// ParseFrame decodes the first frame of b, which must come from a client
// (masked). It unmasks the payload in place. n is the number of bytes the
// frame used; n == 0 with a nil error means b holds only part of a frame.
// Payloads longer than max are refused with CloseTooBig.
func ParseFrame(b []byte, max int) (f Frame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	b0, b1 := b[0], b[1]
	if b0&0x70 != 0 {
		return f, 0, &ProtocolError{CloseProtocolError, "reserved bits set (no extension was negotiated)"}
	}
	f.Fin = b0&0x80 != 0
	f.Opcode = b0 & 0x0f
	switch f.Opcode {
	case OpContinuation, OpText, OpBinary:
	case OpClose, OpPing, OpPong:
		if !f.Fin {
			return f, 0, &ProtocolError{CloseProtocolError, "fragmented control frame"}
		}
	default:
		return f, 0, &ProtocolError{CloseProtocolError, "unknown opcode"}
	}
	if b1&0x80 == 0 {
		return f, 0, &ProtocolError{CloseProtocolError, "client frame not masked"}
	}
	hdr := 2
	plen := uint64(b1 & 0x7f)
	switch plen {
	case 126:
		if len(b) < 4 {
			return f, 0, nil
		}
		plen = uint64(binary.BigEndian.Uint16(b[2:]))
		hdr = 4
	case 127:
		if len(b) < 10 {
			return f, 0, nil
		}
		plen = binary.BigEndian.Uint64(b[2:])
		if plen>>63 != 0 {
			return f, 0, &ProtocolError{CloseProtocolError, "payload length has its top bit set"}
		}
		hdr = 10
	}
	if f.Opcode >= OpClose && plen > 125 {
		return f, 0, &ProtocolError{CloseProtocolError, "control frame longer than 125 bytes"}
	}
	if plen > uint64(max) {
		return f, 0, &ProtocolError{CloseTooBig, "message too big"}
	}
	total := hdr + 4 + int(plen)
	if len(b) < total {
		return f, 0, nil
	}
	key := b[hdr : hdr+4]
	p := b[hdr+4 : total]
	for i := range p {
		p[i] ^= key[i&3]
	}
	f.Payload = p
	return f, total, nil
}

// AppendFrame appends one unmasked, unfragmented server frame.
func AppendFrame(dst []byte, opcode byte, payload []byte) []byte {
	dst = append(dst, 0x80|opcode)
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// FrameSize is the length AppendFrame produces for a payload of n bytes.
func FrameSize(n int) int {
	switch {
	case n < 126:
		return n + 2
	case n <= 0xffff:
		return n + 4
	}
	return n + 10
}

// AppendClose appends a close frame with a status code and a reason cut to
// fit a control frame.
func AppendClose(dst []byte, code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	p = append(p, reason...)
	return AppendFrame(dst, OpClose, p)
}
