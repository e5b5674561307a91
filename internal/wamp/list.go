package wamp

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// ProtocolError says why a list is not a valid WAMP message. The router
// answers it with ABORT wamp.error.protocol_violation and Message as the
// details' message.
type ProtocolError struct {
	Type    MessageType // 0 when the type itself is unknown or missing
	Message string
}

func (e *ProtocolError) Error() string { return "wamp: protocol violation: " + e.Message }

func violation(t MessageType, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if t != 0 {
		msg = t.String() + ": " + msg
	}
	return &ProtocolError{Type: t, Message: msg}
}

// ToList converts a message to the generic list form a serializer encodes.
// Nil dicts become empty dicts; empty Arguments/ArgumentsKw are left out
// (an empty Arguments list is kept when ArgumentsKw follows it).
func ToList(m Message) []any {
	switch v := m.(type) {
	case *Hello:
		return []any{int64(HELLO), string(v.Realm), dict(v.Details)}
	case *Welcome:
		return []any{int64(WELCOME), uint64(v.Session), dict(v.Details)}
	case *Abort:
		return payload([]any{int64(ABORT), dict(v.Details), string(v.Reason)}, v.Arguments, v.ArgumentsKw)
	case *Challenge:
		return []any{int64(CHALLENGE), v.AuthMethod, dict(v.Extra)}
	case *Authenticate:
		return []any{int64(AUTHENTICATE), v.Signature, dict(v.Extra)}
	case *Goodbye:
		return []any{int64(GOODBYE), dict(v.Details), string(v.Reason)}
	case *Error:
		return payload([]any{int64(ERROR), int64(v.Type), uint64(v.Request), dict(v.Details), string(v.Error)}, v.Arguments, v.ArgumentsKw)
	case *Publish:
		return payload([]any{int64(PUBLISH), uint64(v.Request), dict(v.Options), string(v.Topic)}, v.Arguments, v.ArgumentsKw)
	case *Published:
		return []any{int64(PUBLISHED), uint64(v.Request), uint64(v.Publication)}
	case *Subscribe:
		return []any{int64(SUBSCRIBE), uint64(v.Request), dict(v.Options), string(v.Topic)}
	case *Subscribed:
		return []any{int64(SUBSCRIBED), uint64(v.Request), uint64(v.Subscription)}
	case *Unsubscribe:
		return []any{int64(UNSUBSCRIBE), uint64(v.Request), uint64(v.Subscription)}
	case *Unsubscribed:
		if len(v.Details) > 0 {
			return []any{int64(UNSUBSCRIBED), uint64(v.Request), v.Details}
		}
		return []any{int64(UNSUBSCRIBED), uint64(v.Request)}
	case *Event:
		return payload([]any{int64(EVENT), uint64(v.Subscription), uint64(v.Publication), dict(v.Details)}, v.Arguments, v.ArgumentsKw)
	case *Call:
		return payload([]any{int64(CALL), uint64(v.Request), dict(v.Options), string(v.Procedure)}, v.Arguments, v.ArgumentsKw)
	case *Cancel:
		return []any{int64(CANCEL), uint64(v.Request), dict(v.Options)}
	case *Result:
		return payload([]any{int64(RESULT), uint64(v.Request), dict(v.Details)}, v.Arguments, v.ArgumentsKw)
	case *Register:
		return []any{int64(REGISTER), uint64(v.Request), dict(v.Options), string(v.Procedure)}
	case *Registered:
		return []any{int64(REGISTERED), uint64(v.Request), uint64(v.Registration)}
	case *Unregister:
		return []any{int64(UNREGISTER), uint64(v.Request), uint64(v.Registration)}
	case *Unregistered:
		if len(v.Details) > 0 {
			return []any{int64(UNREGISTERED), uint64(v.Request), v.Details}
		}
		return []any{int64(UNREGISTERED), uint64(v.Request)}
	case *Invocation:
		return payload([]any{int64(INVOCATION), uint64(v.Request), uint64(v.Registration), dict(v.Details)}, v.Arguments, v.ArgumentsKw)
	case *Interrupt:
		return []any{int64(INTERRUPT), uint64(v.Request), dict(v.Options)}
	case *Yield:
		return payload([]any{int64(YIELD), uint64(v.Request), dict(v.Options)}, v.Arguments, v.ArgumentsKw)
	}
	return nil
}

func dict(d Dict) Dict {
	if d == nil {
		return Dict{}
	}
	return d
}

func payload(l []any, args List, kw Dict) []any {
	if len(kw) > 0 {
		if args == nil {
			args = List{}
		}
		return append(l, args, kw)
	}
	if len(args) > 0 {
		return append(l, args)
	}
	return l
}

