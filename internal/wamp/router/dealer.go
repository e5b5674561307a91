package router

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"skyhub/internal/wamp"
)

// dealer routes calls to registrations. Tables are read under mu.RLock by
// every calling session in parallel; REGISTER/UNREGISTER take mu.Lock.
// Callee slices are copy-on-write. Calls in flight live in the caller's
// and the callee's session maps (each under its own session.mu), not in a
// dealer-wide table.
type dealer struct {
	rl *realm

	mu       sync.RWMutex
	exact    map[wamp.URI]*registration
	prefix   map[wamp.URI]*registration
	wildcard map[wamp.URI]*registration
	wild     wildIndex[*registration] // the wildcard table, for matching
	byID     map[wamp.ID]*registration
}

type registration struct {
	id       wamp.ID
	uri      wamp.URI
	match    string
	invoke   string
	created  time.Time
	comps    int // components (wildcard)
	leading  int // leading non-empty components (wildcard precedence)
	callees  []*callee
	rr       atomic.Uint64
	internal func(s *session, c *wamp.Call) // router-implemented procedure
}

type callee struct {
	s              *session
	discloseCaller bool
	forwardTimeout bool
}

// call is one call in flight. mu guards the answer sent to the caller:
// callerDone makes exactly one final answer (RESULT, ERROR, cancel or
// timeout) reach the caller.
type call struct {
	caller    *session // nil for the router's own calls
	callerReq wamp.ID
	reply     chan *wamp.Message // router's own calls
	callee    *session
	invReq    wamp.ID
	regID     wamp.ID
	progress  bool // forward progressive results to the caller

	// streaming: a progressive call invocation whose caller has not sent
	// its final chunk yet. While set, the call stays in the caller's map
	// even when answered, so late chunks are recognised and dropped.
	streaming atomic.Bool

	mu         sync.Mutex
	callerDone bool
	timer      *time.Timer
}

func newDealer(rl *realm) *dealer {
	return &dealer{
		rl:       rl,
		exact:    map[wamp.URI]*registration{},
		prefix:   map[wamp.URI]*registration{},
		wildcard: map[wamp.URI]*registration{},
		byID:     map[wamp.ID]*registration{},
	}
}

func (d *dealer) table(match string) map[wamp.URI]*registration {
	switch match {
	case wamp.MatchPrefix:
		return d.prefix
	case wamp.MatchWildcard:
		return d.wildcard
	}
	return d.exact
}

