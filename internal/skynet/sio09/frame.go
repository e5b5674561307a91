// Package sio09 serves SkyNet's lecture-era real-time transport: the
// Socket.IO 0.9 protocol (revision 1) as socket.io-client 0.9.16 inside npm
// skynet@0.0.36 speaks it. A handshake GET /socket.io/1/ answers
// "sid:heartbeat:close:transports"; the client then opens
// /socket.io/1/websocket/<sid> (or long-polls /socket.io/1/xhr-polling/<sid>)
// and exchanges "type:id[+]:endpoint:data" frames. Only framing lives here:
// events go to a realtime.Session.
package sio09

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"skyhub/internal/jsonx"
	"skyhub/internal/skynet/jsonv"
	"skyhub/internal/skynet/pollsess"
	"skyhub/internal/skynet/realtime"
)

// Frame types (socket.io 0.9 protocol revision 1).
const (
	TypeDisconnect = 0
	TypeConnect    = 1
	TypeHeartbeat  = 2
	TypeMessage    = 3
	TypeJSON       = 4
	TypeEvent      = 5
	TypeAck        = 6
	TypeError      = 7
	TypeNoop       = 8
)

// Frame is one decoded frame.
type Frame struct {
	Type     int
	ID       int64 // -1 when absent
	DataAck  bool  // "id+": the sender wants the ack with data
	Endpoint string
	Data     []byte
	// for TypeEvent
	Name string
	Args []json.RawMessage
	// for TypeAck
	AckID   int64
	AckArgs []json.RawMessage
}

var errFrame = errors.New("socket.io 0.9: malformed frame")

// Decode parses "type:id[+]:endpoint[:data]".
func Decode(b []byte) (Frame, error) {
	f := Frame{ID: -1, AckID: -1}
	if len(b) < 2 || b[0] < '0' || b[0] > '8' || b[1] != ':' {
		return f, errFrame
	}
	f.Type = int(b[0] - '0')
	rest := b[2:]
	// id
	i := bytes.IndexByte(rest, ':')
	if i < 0 {
		return f, errFrame
	}
	id := rest[:i]
	if len(id) > 0 {
		if id[len(id)-1] == '+' {
			f.DataAck = true
			id = id[:len(id)-1]
		}
		if len(id) == 0 || len(id) > 15 {
			return f, errFrame
		}
		n, err := strconv.ParseInt(string(id), 10, 64)
		if err != nil || n < 0 {
			return f, errFrame
		}
		f.ID = n
	}
	rest = rest[i+1:]
	// endpoint, then an optional ":data"
	if j := bytes.IndexByte(rest, ':'); j >= 0 {
		f.Endpoint = string(rest[:j])
		f.Data = rest[j+1:]
	} else {
		f.Endpoint = string(rest)
	}
	if !utf8.Valid(f.Data) {
		return f, errFrame
	}
	switch f.Type {
	case TypeEvent:
		name, args, ok := decodeEvent(f.Data)
		if !ok {
			return f, errFrame
		}
		f.Name, f.Args = name, args
	case TypeJSON:
		if !json.Valid(f.Data) {
			return f, errFrame
		}
	case TypeAck:
		d := f.Data
		k := bytes.IndexByte(d, '+')
		idPart := d
		if k >= 0 {
			idPart = d[:k]
		}
		if len(idPart) == 0 || len(idPart) > 15 {
			return f, errFrame
		}
		n, err := strconv.ParseInt(string(idPart), 10, 64)
		if err != nil || n < 0 {
			return f, errFrame
		}
		f.AckID = n
		if k >= 0 {
			if err := json.Unmarshal(d[k+1:], &f.AckArgs); err != nil {
				return f, errFrame
			}
		}
	}
	return f, nil
}

// AppendEvent encodes an event frame; id >= 0 asks for a data ack.
func AppendEvent(dst []byte, id int64, name string, args []any) ([]byte, error) {
	dst = append(dst, '5', ':')
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
		dst = append(dst, '+')
	}
	dst = append(dst, `::{"name":`...)
	dst = jsonx.AppendString(dst, name)
	dst = append(dst, `,"args":[`...)
	dst, err := realtime.AppendValues(dst, args)
	if err != nil {
		return dst, err
	}
	return append(dst, ']', '}'), nil
}

// AppendAck encodes "6:::id+[args]".
func AppendAck(dst []byte, id int64, args []byte) []byte {
	dst = append(dst, "6:::"...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, '+')
	return append(dst, args...)
}

// DecodePayload splits an xhr-polling body: either one frame, or frames
// each written "\ufffd<length>\ufffd<frame>", the length in UTF-16 units.
func DecodePayload(b []byte) ([][]byte, error) {
	const sep = "\ufffd"
	if !bytes.HasPrefix(b, []byte(sep)) {
		return [][]byte{b}, nil
	}
	var out [][]byte
	for len(b) > 0 {
		if !bytes.HasPrefix(b, []byte(sep)) || len(out) > 1000 {
			return nil, errFrame
		}
		b = b[len(sep):]
		k := bytes.Index(b, []byte(sep))
		if k <= 0 || k > 12 {
			return nil, errFrame
		}
		n, err := strconv.Atoi(string(b[:k]))
		if err != nil || n < 0 {
			return nil, errFrame
		}
		b = b[k+len(sep):]
		i, ok := pollsess.UTF16Prefix(b, n)
		if !ok {
			return nil, errFrame
		}
		out = append(out, b[:i])
		b = b[i:]
	}
	return out, nil
}

// AppendPayload encodes frames for one xhr-polling answer.
func AppendPayload(dst []byte, frames [][]byte) []byte {
	if len(frames) == 1 {
		return append(dst, frames[0]...)
	}
	for _, f := range frames {
		dst = append(dst, "\ufffd"...)
		n := 0
		for _, r := range string(f) {
			if r >= 0x10000 {
				n += 2
			} else {
				n++
			}
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, "\ufffd"...)
		dst = append(dst, f...)
	}
	return dst
}

// decodeEvent reads an event frame's {"name", "args"} as json.Unmarshal
// into struct{Name *string; Args []json.RawMessage} does (field names
// matched as encoding/json matches them, the last duplicate winning, a
// wrong type failing), without reflection: name must end up a string.
func decodeEvent(data []byte) (string, []json.RawMessage, bool) {
	var name *string
	var args []json.RawMessage
	bad := false
	isObject, err := jsonv.Members(data, func(k string, v []byte) {
		switch {
		case jsonv.FieldIs(k, "name"):
			switch v[0] {
			case 'n':
				name = nil
			case '"':
				s, _ := jsonv.String(v)
				name = &s
			default:
				bad = true
			}
		case jsonv.FieldIs(k, "args"):
			switch v[0] {
			case 'n':
				args = nil
			case '[':
				a, err := jsonv.SplitRaw(v)
				if err != nil {
					bad = true
				}
				args = a
			default:
				bad = true
			}
		}
	})
	if err != nil || !isObject || bad || name == nil { // null: name stays nil
		return "", nil, false
	}
	return *name, args, true
}