// FromList converts a decoded list into a typed message, checking its shape:
// the element count, the type of every element, ids in [1, 2^53], dicts with
// string keys. Integers may arrive as any Go integer type, as an integral
// float64 or as json.Number; maps with interface keys (as some CBOR and
// MessagePack decoders produce) are converted to Dict, recursively. The
// error is a *ProtocolError.
func FromList(l []any) (Message, error) {
	if len(l) == 0 {
		return nil, violation(0, "empty message")
	}
	code, ok := toInt(l[0])
	if !ok {
		return nil, violation(0, "message type is not an integer")
	}
	t := MessageType(code)
	p := parser{t: t, l: l}
	var m Message
	switch t {
	case HELLO:
		p.count(3, 3)
		m = &Hello{Realm: p.uri(1), Details: p.dict(2)}
	case WELCOME:
		p.count(3, 3)
		m = &Welcome{Session: p.id(1), Details: p.dict(2)}
	case ABORT:
		p.count(3, 5)
		m = &Abort{Details: p.dict(1), Reason: p.uri(2), Arguments: p.args(3), ArgumentsKw: p.kwargs(4)}
	case CHALLENGE:
		p.count(3, 3)
		m = &Challenge{AuthMethod: p.str(1), Extra: p.dict(2)}
	case AUTHENTICATE:
		p.count(3, 3)
		m = &Authenticate{Signature: p.str(1), Extra: p.dict(2)}
	case GOODBYE:
		p.count(3, 3)
		m = &Goodbye{Details: p.dict(1), Reason: p.uri(2)}
	case ERROR:
		p.count(5, 7)
		e := &Error{Type: MessageType(p.integer(1)), Request: p.id(2), Details: p.dict(3), Error: p.uri(4), Arguments: p.args(5), ArgumentsKw: p.kwargs(6)}
		if p.err == nil {
			switch e.Type {
			case SUBSCRIBE, UNSUBSCRIBE, PUBLISH, REGISTER, UNREGISTER, CALL, INVOCATION, CANCEL:
			default:
				p.fail("invalid REQUEST.Type %d", int64(e.Type))
			}
		}
		m = e
	case PUBLISH:
		p.count(4, 6)
		m = &Publish{Request: p.id(1), Options: p.dict(2), Topic: p.uri(3), Arguments: p.args(4), ArgumentsKw: p.kwargs(5)}
	case PUBLISHED:
		p.count(3, 3)
		m = &Published{Request: p.id(1), Publication: p.id(2)}
	case SUBSCRIBE:
		p.count(4, 4)
		m = &Subscribe{Request: p.id(1), Options: p.dict(2), Topic: p.uri(3)}
	case SUBSCRIBED:
		p.count(3, 3)
		m = &Subscribed{Request: p.id(1), Subscription: p.id(2)}
	case UNSUBSCRIBE:
		p.count(3, 3)
		m = &Unsubscribe{Request: p.id(1), Subscription: p.id(2)}
	case UNSUBSCRIBED:
		p.count(2, 3)
		m = &Unsubscribed{Request: p.idOrRevocation(1), Details: p.optDict(2)}
	case EVENT:
		p.count(4, 6)
		m = &Event{Subscription: p.id(1), Publication: p.id(2), Details: p.dict(3), Arguments: p.args(4), ArgumentsKw: p.kwargs(5)}
	case CALL:
		p.count(4, 6)
		m = &Call{Request: p.id(1), Options: p.dict(2), Procedure: p.uri(3), Arguments: p.args(4), ArgumentsKw: p.kwargs(5)}
	case CANCEL:
		p.count(3, 3)
		m = &Cancel{Request: p.id(1), Options: p.dict(2)}
	case RESULT:
		p.count(3, 5)
		m = &Result{Request: p.id(1), Details: p.dict(2), Arguments: p.args(3), ArgumentsKw: p.kwargs(4)}
	case REGISTER:
		p.count(4, 4)
		m = &Register{Request: p.id(1), Options: p.dict(2), Procedure: p.uri(3)}
	case REGISTERED:
		p.count(3, 3)
		m = &Registered{Request: p.id(1), Registration: p.id(2)}
	case UNREGISTER:
		p.count(3, 3)
		m = &Unregister{Request: p.id(1), Registration: p.id(2)}
	case UNREGISTERED:
		p.count(2, 3)
		m = &Unregistered{Request: p.idOrRevocation(1), Details: p.optDict(2)}
	case INVOCATION:
		p.count(4, 6)
		m = &Invocation{Request: p.id(1), Registration: p.id(2), Details: p.dict(3), Arguments: p.args(4), ArgumentsKw: p.kwargs(5)}
	case INTERRUPT:
		p.count(3, 3)
		m = &Interrupt{Request: p.id(1), Options: p.dict(2)}
	case YIELD:
		p.count(3, 5)
		m = &Yield{Request: p.id(1), Options: p.dict(2), Arguments: p.args(3), ArgumentsKw: p.kwargs(4)}
	default:
		return nil, violation(0, "unknown message type %d", code)
	}
	if p.err != nil {
		return nil, p.err
	}
	return m, nil
}

