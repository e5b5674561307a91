// Package errs is Skyhub's one error type. An error carries the operation that
// failed, a Kind that each wire layer maps to its own protocol's error (an HTTP
// status, an AWS error code, a WAMP error URI), a message that is safe to show
// to a client, and the underlying cause, which is only ever logged.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error independently of any wire protocol.
type Kind uint8

// The kinds of error. Wire layers switch on these; add a kind only when some
// protocol needs to render it differently from every existing one.
const (
	Other        Kind = iota // unclassified: rendered as an internal error
	Invalid                  // the request is malformed or breaks a rule
	NotFound                 // the named thing does not exist
	Exists                   // the thing to create already exists
	Unauthorized             // no or wrong credentials
	Forbidden                // credentials fine, permission missing
	RateLimited              // too many requests
	TooLarge                 // a body, message or item exceeds a limit
	Conflict                 // the state does not allow the operation now
	Unavailable              // shutting down, overloaded, try again
	Internal                 // a bug or an I/O failure; never shown in detail
)

var kindNames = [...]string{"other", "invalid", "not found", "exists", "unauthorized",
	"forbidden", "rate limited", "too large", "conflict", "unavailable", "internal"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the error type returned across package boundaries.
type Error struct {
	Op   string // the operation, e.g. "device.Register"
	Kind Kind
	Msg  string // safe to show to a client; may be empty
	Err  error  // the cause; logged, never shown
}

func (e *Error) Error() string {
	s := e.Op
	if s != "" {
		s += ": "
	}
	s += e.Kind.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error. Arguments may be, in any order: a Kind, a string (the
// client-safe message), or an error (the cause). If the cause is itself an
// *Error and no kind is given, its kind and message are inherited.
func E(op string, args ...any) error {
	e := &Error{Op: op}
	kindSet := false
	for _, a := range args {
		switch v := a.(type) {
		case Kind:
			e.Kind, kindSet = v, true
		case string:
			e.Msg = v
		case error:
			e.Err = v
		}
	}
	var inner *Error
	if e.Err != nil && errors.As(e.Err, &inner) {
		if !kindSet {
			e.Kind = inner.Kind
		}
		if e.Msg == "" {
			e.Msg = inner.Msg
		}
	}
	return e
}

// KindOf reports the Kind of err: the outermost *Error's kind, Other for a
// plain error and for nil.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Message returns the client-safe message of err, or fallback when it has
// none. Causes are never included.
func Message(err error, fallback string) string {
	var e *Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return fallback
}
