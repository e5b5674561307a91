// Package codec serializes WAMP messages in their generic list form
// ([]any, as wamp.ToList produces and wamp.FromList consumes) with the three
// Basic Profile serializers: JSON (with WAMP's "\x00"+base64 convention for
// binary values), MessagePack (str and bin kept apart) and CBOR, plus the
// batched framing of the wamp.2.<ser>.batched WebSocket subprotocols.
//
// Every decoder bounds nesting depth and never allocates more than the input
// can justify, so hostile bytes produce an error, never a panic or an
// out-of-memory. Integers decode to int64 (uint64 above MaxInt64), so IDs up
// to 2^53 (and beyond) round-trip exactly; floats decode to float64.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"

	"skyhub/internal/errs"
)

// MaxDepth bounds the nesting of lists and dicts a decoder accepts.
const MaxDepth = 128

// Codec is one WAMP serializer.
type Codec interface {
	// Name is the serializer's name in the subprotocol ("json", "msgpack", "cbor").
	Name() string
	// RawSocketID is the serializer's number in the RawSocket handshake.
	RawSocketID() byte
	// Binary reports whether WebSocket frames carrying it are binary.
	Binary() bool
	// Append encodes msg and appends it to dst.
	Append(dst []byte, msg []any) ([]byte, error)
	// Decode decodes one complete message; it must be a list.
	Decode(b []byte) ([]any, error)
}

// RawSocket serializer ids.
const (
	RawJSON    byte = 1
	RawMsgPack byte = 2
	RawCBOR    byte = 3
)

// All returns the supported codecs, JSON first.
func All() []Codec { return []Codec{JSON{}, MsgPack{}, CBOR{}} }

// ByName returns the codec named name ("json", "msgpack", "cbor").
func ByName(name string) (Codec, bool) {
	for _, c := range All() {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

// ByRawSocketID returns the codec with RawSocket serializer id.
func ByRawSocketID(id byte) (Codec, bool) {
	for _, c := range All() {
		if c.RawSocketID() == id {
			return c, true
		}
	}
	return nil, false
}

// Subprotocol is a negotiated WebSocket subprotocol: a codec, batched or not.
type Subprotocol struct {
	Codec   Codec
	Batched bool
}

// String returns the subprotocol token, e.g. "wamp.2.json.batched".
func (s Subprotocol) String() string {
	n := "wamp.2." + s.Codec.Name()
	if s.Batched {
		n += ".batched"
	}
	return n
}

// Subprotocols returns every supported WebSocket subprotocol, the plain ones
// first (JSON, MessagePack, CBOR), then the batched ones.
func Subprotocols() []Subprotocol {
	var out []Subprotocol
	for _, b := range []bool{false, true} {
		for _, c := range All() {
			out = append(out, Subprotocol{Codec: c, Batched: b})
		}
	}
	return out
}

// ParseSubprotocol maps a subprotocol token to a Subprotocol.
func ParseSubprotocol(tok string) (Subprotocol, bool) {
	for _, s := range Subprotocols() {
		if s.String() == tok {
			return s, true
		}
	}
	return Subprotocol{}, false
}

// AppendFrame appends msg in the framing of s: a plain message, or in
// batched mode the message followed by 0x1E (JSON) or preceded by its
// uint32 big-endian length (binary codecs).
func (s Subprotocol) AppendFrame(dst []byte, msg []any) ([]byte, error) {
	if !s.Batched {
		return s.Codec.Append(dst, msg)
	}
	if !s.Codec.Binary() {
		out, err := s.Codec.Append(dst, msg)
		if err != nil {
			return dst, err
		}
		return append(out, 0x1E), nil
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	out, err := s.Codec.Append(dst, msg)
	if err != nil {
		return dst[:start], err
	}
	n := len(out) - start - 4
	if uint64(n) > 0xFFFFFFFF {
		return dst[:start], errs.E("codec.batch", errs.Invalid, "message too large for batched framing")
	}
	binary.BigEndian.PutUint32(out[start:], uint32(n))
	return out, nil
}

// Split calls fn with each message of a transport message in the framing of
// s: the whole message when not batched. An empty batch, a truncated length
// prefix or a length running past the end is an error.
func (s Subprotocol) Split(b []byte, fn func(msg []byte) error) error {
	if !s.Batched {
		return fn(b)
	}
	if len(b) == 0 {
		return errs.E("codec.batch", errs.Invalid, "empty batch")
	}
	if !s.Codec.Binary() {
		for len(b) > 0 {
			i := indexByte(b, 0x1E)
			if i < 0 {
				return errs.E("codec.batch", errs.Invalid, "batched JSON message not terminated by 0x1E")
			}
			if err := fn(b[:i]); err != nil {
				return err
			}
			b = b[i+1:]
		}
		return nil
	}
	for len(b) > 0 {
		if len(b) < 4 {
			return errs.E("codec.batch", errs.Invalid, "truncated batch length prefix")
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return errs.E("codec.batch", errs.Invalid, fmt.Sprintf("batch length %d runs past the end", n))
		}
		if err := fn(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// decodeError builds the error every decoder returns (kind Invalid).
func decodeError(op, format string, args ...any) error {
	return errs.E(op, errs.Invalid, fmt.Sprintf(format, args...))
}

var errNotList = errors.New("message is not a list")

// asList checks the top-level value is a list.
func asList(op string, v any) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, errs.E(op, errs.Invalid, "message is not a list", errNotList)
	}
	return l, nil
}