// parser records the first shape error; later calls are no-ops.
type parser struct {
	t   MessageType
	l   []any
	err error
}

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = violation(p.t, format, args...)
	}
}

func (p *parser) count(min, max int) {
	if len(p.l) < min || len(p.l) > max {
		if min == max {
			p.fail("%d elements, want %d", len(p.l), min)
		} else {
			p.fail("%d elements, want %d to %d", len(p.l), min, max)
		}
	}
}

func (p *parser) at(i int) (any, bool) {
	if p.err != nil || i >= len(p.l) {
		return nil, false
	}
	return p.l[i], true
}

func (p *parser) id(i int) ID {
	v, ok := p.at(i)
	if !ok {
		return 0
	}
	n, ok := toInt(v)
	if !ok || n < 1 || uint64(n) > uint64(MaxID) {
		p.fail("element %d: not an id in [1, 2^53]", i)
		return 0
	}
	return ID(n)
}

// idOrRevocation reads a request id, or 0 when the message carries
// Details (a router-initiated revocation: [UNSUBSCRIBED, 0, Details]).
func (p *parser) idOrRevocation(i int) ID {
	if len(p.l) > i+1 {
		if v, ok := p.at(i); ok {
			if n, ok := toInt(v); ok && n == 0 {
				return 0
			}
		}
	}
	return p.id(i)
}

func (p *parser) integer(i int) int64 {
	v, ok := p.at(i)
	if !ok {
		return 0
	}
	n, ok := toInt(v)
	if !ok || n < 0 {
		p.fail("element %d: not a non-negative integer", i)
	}
	return n
}

func (p *parser) str(i int) string {
	v, ok := p.at(i)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.fail("element %d: not a string", i)
	}
	return s
}

func (p *parser) uri(i int) URI {
	v, ok := p.at(i)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.fail("element %d: URI is not a string", i)
	}
	return URI(s)
}

func (p *parser) dict(i int) Dict {
	v, ok := p.at(i)
	if !ok {
		return nil
	}
	d, ok := toDict(v)
	if !ok {
		p.fail("element %d: not a dict with string keys", i)
	}
	return d
}

func (p *parser) optDict(i int) Dict {
	if i >= len(p.l) {
		return nil
	}
	return p.dict(i)
}

func (p *parser) args(i int) List {
	v, ok := p.at(i)
	if !ok {
		return nil
	}
	if v == nil {
		// The nexus Go client sends null for empty Arguments when it has
		// ArgumentsKw; the real client wins, and null means no arguments.
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.fail("element %d: Arguments is not a list", i)
		return nil
	}
	for j, e := range l {
		n, ok := normalize(e)
		if !ok {
			p.fail("element %d: Arguments[%d]: a map key is not a string", i, j)
			return nil
		}
		l[j] = n
	}
	return l
}

func (p *parser) kwargs(i int) Dict {
	v, ok := p.at(i)
	if !ok {
		return nil
	}
	d, ok := toDict(v)
	if !ok {
		p.fail("element %d: ArgumentsKw is not a dict with string keys", i)
	}
	return d
}

// toDict accepts map[string]any and map[any]any with string keys, converting
// nested maps too.
func toDict(v any) (Dict, bool) {
	switch m := v.(type) {
	case map[string]any:
		for k, e := range m {
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			if !sameShape(e, n) {
				m[k] = n
			}
		}
		return m, true
	case map[any]any:
		d := make(Dict, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			d[ks] = n
		}
		return d, true
	}
	return nil, false
}

// sameShape reports whether normalize left a value unchanged (so the map
// entry need not be rewritten).
func sameShape(a, b any) bool {
	_, am := a.(map[any]any)
	return !am
}

// normalize converts interface-keyed maps inside a payload value to Dict.
func normalize(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any, map[any]any:
		return toDict(x)
	case []any:
		for i, e := range x {
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			x[i] = n
		}
		return x, true
	}
	return v, true
}

// toInt reads a WAMP integer from any decoded numeric form.
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return u64(uint64(n))
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return u64(n)
	case ID:
		return u64(uint64(n))
	case MessageType:
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<62 {
			return 0, false
		}
		return int64(n), true
	case float32:
		return toInt(float64(n))
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			f, ferr := n.Float64()
			if ferr != nil {
				return 0, false
			}
			return toInt(f)
		}
		return i, true
	}
	return 0, false
}

func u64(n uint64) (int64, bool) {
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// Int reads an integer option value in any decoded numeric form.
func Int(v any) (int64, bool) { return toInt(v) }
