package router

import (
	"skyhub/internal/wamp"
)

// metaCall serves the router's own wamp.* procedures. It reports false for
// an unknown one (the caller then gets no_such_procedure).
func metaCall(s *session, m *wamp.Call) bool {
	rl := s.realm
	ok := func(args ...any) {
		s.send(&wamp.Result{Request: m.Request, Details: wamp.Dict{}, Arguments: wamp.List(args)})
	}
	fail := func(uri wamp.URI, msg string) { s.errorReply(wamp.CALL, m.Request, uri, msg) }
	arg := func(i int) (any, bool) {
		if i < len(m.Arguments) {
			return m.Arguments[i], true
		}
		return nil, false
	}
	idArg := func(i int) (wamp.ID, bool) {
		v, ok := arg(i)
		if !ok {
			return 0, false
		}
		n, ok := wamp.Int(v)
		return wamp.ID(n), ok && n > 0
	}
	strArg := func(i int) (string, bool) {
		v, _ := arg(i)
		str, ok := v.(string)
		return str, ok
	}
	roleFilter := func() (map[string]bool, bool) {
		v, ok := arg(0)
		if !ok || v == nil {
			return nil, true
		}
		l, ok := v.([]any)
		if !ok {
			return nil, false
		}
		f := map[string]bool{}
		for _, e := range l {
			r, ok := e.(string)
			if !ok {
				return nil, false
			}
			f[r] = true
		}
		return f, true
	}
	killReason := func() (wamp.URI, string, bool) {
		reason, msg := wamp.CloseKilled, ""
		if r, ok := wamp.OptString(m.ArgumentsKw, "reason"); ok {
			if !wamp.ValidURI(wamp.URI(r), false, wamp.MatchExact) {
				return "", "", false
			}
			reason = wamp.URI(r)
		}
		msg, _ = wamp.OptString(m.ArgumentsKw, "message")
		return reason, msg, true
	}
	killWhere := func(pred func(*session) bool) []wamp.ID {
		reason, msg, good := killReason()
		if !good {
			fail(wamp.ErrInvalidURI, "bad reason")
			return nil
		}
		killed := []wamp.ID{}
		for _, o := range rl.sessionList() {
			if o != s && pred(o) && o.kill(reason, msg, false) {
				killed = append(killed, o.id)
			}
		}
		return killed
	}

	switch m.Procedure {
	case "wamp.session.kill", "wamp.session.kill_by_authid", "wamp.session.kill_by_authrole", "wamp.session.kill_all",
		"wamp.registration.remove_callee", "wamp.subscription.remove_subscriber":
		// Administrative: in an open realm only with metaAdmin (the
		// authorization check before this already applied any rules).
		if rl.pol.roles == nil && rl.pol.authorizer == "" && !rl.pol.metaAdmin && !s.trusted {
			fail(wamp.ErrNotAuthorized, "administrative meta procedures are disabled in this realm (metaAdmin)")
			return true
		}
	}
	switch m.Procedure {
	// Session meta API.
	case "wamp.session.count", "wamp.session.list":
		f, good := roleFilter()
		if !good {
			fail(wamp.ErrInvalidArgument, "filter_authroles must be a list of strings")
			return true
		}
		ids := []any{}
		for _, o := range rl.sessionList() {
			if f == nil || f[o.authrole] {
				ids = append(ids, o.id)
			}
		}
		if m.Procedure == "wamp.session.count" {
			ok(len(ids))
		} else {
			ok(ids)
		}
	case "wamp.session.get":
		id, good := idArg(0)
		o := rl.metaSession(id)
		if !good || o == nil {
			fail(wamp.ErrNoSuchSession, "no such session")
			return true
		}
		ok(o.metaDetails())
	case "wamp.session.kill":
		id, good := idArg(0)
		o := rl.metaSession(id)
		if !good || o == nil || o == s {
			fail(wamp.ErrNoSuchSession, "no such session (a session cannot kill itself)")
			return true
		}
		reason, msg, good := killReason()
		if !good {
			fail(wamp.ErrInvalidURI, "bad reason")
			return true
		}
		o.kill(reason, msg, false)
		ok()
	case "wamp.session.kill_by_authid":
		authid, good := strArg(0)
		if !good {
			fail(wamp.ErrInvalidArgument, "authid required")
			return true
		}
		if killed := killWhere(func(o *session) bool { return o.authid == authid }); killed != nil {
			l := make([]any, len(killed))
			for i, id := range killed {
				l[i] = id
			}
			ok(l)
		}
	case "wamp.session.kill_by_authrole":
		role, good := strArg(0)
		if !good {
			fail(wamp.ErrInvalidArgument, "authrole required")
			return true
		}
		if killed := killWhere(func(o *session) bool { return o.authrole == role }); killed != nil {
			ok(len(killed))
		}
	case "wamp.session.kill_all":
		if killed := killWhere(func(*session) bool { return true }); killed != nil {
			ok(len(killed))
		}
	case "wamp.session.add_testament":
		topic, good := strArg(0)
		if !good || !s.validURI(wamp.URI(topic), wamp.MatchExact) {
			fail(wamp.ErrInvalidURI, "testament topic must be a valid URI")
			return true
		}
		v1, _ := arg(1)
		v2, _ := arg(2)
		args, _ := v1.([]any)
		kw, _ := v2.(wamp.Dict)
		opts, _ := wamp.OptDict(m.ArgumentsKw, "publish_options")
		scope := "destroyed"
		if sc, ok := wamp.OptString(m.ArgumentsKw, "scope"); ok {
			scope = sc
		}
		if scope != "destroyed" && scope != "detached" {
			fail(wamp.ErrInvalidArgument, "scope must be destroyed or detached")
			return true
		}
		s.mu.Lock()
		if s.testaments == nil {
			s.testaments = map[string][]testament{}
		}
		s.testaments[scope] = append(s.testaments[scope], testament{topic: wamp.URI(topic), args: args, kwargs: kw, options: opts})
		s.mu.Unlock()
		ok()
	case "wamp.session.flush_testaments":
		scope := "destroyed"
		if sc, ok := wamp.OptString(m.ArgumentsKw, "scope"); ok {
			scope = sc
		}
		s.mu.Lock()
		n := len(s.testaments[scope])
		delete(s.testaments, scope)
		s.mu.Unlock()
		ok(n)

	// Registration meta API.
	case "wamp.registration.list":
		d := rl.dealer
		d.mu.RLock()
		ok(wamp.Dict{"exact": regIDs(d.exact), "prefix": regIDs(d.prefix), "wildcard": regIDs(d.wildcard)})
		d.mu.RUnlock()
	case "wamp.registration.lookup", "wamp.registration.match":
		uri, good := strArg(0)
		if !good {
			fail(wamp.ErrInvalidArgument, "procedure URI required")
			return true
		}
		d := rl.dealer
		d.mu.RLock()
		var reg *registration
		if m.Procedure == "wamp.registration.match" {
			reg = d.lookup(wamp.URI(uri))
		} else {
			match, _ := wamp.OptString(m.ArgumentsKw, "match")
			if v, _ := arg(1); v != nil {
				if o, isDict := v.(wamp.Dict); isDict {
					match, _ = wamp.OptString(o, "match")
				}
			}
			if match == "" {
				match = wamp.MatchExact
			}
			reg = d.table(match)[wamp.URI(uri)]
		}
		d.mu.RUnlock()
		if reg == nil {
			ok(nil)
		} else {
			ok(reg.id)
		}
	case "wamp.registration.get", "wamp.registration.list_callees", "wamp.registration.count_callees":
		id, _ := idArg(0)
		d := rl.dealer
		d.mu.RLock()
		reg := d.byID[id]
		var res any
		if reg != nil {
			switch m.Procedure {
			case "wamp.registration.get":
				res = reg.details()
			case "wamp.registration.list_callees":
				l := make([]any, len(reg.callees))
				for i, c := range reg.callees {
					l[i] = c.s.id
				}
				res = l
			default:
				res = len(reg.callees)
			}
		}
		d.mu.RUnlock()
		if reg == nil {
			fail(wamp.ErrNoSuchRegistration, "")
			return true
		}
		ok(res)

	// Subscription meta API.
	case "wamp.subscription.list":
		b := rl.broker
		b.mu.RLock()
		ok(wamp.Dict{"exact": subIDs(b.exact), "prefix": subIDs(b.prefix), "wildcard": subIDs(b.wildcard)})
		b.mu.RUnlock()
	case "wamp.subscription.lookup":
		uri, good := strArg(0)
		if !good {
			fail(wamp.ErrInvalidArgument, "topic URI required")
			return true
		}
		match := wamp.MatchExact
		if v, _ := arg(1); v != nil {
			if o, isDict := v.(wamp.Dict); isDict {
				if mm, ok := wamp.OptString(o, "match"); ok {
					match = mm
				}
			}
		}
		if mm, ok := wamp.OptString(m.ArgumentsKw, "match"); ok {
			match = mm
		}
		b := rl.broker
		b.mu.RLock()
		sub := b.table(match)[wamp.URI(uri)]
		b.mu.RUnlock()
		if sub == nil {
			ok(nil)
		} else {
			ok(sub.id)
		}
	case "wamp.subscription.match":
		uri, good := strArg(0)
		if !good {
			fail(wamp.ErrInvalidArgument, "topic URI required")
			return true
		}
		b := rl.broker
		b.mu.RLock()
		ids := []any{}
		for _, t := range []map[wamp.URI]*subscription{b.exact, b.prefix, b.wildcard} {
			for _, sub := range t {
				if sub.matches(wamp.URI(uri)) {
					ids = append(ids, sub.id)
				}
			}
		}
		b.mu.RUnlock()
		if len(ids) == 0 {
			ok(nil)
		} else {
			ok(ids)
		}
	case "wamp.subscription.get", "wamp.subscription.list_subscribers", "wamp.subscription.count_subscribers":
		id, _ := idArg(0)
		b := rl.broker
		b.mu.RLock()
		sub := b.byID[id]
		var res any
		if sub != nil {
			switch m.Procedure {
			case "wamp.subscription.get":
				res = sub.details()
			case "wamp.subscription.list_subscribers":
				l := make([]any, len(sub.subscribers))
				for i, o := range sub.subscribers {
					l[i] = o.id
				}
				res = l
			default:
				res = len(sub.subscribers)
			}
		}
		b.mu.RUnlock()
		if sub == nil {
			fail(wamp.ErrNoSuchSubscription, "")
			return true
		}
		ok(res)
	case "wamp.registration.remove_callee", "wamp.subscription.remove_subscriber":
		id, _ := idArg(0)
		target, good := idArg(1)
		o := rl.metaSession(target)
		if !good || o == nil {
			fail(wamp.ErrNoSuchSession, "no such session")
			return true
		}
		reason := ""
		if r, ok := wamp.OptString(m.ArgumentsKw, "reason"); ok {
			reason = r
		} else if v, ok := arg(2); ok {
			reason, _ = v.(string)
		}
		var found bool
		if m.Procedure == "wamp.registration.remove_callee" {
			found = rl.dealer.revoke(id, o, reason)
		} else {
			found = rl.broker.revoke(id, o, reason)
		}
		if !found {
			if m.Procedure == "wamp.registration.remove_callee" {
				fail(wamp.ErrNoSuchRegistration, "the session has no such registration")
			} else {
				fail(wamp.ErrNoSuchSubscription, "the session has no such subscription")
			}
			return true
		}
		ok()
	case "wamp.subscription.get_events":
		id, _ := idArg(0)
		limit := int64(0)
		if v, ok := arg(1); ok {
			if n, ok := wamp.Int(v); ok && n > 0 {
				limit = n
			}
		}
		if n, ok := wamp.OptInt(m.ArgumentsKw, "limit"); ok && n > 0 {
			limit = n
		}
		b := rl.broker
		b.mu.RLock()
		sub := b.byID[id]
		b.mu.RUnlock()
		if sub == nil {
			fail(wamp.ErrNoSuchSubscription, "")
			return true
		}
		ok(b.events(sub, int(limit)))
	default:
		return false
	}
	return true
}

func regIDs(t map[wamp.URI]*registration) []any {
	l := make([]any, 0, len(t))
	for _, r := range t {
		l = append(l, r.id)
	}
	return l
}

func subIDs(t map[wamp.URI]*subscription) []any {
	l := make([]any, 0, len(t))
	for _, s := range t {
		l = append(l, s.id)
	}
	return l
}

// publishTestaments publishes the session's testaments (detached, then
// destroyed: a session ending here is both) as the session itself.
func (s *session) publishTestaments() {
	s.mu.Lock()
	ts := s.testaments
	s.testaments = nil
	s.mu.Unlock()
	for _, scope := range []string{"detached", "destroyed"} {
		for _, t := range ts[scope] {
			elig, good := parseEligibility(t.options)
			if !good {
				continue
			}
			var pub *publisherInfo
			if d, _ := wamp.OptBool(t.options, "disclose_me"); d {
				pub = &publisherInfo{id: s.id, authid: s.authid, role: s.authrole}
			}
			s.realm.broker.dispatch(t.topic, wamp.GlobalID(), pub, s, &elig, t.args, t.kwargs, copyPPT(nil, t.options))
		}
	}
}
