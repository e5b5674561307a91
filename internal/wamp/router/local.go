package router

import (
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/wamp"
	"skyhub/internal/wamp/inproc"
)

// LocalSession opens a session for an in-process component (the device-hub
// bridge) without authentication: it joins realm as authid with authrole
// and full client features, and it is not subject to authorization. It
// returns the client end (the session is
// already established; no HELLO/WELCOME is exchanged) and the session id.
// Closing the returned peer ends the session.
func (r *Router) LocalSession(realm, authid, authrole string) (wamp.Peer, wamp.ID, error) {
	const op = "wamp/router.LocalSession"
	rl := r.realm(wamp.URI(realm))
	if rl == nil {
		return nil, 0, errs.E(op, errs.NotFound, "no such realm "+realm)
	}
	r.mu.RLock()
	if r.closing {
		r.mu.RUnlock()
		return nil, 0, errs.E(op, errs.Unavailable, "router is shutting down")
	}
	r.wg.Add(1)
	r.mu.RUnlock()
	cp, sp := inproc.Pipe(0)
	s := &session{
		id:             wamp.GlobalID(),
		realm:          rl,
		peer:           sp,
		authid:         authid,
		authrole:       authrole,
		authmethod:     "local",
		authprovider:   "router",
		calleeProgress: true,
		calleeCancel:   true,
		trusted:        true,
		created:        time.Now().UTC(),
		subs:           map[wamp.ID]*subscription{},
		regs:           map[wamp.ID]*registration{},
		ctl:            make(chan control, 1),
		calls:          map[wamp.ID]*call{},
		invs:           map[wamp.ID]*call{},
	}
	go func() {
		defer r.wg.Done()
		defer sp.Close()
		s.run()
	}()
	return cp, s.id, nil
}

// Wanted says whether a plain publication to topic in realm would reach a
// subscriber or the realm's event history, so an in-process publisher (the
// device-hub bridge) can skip building publications nobody receives.
func (r *Router) Wanted(realm string, topic wamp.URI) bool {
	rl := r.realm(wamp.URI(realm))
	return rl != nil && rl.broker.wanted(topic)
}
