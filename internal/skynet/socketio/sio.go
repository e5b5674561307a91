package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"skyhub/internal/skynet/jsonv"
)

// Socket.IO protocol revision 4 packet types (socket.io 1.x/2.x).
const (
	sioConnect     = 0
	sioDisconnect  = 1
	sioEvent       = 2
	sioAck         = 3
	sioError       = 4
	sioBinaryEvent = 5
	sioBinaryAck   = 6
)

// SIOPacket is one decoded Socket.IO packet.
type SIOPacket struct {
	Type        int
	Attachments int
	Nsp         string // "/" when absent
	ID          int64  // -1 when absent
	Data        json.RawMessage
	// For EVENT: the name and the arguments after it; for ACK: the
	// arguments.
	Name string
	Args []json.RawMessage
}

var errSIOParse = errors.New("socket.io: parser error")

// DecodeSIO decodes a Socket.IO packet (the data of an Engine.IO message):
// type digit, [attachments "-"], ["/nsp" ","], [ack id digits], [JSON].
func DecodeSIO(s []byte) (SIOPacket, error) {
	p := SIOPacket{Nsp: "/", ID: -1}
	if len(s) == 0 || s[0] < '0' || s[0] > '6' {
		return p, errSIOParse
	}
	p.Type = int(s[0] - '0')
	i := 1
	if p.Type == sioBinaryEvent || p.Type == sioBinaryAck {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j >= len(s) || s[j] != '-' || j-i > 6 {
			return p, errSIOParse
		}
		p.Attachments, _ = strconv.Atoi(string(s[i:j]))
		i = j + 1
	}
	if i < len(s) && s[i] == '/' {
		j := bytes.IndexByte(s[i:], ',')
		if j < 0 {
			p.Nsp = string(s[i:])
			i = len(s)
		} else {
			p.Nsp = string(s[i : i+j])
			i += j + 1
		}
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j > i {
		if j-i > 15 {
			return p, errSIOParse
		}
		p.ID, _ = strconv.ParseInt(string(s[i:j]), 10, 64)
		i = j
	}
	if i < len(s) {
		p.Data = json.RawMessage(s[i:])
	}
	switch p.Type {
	case sioEvent, sioBinaryEvent, sioAck, sioBinaryAck:
		// one pass validates and splits the array
		args, err := jsonv.SplitRaw(p.Data)
		if err != nil {
			return p, errSIOParse
		}
		p.Args = args
		if p.Type == sioEvent || p.Type == sioBinaryEvent {
			var ok bool
			if len(p.Args) == 0 {
				return p, errSIOParse
			}
			if p.Name, ok = jsonv.String(p.Args[0]); !ok {
				return p, errSIOParse
			}
			p.Args = p.Args[1:]
		} else if p.ID < 0 {
			return p, errSIOParse
		}
	default:
		if p.Data != nil && !json.Valid(p.Data) {
			return p, errSIOParse
		}
	}
	return p, nil
}

// EventArgs splits an EVENT packet's data into its name and arguments.
func EventArgs(data json.RawMessage) (string, []json.RawMessage, error) {
	arr, err := jsonv.SplitRaw(data)
	if err != nil || len(arr) == 0 {
		return "", nil, errSIOParse
	}
	name, ok := jsonv.String(arr[0])
	if !ok {
		return "", nil, errSIOParse
	}
	return name, arr[1:], nil
}

// AppendSIO encodes a packet for the default namespace: type, optional ack
// id (id >= 0), JSON data.
func AppendSIO(dst []byte, typ int, id int64, data []byte) []byte {
	dst = append(dst, byte('0'+typ))
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return append(dst, data...)
}
