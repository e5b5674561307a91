package router

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"skyhub/internal/wamp"
)

// session is one established WAMP session. Fields above lastReq are set
// before the session joins its realm and never change; lastReq is owned by
// the session's goroutine; subs, regs and the fields below mu are guarded
// by mu (subs and regs change under the broker's or dealer's lock, then
// mu: revocation removes them from another session's goroutine).
type session struct {
	id           wamp.ID
	realm        *realm
	peer         wamp.Peer
	authid       string
	authrole     string
	authmethod   string
	authprovider string
	authextra    wamp.Dict
	// Client features.
	calleeProgress bool // callee: progressive_call_results
	calleeCancel   bool // callee: call_canceling
	calleeProgInv  bool // callee: progressive_call_invocations
	calleeRevoke   bool // callee: registration_revocation
	subRevoke      bool // subscriber: subscription_revocation
	trusted        bool // router-local component: not subject to authorization
	created        time.Time

	lastReq wamp.ID
	subs    map[wamp.ID]*subscription
	regs    map[wamp.ID]*registration

	ctl     chan control
	welcome *wamp.Welcome // sent by run once joined; nil for local sessions

	mu         sync.Mutex
	calls      map[wamp.ID]*call // as caller, by CALL request id
	invs       map[wamp.ID]*call // as callee, by INVOCATION request id
	invSeq     wamp.ID           // last INVOCATION id sent to this callee
	testaments map[string][]testament
	gone       bool
}

// control asks a session's goroutine to end the session.
type control struct {
	reason   wamp.URI
	message  string
	shutdown bool // close the transport too
}

type testament struct {
	topic   wamp.URI
	args    wamp.List
	kwargs  wamp.Dict
	options wamp.Dict
}

func (s *session) send(m wamp.Message) {
	if err := s.peer.Send(m); err != nil {
		s.realm.r.metrics.sendFail.Inc()
	}
}

// kill asks the session to end with GOODBYE reason; it never blocks.
func (s *session) kill(reason wamp.URI, message string, shutdown bool) bool {
	select {
	case s.ctl <- control{reason: reason, message: message, shutdown: shutdown}:
		return true
	default:
		return false // already being ended
	}
}

func (s *session) metaDetails() wamp.Dict {
	d := wamp.Dict{
		"session":      s.id,
		"authid":       s.authid,
		"authrole":     s.authrole,
		"authmethod":   s.authmethod,
		"authprovider": s.authprovider,
		"transport":    wamp.Dict{},
	}
	if s.authextra != nil {
		d["authextra"] = s.authextra
	}
	return d
}

// outcome of handling one message.
type outcome int

const (
	stay    outcome = iota // keep going
	ended                  // session over, the transport may carry another
	aborted                // session over, close the transport
)

// run handles the established session's messages until it ends. It
// reports whether the transport may carry another session.
func (s *session) run() bool {
	rl := s.realm
	r := rl.r
	rl.join(s)
	if s.welcome != nil {
		s.send(s.welcome)
		s.welcome = nil
	}
	for {
		select {
		case m, ok := <-s.peer.Recv():
			if !ok {
				rl.leave(s)
				return false
			}
			r.metrics.in(m.MessageType())
			switch s.handle(m) {
			case ended:
				return true
			case aborted:
				return false
			}
		case c := <-s.ctl:
			return s.goodbye(c)
		case <-r.done:
			// Router shutdown; also covers a session that joined after
			// Close looked at the live sessions.
			return s.goodbye(control{reason: wamp.CloseSystemShutdown, message: "router is shutting down", shutdown: true})
		}
	}
}

// goodbye ends the session from the router's side: GOODBYE, then wait
// briefly for the client's GOODBYE.
func (s *session) goodbye(c control) bool {
	d := wamp.Dict{}
	if c.message != "" {
		d["message"] = c.message
	}
	s.send(&wamp.Goodbye{Details: d, Reason: c.reason})
	s.realm.leave(s)
	if c.shutdown {
		return false
	}
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case m, ok := <-s.peer.Recv():
			if !ok {
				return false
			}
			if m.MessageType() == wamp.GOODBYE {
				return true
			}
			// Anything else after our GOODBYE is ignored (spec: no
			// further processing).
		case <-t.C:
			return false
		}
	}
}

func (s *session) violation(format string, args ...any) outcome {
	msg := fmt.Sprintf(format, args...)
	s.realm.r.metrics.violations.Inc()
	s.realm.r.log.Info("wamp protocol violation", "session", uint64(s.id), "realm", string(s.realm.name), "message", msg)
	s.realm.leave(s)
	s.send(wamp.ProtocolViolation(msg))
	return aborted
}

// checkReq enforces the session-scope request id rule for a new request.
func (s *session) checkReq(id wamp.ID) bool {
	var ok bool
	switch s.realm.pol.reqIDs {
	case "sequential":
		ok = id == wamp.NextID(s.lastReq)
	case "increasing":
		ok = id > s.lastReq || (s.lastReq > wamp.MaxID-1000 && id < 1000)
	default:
		ok = true
	}
	if ok {
		s.lastReq = id
	}
	return ok
}