func (d *dealer) register(s *session, m *wamp.Register) {
	match, ok := matchOption(m.Options)
	if !ok {
		s.errorReply(wamp.REGISTER, m.Request, wamp.ErrInvalidArgument, "unknown match policy")
		return
	}
	if !s.validURI(m.Procedure, match) || isReserved(m.Procedure) {
		s.errorReply(wamp.REGISTER, m.Request, wamp.ErrInvalidURI, "invalid procedure URI "+string(m.Procedure))
		return
	}
	invoke := "single"
	if v, ok := m.Options["invoke"]; ok {
		invoke, _ = v.(string)
		switch invoke {
		case "single", "roundrobin", "random", "first", "last":
		default:
			s.errorReply(wamp.REGISTER, m.Request, wamp.ErrInvalidArgument, "unknown invocation policy")
			return
		}
	}
	if ok, reason := s.authorize(m.Procedure, "register"); !ok {
		s.errorReply(wamp.REGISTER, m.Request, reason, "not authorized to register "+string(m.Procedure))
		return
	}
	ce := &callee{s: s}
	ce.discloseCaller, _ = wamp.OptBool(m.Options, "disclose_caller")
	ce.forwardTimeout, _ = wamp.OptBool(m.Options, "forward_timeout")
	d.mu.Lock()
	t := d.table(match)
	reg := t[m.Procedure]
	created := false
	if reg != nil {
		if reg.invoke == "single" || reg.invoke != invoke || slices.ContainsFunc(reg.callees, func(c *callee) bool { return c.s == s }) {
			d.mu.Unlock()
			s.errorReply(wamp.REGISTER, m.Request, wamp.ErrProcedureAlreadyExists, "procedure already registered")
			return
		}
		next := make([]*callee, len(reg.callees), len(reg.callees)+1)
		copy(next, reg.callees)
		reg.callees = append(next, ce)
	} else {
		reg = &registration{id: d.rl.r.regIDs.Next(), uri: m.Procedure, match: match, invoke: invoke,
			created: time.Now().UTC(), comps: strings.Count(string(m.Procedure), ".") + 1, callees: []*callee{ce}}
		if match == wamp.MatchWildcard {
			for c := range strings.SplitSeq(string(m.Procedure), ".") {
				if c == "" {
					break
				}
				reg.leading++
			}
		}
		t[m.Procedure] = reg
		if match == wamp.MatchWildcard {
			d.wild.add(m.Procedure, reg)
		}
		d.byID[reg.id] = reg
		created = true
	}
	s.mu.Lock()
	s.regs[reg.id] = reg
	s.mu.Unlock()
	// REGISTERED goes out under the lock, before any INVOCATION for it.
	s.send(&wamp.Registered{Request: m.Request, Registration: reg.id})
	d.mu.Unlock()
	b := d.rl.broker
	if created {
		b.publishMeta("wamp.registration.on_create", wamp.List{s.id, reg.details()}, nil)
	}
	b.publishMeta("wamp.registration.on_register", wamp.List{s.id, reg.id}, nil)
}

func (reg *registration) details() wamp.Dict {
	return wamp.Dict{"id": reg.id, "created": reg.created.Format(time.RFC3339Nano), "uri": string(reg.uri),
		"match": reg.match, "invoke": reg.invoke}
}

func (d *dealer) unregister(s *session, m *wamp.Unregister) {
	s.mu.Lock()
	reg := s.regs[m.Registration]
	s.mu.Unlock()
	if reg == nil {
		s.errorReply(wamp.UNREGISTER, m.Request, wamp.ErrNoSuchRegistration, "")
		return
	}
	deleted := d.remove(s, reg)
	s.send(&wamp.Unregistered{Request: m.Request})
	d.rl.broker.publishMeta("wamp.registration.on_unregister", wamp.List{s.id, reg.id}, nil)
	if deleted {
		d.rl.broker.publishMeta("wamp.registration.on_delete", wamp.List{s.id, reg.id}, nil)
	}
}

func (d *dealer) remove(s *session, reg *registration) (deleted bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.removeLocked(s, reg)
}

func (d *dealer) removeLocked(s *session, reg *registration) (deleted bool) {
	s.mu.Lock()
	delete(s.regs, reg.id)
	s.mu.Unlock()
	i := slices.IndexFunc(reg.callees, func(c *callee) bool { return c.s == s })
	if i < 0 {
		return false
	}
	next := make([]*callee, 0, len(reg.callees)-1)
	next = append(next, reg.callees[:i]...)
	reg.callees = append(next, reg.callees[i+1:]...)
	if len(reg.callees) == 0 {
		delete(d.table(reg.match), reg.uri)
		if reg.match == wamp.MatchWildcard {
			d.wild.remove(reg.uri)
		}
		delete(d.byID, reg.id)
		return true
	}
	return false
}

// lookup finds the registration a call to uri goes to: exact first, then
// the longest prefix, then the wildcard with the most leading non-empty
// components (ties: the longer pattern, then the lexically smaller).
// Called with mu held (read).
func (d *dealer) lookup(uri wamp.URI) *registration {
	if reg := d.exact[uri]; reg != nil {
		return reg
	}
	if len(d.prefix) > 0 {
		for i := len(uri); i >= 0; i-- {
			if reg := d.prefix[uri[:i]]; reg != nil {
				return reg
			}
		}
	}
	var best *registration
	if len(d.wildcard) > 0 {
		d.wild.match(uri, func(reg *registration) {
			if best == nil || reg.leading > best.leading ||
				reg.leading == best.leading && (len(reg.uri) > len(best.uri) || len(reg.uri) == len(best.uri) && reg.uri < best.uri) {
				best = reg
			}
		})
	}
	return best
}

