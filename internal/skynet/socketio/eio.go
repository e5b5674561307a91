// Package socketio serves SkyNet's Socket.IO 1.x/2.x transport: the
// Socket.IO protocol (revision 4: CONNECT, DISCONNECT, EVENT, ACK, ERROR)
// over Engine.IO protocol 3 (HTTP long-polling with payload framing, and
// WebSocket, directly or as an upgrade from polling), on the default
// namespace "/" only. It knows framing only: every client event goes to a
// realtime.Session and the event layer decides what it means.
package socketio

import (
	"encoding/base64"
	"errors"
	"strconv"
	"unicode/utf8"

	"skyhub/internal/skynet/pollsess"
)

// Engine.IO v3 packet types.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// EIOPacket is one Engine.IO packet. Type is the ASCII digit '0'..'6'.
type EIOPacket struct {
	Type   byte
	Data   []byte
	Binary bool // the data was binary (binary frame, 'b' base64, or binary payload)
}

var errParse = errors.New("engine.io: parser error")

// DecodePacket decodes one string-encoded packet (a text WebSocket frame or
// a string inside a payload): a type digit then the data, or 'b' plus a
// type digit and base64 data.
func DecodePacket(s []byte) (EIOPacket, error) {
	if len(s) == 0 {
		return EIOPacket{}, errParse
	}
	if s[0] == 'b' {
		if len(s) < 2 || s[1] < '0' || s[1] > '6' {
			return EIOPacket{}, errParse
		}
		d, err := base64.StdEncoding.DecodeString(string(s[2:]))
		if err != nil {
			return EIOPacket{}, errParse
		}
		return EIOPacket{Type: s[1], Data: d, Binary: true}, nil
	}
	if s[0] < '0' || s[0] > '6' {
		return EIOPacket{}, errParse
	}
	return EIOPacket{Type: s[0], Data: s[1:]}, nil
}

// DecodeBinaryPacket decodes a binary WebSocket frame: a type byte 0..6
// then the data.
func DecodeBinaryPacket(b []byte) (EIOPacket, error) {
	if len(b) == 0 || b[0] > 6 {
		return EIOPacket{}, errParse
	}
	return EIOPacket{Type: '0' + b[0], Data: b[1:], Binary: true}, nil
}

// maxPayloadPackets bounds the packets in one polling payload.
const maxPayloadPackets = 1000

// DecodePayload decodes an Engine.IO v3 polling body. Two framings exist:
// string framing "<length>:<packet>" repeated, the length counted in
// UTF-16 code units as JavaScript counts; and binary framing, repeated
// <0 string | 1 binary><length as digit bytes 0..9><0xFF><bytes>, the
// length in bytes. A body that starts with byte 0 or 1 uses the binary one.
func DecodePayload(body []byte) ([]EIOPacket, error) {
	if len(body) == 0 {
		return nil, errParse
	}
	if body[0] == 0 || body[0] == 1 {
		return decodeBinaryPayload(body)
	}
	var out []EIOPacket
	for len(body) > 0 {
		if len(out) >= maxPayloadPackets {
			return nil, errParse
		}
		colon := -1
		for i := 0; i < len(body) && i < 12; i++ {
			if body[i] == ':' {
				colon = i
				break
			}
			if body[i] < '0' || body[i] > '9' {
				return nil, errParse
			}
		}
		if colon <= 0 {
			return nil, errParse
		}
		n, err := strconv.Atoi(string(body[:colon]))
		if err != nil || n <= 0 {
			return nil, errParse
		}
		body = body[colon+1:]
		i, ok := pollsess.UTF16Prefix(body, n)
		if !ok {
			return nil, errParse
		}
		p, err := DecodePacket(body[:i])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		body = body[i:]
	}
	return out, nil
}

func decodeBinaryPayload(body []byte) ([]EIOPacket, error) {
	var out []EIOPacket
	for len(body) > 0 {
		if len(out) >= maxPayloadPackets {
			return nil, errParse
		}
		kind := body[0]
		if kind != 0 && kind != 1 {
			return nil, errParse
		}
		n, i := 0, 1
		for ; i < len(body) && body[i] != 0xff; i++ {
			if body[i] > 9 || i > 10 {
				return nil, errParse
			}
			n = n*10 + int(body[i])
		}
		if i == 1 || i >= len(body) || n <= 0 {
			return nil, errParse
		}
		body = body[i+1:]
		if n > len(body) {
			return nil, errParse
		}
		var p EIOPacket
		var err error
		if kind == 0 {
			if !utf8.Valid(body[:n]) {
				return nil, errParse
			}
			p, err = DecodePacket(body[:n])
		} else {
			p, err = DecodeBinaryPacket(body[:n])
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		body = body[n:]
	}
	return out, nil
}

// utf16Len is the length of s in UTF-16 code units (JavaScript's length).
func utf16Len(s []byte) int {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		s = s[size:]
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// AppendPayloadPacket appends one string packet (type digit + data) to a
// string-framed payload.
func AppendPayloadPacket(dst []byte, pkt []byte) []byte {
	dst = strconv.AppendInt(dst, int64(utf16Len(pkt)), 10)
	dst = append(dst, ':')
	return append(dst, pkt...)
}
