// Package realtime is the seam between SkyNet's real-time transports
// (Socket.IO over Engine.IO v3, Socket.IO 0.9, plain WebSocket /ws/v2) and
// the SkyNet event vocabulary (identify/identity, message, subscribe, ...).
//
// A transport accepts a client connection, wraps it as a Conn, and asks the
// Handler for a Session. Every event the client sends goes to
// Session.Event, in order, one at a time per connection; the Session pushes
// events to the client through Conn.Emit. When the connection ends, for any
// reason, the transport calls Session.Closed exactly once.
//
// Transports know framing only; the event layer knows SkyNet only. Neither
// imports the other: the composition root passes the Handler to the
// transports.
package realtime

import (
	"context"
	"encoding/json"

	"skyhub/internal/jsonx"
	"skyhub/internal/skynet/jsonv"
)

// Conn is one live client connection, as the event layer sees it.
// Implementations must be safe for concurrent use: the hub emits to a Conn
// from other devices' goroutines.
type Conn interface {
	// Emit sends event with args to the client. It must not block on a slow
	// client: a transport queues a bounded amount and, past it, closes the
	// connection with a reason (and counts it), never dropping silently.
	// If the last arg is an Ack, the transport asks the client to
	// acknowledge the event (Socket.IO ack id) and calls that Ack with the
	// client's reply args (SkyNet message RPC); a transport without acks
	// (/ws/v2) drops that arg.
	Emit(event string, args ...any) error
	// Close ends the connection; reason is logged.
	Close(reason string)
	// RemoteAddr is the client's IP address (no port), for ipAddress fields.
	RemoteAddr() string
	// Transport names the transport ("socket.io", "socket.io-0.9", "ws").
	Transport() string
}

// Ack answers a client event that asked for an acknowledgement (Socket.IO
// ack id, or the RPC callback). Calling it more than once does nothing.
// Transports pass a nil Ack when the client asked for none.
type Ack func(args ...any)

// Session is the event layer's state for one connection.
type Session interface {
	// Event handles one client event. args are the event's JSON arguments
	// (without the trailing callback). It must not block for long.
	Event(ctx context.Context, event string, args []json.RawMessage, ack Ack)
	// Closed is called once when the connection is gone.
	Closed()
}

// Handler creates a Session for each new connection. query holds the
// connection URL's query parameters (meshblu@3 puts uuid/token there) and
// headers the upgrade request's headers (auth headers for /ws/v2).
type Handler interface {
	Connect(ctx context.Context, c Conn, query map[string]string, headers map[string]string) Session
}

// Encoded is a value already rendered as JSON (by json.Marshal) that an
// Emit argument may carry: the hub encodes a message once and every
// recipient's transport copies the bytes instead of encoding the document
// again. It marshals as itself for encoders that do not look for it.
type Encoded []byte

// MarshalJSON implements json.Marshaler.
func (e Encoded) MarshalJSON() ([]byte, error) {
	if len(e) == 0 {
		return []byte("null"), nil
	}
	return e, nil
}

// AppendValues appends args as comma-separated JSON values (an Encoded
// arg as its bytes, anything else as json.Marshal renders it).
func AppendValues(dst []byte, args []any) ([]byte, error) {
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e, ok := a.(Encoded); ok {
			if len(e) == 0 {
				dst = append(dst, "null"...)
			} else {
				dst = append(dst, e...)
			}
			continue
		}
		var err error
		if dst, err = jsonv.Append(dst, a); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// SizeHint is a capacity for rendering [event, args...]: exact for
// Encoded args, a guess for the others (a buffer grows by copying).
func SizeHint(event string, args []any) int {
	n := len(event) + 8
	for _, a := range args {
		if e, ok := a.(Encoded); ok {
			n += len(e) + 1
		} else {
			n += 64
		}
	}
	return n
}

// AppendEvent appends the JSON array [event, args...].
func AppendEvent(dst []byte, event string, args []any) ([]byte, error) {
	dst = append(dst, '[')
	dst = jsonx.AppendString(dst, event)
	if len(args) > 0 {
		dst = append(dst, ',')
		var err error
		if dst, err = AppendValues(dst, args); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}