func (reg *registration) pick() *callee {
	cs := reg.callees
	switch len(cs) {
	case 0:
		return nil
	case 1:
		return cs[0]
	}
	switch reg.invoke {
	case "roundrobin":
		return cs[(reg.rr.Add(1)-1)%uint64(len(cs))]
	case "random":
		return cs[rand.IntN(len(cs))]
	case "last":
		return cs[len(cs)-1]
	}
	return cs[0]
}

func (d *dealer) call(s *session, m *wamp.Call) {
	if !s.validURI(m.Procedure, wamp.MatchExact) {
		s.errorReply(wamp.CALL, m.Request, wamp.ErrInvalidURI, "invalid procedure URI "+string(m.Procedure))
		return
	}
	streaming, _ := wamp.OptBool(m.Options, "progress")
	if ok, reason := s.authorize(m.Procedure, "call"); !ok {
		s.errorReply(wamp.CALL, m.Request, reason, "not authorized to call "+string(m.Procedure))
		return
	}
	disclose, _ := wamp.OptBool(m.Options, "disclose_me")
	if disclose && d.rl.pol.disallowDisclose {
		s.errorReply(wamp.CALL, m.Request, wamp.ErrDiscloseMeDisallowed, "")
		return
	}
	if isReserved(m.Procedure) && metaCall(s, m) {
		return
	}
	d.mu.RLock()
	reg := d.lookup(m.Procedure)
	var ce *callee
	if reg != nil {
		ce = reg.pick()
	}
	d.mu.RUnlock()
	if ce == nil {
		s.errorReply(wamp.CALL, m.Request, wamp.ErrNoSuchProcedure, "no callee for "+string(m.Procedure))
		return
	}
	if streaming && !ce.s.calleeProgInv {
		s.errorReply(wamp.CALL, m.Request, wamp.ErrFeatureNotSupported, "the callee does not support progressive call invocations")
		return
	}
	wantProgress, _ := wamp.OptBool(m.Options, "receive_progress")
	c := &call{caller: s, callerReq: m.Request, callee: ce.s, regID: reg.id, progress: wantProgress && ce.s.calleeProgress}
	c.streaming.Store(streaming)
	det := copyPPT(wamp.Dict{}, m.Options)
	if reg.match != wamp.MatchExact {
		det["procedure"] = string(m.Procedure)
	}
	if c.progress {
		det["receive_progress"] = true
	}
	if streaming {
		det["progress"] = true
	}
	if disclose || ce.discloseCaller {
		det["caller"], det["caller_authid"], det["caller_authrole"] = s.id, s.authid, s.authrole
	}
	timeout := time.Duration(0)
	if ms, ok := wamp.OptInt(m.Options, "timeout"); ok && ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	if max := d.rl.pol.maxCallTimeout; max > 0 && (timeout == 0 || timeout > max) {
		timeout = max
	}
	if ce.forwardTimeout && timeout > 0 {
		det["timeout"] = int64(timeout / time.Millisecond)
		timeout = 0
	}
	s.mu.Lock()
	s.calls[m.Request] = c
	s.mu.Unlock()
	if !d.invoke(c, reg.id, det, m.Arguments, m.ArgumentsKw) {
		c.finish(&wamp.Error{Type: wamp.CALL, Request: m.Request, Details: wamp.Dict{}, Error: wamp.ErrCanceled,
			Arguments: wamp.List{"callee left"}})
		return
	}
	if timeout > 0 {
		c.startTimer(timeout, func() { d.expire(c) })
	}
}