func (s *session) handle(m wamp.Message) outcome {
	switch v := m.(type) {
	case *wamp.Publish:
		if !s.checkReq(v.Request) {
			return s.violation("PUBLISH request id %d out of sequence (last %d)", v.Request, s.lastReq)
		}
		s.realm.broker.publish(s, v)
	case *wamp.Subscribe:
		if !s.checkReq(v.Request) {
			return s.violation("SUBSCRIBE request id %d out of sequence (last %d)", v.Request, s.lastReq)
		}
		s.realm.broker.subscribe(s, v)
	case *wamp.Unsubscribe:
		if !s.checkReq(v.Request) {
			return s.violation("UNSUBSCRIBE request id %d out of sequence (last %d)", v.Request, s.lastReq)
		}
		s.realm.broker.unsubscribe(s, v)
	case *wamp.Call:
		if s.realm.dealer.continueCall(s, v) {
			break // a further chunk of a progressive call invocation
		}
		if !s.checkReq(v.Request) {
			return s.violation("CALL request id %d out of sequence (last %d)", v.Request, s.lastReq)
		}
		s.realm.dealer.call(s, v)
	case *wamp.Cancel:
		s.realm.dealer.cancel(s, v)
	case *wamp.Register:
		if !s.checkReq(v.Request) {
			return s.violation("REGISTER request id %d out of sequence (last %d)", v.Request, s.lastReq)
		}
		s.realm.dealer.register(s, v)
	case *wamp.Unregister:
		if !s.checkReq(v.Request) {
			return s.violation("UNREGISTER request id %d out of sequence (last %d)", v.Request, s.lastReq)
		}
		s.realm.dealer.unregister(s, v)
	case *wamp.Yield:
		if !s.realm.dealer.yield(s, v) {
			return s.violation("YIELD for unknown INVOCATION request %d", v.Request)
		}
	case *wamp.Error:
		if v.Type != wamp.INVOCATION {
			return s.violation("ERROR for request type %d from a client", int(v.Type))
		}
		if !s.realm.dealer.invocationError(s, v) {
			return s.violation("ERROR for unknown INVOCATION request %d", v.Request)
		}
	case *wamp.Goodbye:
		s.send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
		s.realm.leave(s)
		return ended
	case *wamp.Abort:
		s.realm.leave(s)
		return aborted
	case *wamp.Hello:
		return s.violation("HELLO received on an established session")
	default:
		return s.violation("unexpected %s from a client", m.MessageType())
	}
	return stay
}

// errorReply sends ERROR for a request.
func (s *session) errorReply(t wamp.MessageType, req wamp.ID, uri wamp.URI, message string) {
	e := &wamp.Error{Type: t, Request: req, Details: wamp.Dict{}, Error: uri}
	if message != "" {
		e.Arguments = wamp.List{message}
	}
	s.send(e)
}

// authorize checks that the session may perform action on uri.
func (s *session) authorize(uri wamp.URI, action string) (bool, wamp.URI) {
	rl := s.realm
	if s.trusted {
		return true, ""
	}
	allowed, known := rl.pol.permits(s.authrole, uri, action)
	if known {
		if !allowed {
			return false, wamp.ErrNotAuthorized
		}
		return true, ""
	}
	key := s.authrole + "\x00" + s.authid + "\x00" + action + "\x00" + string(uri)
	if v, ok := rl.authzCache.get(key); ok {
		if v.(bool) {
			return true, ""
		}
		return false, wamp.ErrNotAuthorized
	}
	res, err := rl.dealer.internalCall(rl.pol.authorizer, wamp.List{s.metaDetails(), string(uri), action}, nil)
	if err != nil {
		rl.r.log.Warn("wamp authorizer failed", "realm", string(rl.name), "err", err)
		return false, wamp.ErrAuthorizationFailed
	}
	allow, cache := false, true
	if len(res.Arguments) > 0 {
		switch a := res.Arguments[0].(type) {
		case bool:
			allow = a
		case wamp.Dict:
			allow, _ = wamp.OptBool(a, "allow")
			if c, ok := wamp.OptBool(a, "cache"); ok {
				cache = c
			}
		}
	}
	if cache {
		rl.authzCache.put(key, allow)
	}
	if !allow {
		return false, wamp.ErrNotAuthorized
	}
	return true, ""
}

// validURI checks uri against the realm's URI rule for match.
func (s *session) validURI(uri wamp.URI, match string) bool {
	return wamp.ValidURI(uri, s.realm.pol.strictURI, match)
}

func features(details wamp.Dict, role string) wamp.Dict {
	roles, _ := wamp.OptDict(details, "roles")
	r, _ := wamp.OptDict(roles, role)
	f, _ := wamp.OptDict(r, "features")
	return f
}

func hasFeature(details wamp.Dict, role, feature string) bool {
	b, _ := wamp.OptBool(features(details, role), feature)
	return b
}

func isReserved(uri wamp.URI) bool { return strings.HasPrefix(string(uri), "wamp.") }