// startTimer arms the call's timeout unless the call is already answered.
func (c *call) startTimer(d time.Duration, f func()) {
	c.mu.Lock()
	if !c.callerDone {
		c.timer = time.AfterFunc(d, f)
	}
	c.mu.Unlock()
}

// continueCall routes a further chunk (CALL with the request id of a
// progressive call invocation still streaming) to the same callee, as an
// INVOCATION with the same id. It reports false when m starts a new call.
func (d *dealer) continueCall(s *session, m *wamp.Call) bool {
	s.mu.Lock()
	c := s.calls[m.Request]
	s.mu.Unlock()
	if c == nil || !c.streaming.Load() {
		return false
	}
	more, _ := wamp.OptBool(m.Options, "progress")
	det := copyPPT(wamp.Dict{}, m.Options)
	if more {
		det["progress"] = true
	}
	c.mu.Lock()
	c.streaming.Store(more)
	done := c.callerDone
	c.mu.Unlock()
	if done {
		// Answered or canceled meanwhile: the chunk has nowhere to go;
		// after the final chunk the call is forgotten.
		if !more {
			s.mu.Lock()
			if s.calls[m.Request] == c {
				delete(s.calls, m.Request)
			}
			s.mu.Unlock()
		}
		return true
	}
	ce := c.callee
	ce.mu.Lock()
	if ce.invs[c.invReq] == c {
		ce.send(&wamp.Invocation{Request: c.invReq, Registration: c.regID, Details: det, Arguments: m.Arguments, ArgumentsKw: m.ArgumentsKw})
	}
	ce.mu.Unlock()
	return true
}

// invoke allocates the callee's next INVOCATION id and sends it, both
// under the callee's lock so its INVOCATION ids arrive in order.
func (d *dealer) invoke(c *call, regID wamp.ID, det wamp.Dict, args wamp.List, kw wamp.Dict) bool {
	ce := c.callee
	ce.mu.Lock()
	defer ce.mu.Unlock()
	if ce.gone {
		return false
	}
	ce.invSeq = wamp.NextID(ce.invSeq)
	c.invReq = ce.invSeq
	ce.invs[c.invReq] = c
	ce.send(&wamp.Invocation{Request: c.invReq, Registration: regID, Details: det, Arguments: args, ArgumentsKw: kw})
	return true
}

// finish sends the caller its final answer, once. It reports whether this
// call was the one that finished it.
func (c *call) finish(m wamp.Message) bool {
	c.mu.Lock()
	if c.callerDone {
		c.mu.Unlock()
		return false
	}
	c.callerDone = true
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.caller == nil {
		mm := m // only this (internal call) path needs m on the heap
		c.reply <- &mm
	} else {
		c.caller.send(m)
	}
	keep := c.streaming.Load() // late chunks must still be recognised
	c.mu.Unlock()
	if c.caller != nil && !keep {
		c.caller.mu.Lock()
		if c.caller.calls[c.callerReq] == c {
			delete(c.caller.calls, c.callerReq)
		}
		c.caller.mu.Unlock()
	}
	return true
}

// progressResult forwards a progressive result while the call is open.
func (c *call) progressResult(m *wamp.Result) {
	c.mu.Lock()
	if !c.callerDone && c.progress && c.caller != nil {
		c.caller.send(m)
	}
	c.mu.Unlock()
}

func (d *dealer) interrupt(c *call, mode string, reason wamp.URI) {
	if !c.callee.calleeCancel {
		return
	}
	opts := wamp.Dict{"mode": mode}
	if reason != "" {
		opts["reason"] = string(reason)
	}
	c.callee.send(&wamp.Interrupt{Request: c.invReq, Options: opts})
}

// expire is the dealer's call timeout.
func (d *dealer) expire(c *call) {
	if c.finish(&wamp.Error{Type: wamp.CALL, Request: c.callerReq, Details: wamp.Dict{}, Error: wamp.ErrTimeout,
		Arguments: wamp.List{"call timed out"}}) {
		d.interrupt(c, "killnowait", wamp.ErrTimeout)
	}
}

// takeInvocation finds the call for an INVOCATION id answered by callee s;
// keep leaves it in place (progressive YIELD). known reports whether the
// id was ever issued to s (an answer to a finished call is ignored; one to
// an id never issued is a protocol violation).
func (s *session) takeInvocation(id wamp.ID, keep bool) (c *call, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c = s.invs[id]
	if c == nil {
		return nil, id <= s.invSeq
	}
	if !keep {
		delete(s.invs, id)
	}
	return c, true
}

func (d *dealer) yield(s *session, m *wamp.Yield) bool {
	progress, _ := wamp.OptBool(m.Options, "progress")
	c, known := s.takeInvocation(m.Request, progress)
	if c == nil {
		return known
	}
	if progress {
		c.progressResult(&wamp.Result{Request: c.callerReq, Details: copyPPT(wamp.Dict{"progress": true}, m.Options), Arguments: m.Arguments, ArgumentsKw: m.ArgumentsKw})
		return true
	}
	c.finish(&wamp.Result{Request: c.callerReq, Details: copyPPT(wamp.Dict{}, m.Options), Arguments: m.Arguments, ArgumentsKw: m.ArgumentsKw})
	return true
}

func (d *dealer) invocationError(s *session, m *wamp.Error) bool {
	c, known := s.takeInvocation(m.Request, false)
	if c == nil {
		return known
	}
	c.finish(&wamp.Error{Type: wamp.CALL, Request: c.callerReq, Details: copyPPT(wamp.Dict{}, m.Details), Error: m.Error, Arguments: m.Arguments, ArgumentsKw: m.ArgumentsKw})
	return true
}

func (d *dealer) cancel(s *session, m *wamp.Cancel) {
	s.mu.Lock()
	c := s.calls[m.Request]
	s.mu.Unlock()
	if c == nil {
		return // already answered: nothing to cancel
	}
	mode, _ := wamp.OptString(m.Options, "mode")
	switch mode {
	case "", "killnowait", "kill", "skip":
	default:
		s.errorReply(wamp.CANCEL, m.Request, wamp.ErrInvalidArgument, "unknown cancel mode "+mode)
		return
	}
	if mode == "" {
		mode = "killnowait"
	}
	if !c.callee.calleeCancel {
		mode = "skip"
	}
	canceled := &wamp.Error{Type: wamp.CALL, Request: c.callerReq, Details: wamp.Dict{}, Error: wamp.ErrCanceled, Arguments: wamp.List{"call canceled"}}
	switch mode {
	case "skip":
		c.finish(canceled)
	case "killnowait":
		if c.finish(canceled) {
			d.interrupt(c, "killnowait", wamp.ErrCanceled)
		}
	case "kill":
		// The callee's answer (normally ERROR wamp.error.canceled) goes
		// to the caller as usual.
		d.interrupt(c, "kill", wamp.ErrCanceled)
	}
}

// sessionGone settles s's registrations and calls, both as callee and as
// caller.
func (d *dealer) sessionGone(s *session) {
	s.mu.Lock()
	regs := make([]*registration, 0, len(s.regs))
	for _, reg := range s.regs {
		regs = append(regs, reg)
	}
	s.mu.Unlock()
	for _, reg := range regs {
		deleted := d.remove(s, reg)
		d.rl.broker.publishMeta("wamp.registration.on_unregister", wamp.List{s.id, reg.id}, nil)
		if deleted {
			d.rl.broker.publishMeta("wamp.registration.on_delete", wamp.List{s.id, reg.id}, nil)
		}
	}
	s.mu.Lock()
	s.gone = true
	invs, calls := s.invs, s.calls
	s.invs, s.calls = map[wamp.ID]*call{}, map[wamp.ID]*call{}
	s.mu.Unlock()
	for _, c := range invs {
		c.finish(&wamp.Error{Type: wamp.CALL, Request: c.callerReq, Details: wamp.Dict{}, Error: wamp.ErrCanceled,
			Arguments: wamp.List{"callee left"}})
	}
	for _, c := range calls {
		c.mu.Lock()
		done := c.callerDone
		c.callerDone = true
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		if !done {
			d.interrupt(c, "killnowait", wamp.ErrCanceled)
		}
	}
}

// callError is a failed router-internal call.
type callError struct {
	uri  wamp.URI
	args wamp.List
}

func (e *callError) Error() string { return "call failed: " + string(e.uri) + " " + e.message() }

func (e *callError) message() string {
	if len(e.args) > 0 {
		if s, ok := e.args[0].(string); ok {
			return s
		}
	}
	return ""
}

// internalCall calls a procedure registered in this realm on the router's
// own behalf (dynamic authenticator and authorizer), waiting up to
// Config.CallTimeout.
func (d *dealer) internalCall(proc wamp.URI, args wamp.List, kw wamp.Dict) (*wamp.Result, error) {
	d.mu.RLock()
	reg := d.lookup(proc)
	var ce *callee
	if reg != nil {
		ce = reg.pick()
	}
	d.mu.RUnlock()
	if ce == nil {
		return nil, &callError{uri: wamp.ErrNoSuchProcedure}
	}
	c := &call{reply: make(chan *wamp.Message, 1), callee: ce.s}
	det := wamp.Dict{}
	if reg.match != wamp.MatchExact {
		det["procedure"] = string(proc)
	}
	if !d.invoke(c, reg.id, det, args, kw) {
		return nil, &callError{uri: wamp.ErrCanceled}
	}
	c.startTimer(d.rl.r.cfg.CallTimeout, func() { d.expire(c) })
	m := <-c.reply
	switch v := (*m).(type) {
	case *wamp.Result:
		return v, nil
	case *wamp.Error:
		return nil, &callError{uri: v.Error, args: v.Arguments}
	}
	return nil, &callError{uri: wamp.ErrCanceled}
}

// pptKeys are the payload passthru mode options: the router copies them
// from CALL/YIELD/ERROR/PUBLISH into the forwarded message's details and
// never looks at the (possibly encrypted) payload.
var pptKeys = [...]string{"ppt_scheme", "ppt_serializer", "ppt_cipher", "ppt_keyid"}

func copyPPT(dst, src wamp.Dict) wamp.Dict {
	if _, ok := src["ppt_scheme"]; !ok {
		return dst
	}
	if dst == nil {
		dst = wamp.Dict{}
	}
	for _, k := range pptKeys {
		if v, ok := src[k]; ok {
			dst[k] = v
		}
	}
	return dst
}

// revoke removes callee o from registration id (registration revocation):
// o gets UNREGISTERED with request 0 and {registration, reason} if it
// announced registration_revocation. It reports whether o had it.
func (d *dealer) revoke(id wamp.ID, o *session, reason string) bool {
	o.mu.Lock()
	reg := o.regs[id]
	o.mu.Unlock()
	if reg == nil {
		return false
	}
	d.mu.Lock()
	o.mu.Lock()
	still := o.regs[id] == reg
	o.mu.Unlock()
	if !still { // the session dropped it meanwhile
		d.mu.Unlock()
		return false
	}
	deleted := d.removeLocked(o, reg)
	if o.calleeRevoke {
		det := wamp.Dict{"registration": reg.id}
		if reason != "" {
			det["reason"] = reason
		}
		o.send(&wamp.Unregistered{Request: 0, Details: det})
	}
	d.mu.Unlock()
	d.rl.broker.publishMeta("wamp.registration.on_unregister", wamp.List{o.id, reg.id}, nil)
	if deleted {
		d.rl.broker.publishMeta("wamp.registration.on_delete", wamp.List{o.id, reg.id}, nil)
	}
	return true
}
