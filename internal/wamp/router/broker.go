package router

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"skyhub/internal/wamp"
)

// broker routes publications to subscriptions. Its tables are read under
// mu.RLock by every publishing session in parallel; SUBSCRIBE/UNSUBSCRIBE
// take mu.Lock. Subscriber slices are copy-on-write.
type broker struct {
	rl *realm

	mu       sync.RWMutex
	exact    map[wamp.URI]*subscription
	prefix   map[wamp.URI]*subscription
	wildcard map[wamp.URI]*subscription
	wild     wildIndex[*subscription] // the wildcard table, for matching
	byID     map[wamp.ID]*subscription

	rmu      sync.Mutex
	retained map[wamp.URI]*retainedEvent

	hmu     sync.Mutex
	history map[wamp.URI]*eventRing
	hseq    uint64 // orders stored events across topics; under hmu
}

// eventRing keeps a topic's last events (event history).
type eventRing struct {
	limit  int
	events []histEvent // oldest first
}

type histEvent struct {
	seq uint64
	d   wamp.Dict
}

type subscription struct {
	id          wamp.ID
	uri         wamp.URI
	match       string
	created     time.Time
	comps       int        // components, for wildcard matching
	subscribers []*session // in subscription order; copy-on-write
}

// maxStoredTopics bounds the topics a realm keeps retained events and
// event history for; past it new topics are not stored (logged, counted).
const maxStoredTopics = 100000

type retainedEvent struct {
	pubSession wamp.ID
	pubID      wamp.ID
	authid     string
	role       string
	options    wamp.Dict
	args       wamp.List
	kwargs     wamp.Dict
	topic      wamp.URI
	filter     eligibility
}

func newBroker(rl *realm) *broker {
	return &broker{
		rl:       rl,
		exact:    map[wamp.URI]*subscription{},
		prefix:   map[wamp.URI]*subscription{},
		wildcard: map[wamp.URI]*subscription{},
		byID:     map[wamp.ID]*subscription{},
		retained: map[wamp.URI]*retainedEvent{},
		history:  map[wamp.URI]*eventRing{},
	}
}

func (b *broker) table(match string) map[wamp.URI]*subscription {
	switch match {
	case wamp.MatchPrefix:
		return b.prefix
	case wamp.MatchWildcard:
		return b.wildcard
	}
	return b.exact
}

func matchOption(opts wamp.Dict) (string, bool) {
	m, ok := opts["match"]
	if !ok {
		return wamp.MatchExact, true
	}
	switch m {
	case wamp.MatchExact, wamp.MatchPrefix, wamp.MatchWildcard:
		return m.(string), true
	}
	return "", false
}

func (b *broker) subscribe(s *session, m *wamp.Subscribe) {
	match, ok := matchOption(m.Options)
	if !ok {
		s.errorReply(wamp.SUBSCRIBE, m.Request, wamp.ErrInvalidArgument, "unknown match policy")
		return
	}
	if !s.validURI(m.Topic, match) {
		s.errorReply(wamp.SUBSCRIBE, m.Request, wamp.ErrInvalidURI, "invalid topic URI "+string(m.Topic))
		return
	}
	if ok, reason := s.authorize(m.Topic, "subscribe"); !ok {
		s.errorReply(wamp.SUBSCRIBE, m.Request, reason, "not authorized to subscribe to "+string(m.Topic))
		return
	}
	b.mu.Lock()
	t := b.table(match)
	sub := t[m.Topic]
	created, added := false, false
	if sub == nil {
		sub = &subscription{id: b.rl.r.regIDs.Next(), uri: m.Topic, match: match, created: time.Now().UTC(),
			comps: strings.Count(string(m.Topic), ".") + 1}
		t[m.Topic] = sub
		if match == wamp.MatchWildcard {
			b.wild.add(m.Topic, sub)
		}
		b.byID[sub.id] = sub
		created = true
	}
	if !slices.Contains(sub.subscribers, s) {
		next := make([]*session, len(sub.subscribers), len(sub.subscribers)+1)
		copy(next, sub.subscribers)
		sub.subscribers = append(next, s)
		s.mu.Lock()
		s.subs[sub.id] = sub
		s.mu.Unlock()
		added = true
	}
	// SUBSCRIBED goes out under the lock, so no EVENT of this
	// subscription can overtake it.
	s.send(&wamp.Subscribed{Request: m.Request, Subscription: sub.id})
	b.mu.Unlock()
	if created {
		b.publishMeta("wamp.subscription.on_create", wamp.List{s.id, sub.details()}, nil)
	}
	if added {
		b.publishMeta("wamp.subscription.on_subscribe", wamp.List{s.id, sub.id}, nil)
	}
	if get, _ := wamp.OptBool(m.Options, "get_retained"); get {
		b.deliverRetained(s, sub)
	}
}

func (b *broker) unsubscribe(s *session, m *wamp.Unsubscribe) {
	s.mu.Lock()
	sub := s.subs[m.Subscription]
	s.mu.Unlock()
	if sub == nil {
		s.errorReply(wamp.UNSUBSCRIBE, m.Request, wamp.ErrNoSuchSubscription, "")
		return
	}
	deleted := b.remove(s, sub)
	s.send(&wamp.Unsubscribed{Request: m.Request})
	b.publishMeta("wamp.subscription.on_unsubscribe", wamp.List{s.id, sub.id}, nil)
	if deleted {
		b.publishMeta("wamp.subscription.on_delete", wamp.List{s.id, sub.id}, nil)
	}
}

// remove drops s from sub, deleting sub when it is left empty.
func (b *broker) remove(s *session, sub *subscription) (deleted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.removeLocked(s, sub)
}

func (b *broker) removeLocked(s *session, sub *subscription) (deleted bool) {
	s.mu.Lock()
	delete(s.subs, sub.id)
	s.mu.Unlock()
	i := slices.Index(sub.subscribers, s)
	if i < 0 {
		return false
	}
	next := make([]*session, 0, len(sub.subscribers)-1)
	next = append(next, sub.subscribers[:i]...)
	sub.subscribers = append(next, sub.subscribers[i+1:]...)
	if len(sub.subscribers) == 0 {
		delete(b.table(sub.match), sub.uri)
		if sub.match == wamp.MatchWildcard {
			b.wild.remove(sub.uri)
		}
		delete(b.byID, sub.id)
		return true
	}
	return false
}

func (b *broker) sessionGone(s *session) {
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		deleted := b.remove(s, sub)
		b.publishMeta("wamp.subscription.on_unsubscribe", wamp.List{s.id, sub.id}, nil)
		if deleted {
			b.publishMeta("wamp.subscription.on_delete", wamp.List{s.id, sub.id}, nil)
		}
	}
}

func (sub *subscription) details() wamp.Dict {
	return wamp.Dict{"id": sub.id, "created": sub.created.Format(time.RFC3339Nano), "uri": string(sub.uri), "match": sub.match}
}

// eligibility is a publication's black/whitelist.
type eligibility struct {
	any                                   bool
	eligible, exclude                     map[wamp.ID]bool
	eligibleAuthid, excludeAuthid         map[string]bool
	eligibleAuthrole, excludeAuthrole     map[string]bool
	hasEligible, hasEligAuthid, hasEligAR bool
}

func parseEligibility(o wamp.Dict) (eligibility, bool) {
	var e eligibility
	ids := func(key string) (map[wamp.ID]bool, bool, bool) {
		l, ok := o[key]
		if !ok {
			return nil, false, true
		}
		list, ok := l.([]any)
		if !ok {
			return nil, false, false
		}
		m := make(map[wamp.ID]bool, len(list))
		for _, v := range list {
			n, ok := wamp.Int(v)
			if !ok {
				return nil, false, false
			}
			m[wamp.ID(n)] = true
		}
		return m, true, true
	}
	strs := func(key string) (map[string]bool, bool, bool) {
		l, ok := o[key]
		if !ok {
			return nil, false, true
		}
		list, ok := l.([]any)
		if !ok {
			return nil, false, false
		}
		m := make(map[string]bool, len(list))
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return nil, false, false
			}
			m[s] = true
		}
		return m, true, true
	}
	var ok1, ok2, ok3, ok4, ok5, ok6, has bool
	e.eligible, e.hasEligible, ok1 = ids("eligible")
	e.exclude, has, ok2 = ids("exclude")
	e.any = e.any || has
	e.eligibleAuthid, e.hasEligAuthid, ok3 = strs("eligible_authid")
	e.excludeAuthid, has, ok4 = strs("exclude_authid")
	e.any = e.any || has
	e.eligibleAuthrole, e.hasEligAR, ok5 = strs("eligible_authrole")
	e.excludeAuthrole, has, ok6 = strs("exclude_authrole")
	e.any = e.any || has || e.hasEligible || e.hasEligAuthid || e.hasEligAR
	return e, ok1 && ok2 && ok3 && ok4 && ok5 && ok6
}

func (e *eligibility) allows(s *session) bool {
	if !e.any {
		return true
	}
	if e.hasEligible && !e.eligible[s.id] || e.hasEligAuthid && !e.eligibleAuthid[s.authid] ||
		e.hasEligAR && !e.eligibleAuthrole[s.authrole] {
		return false
	}
	return !e.exclude[s.id] && !e.excludeAuthid[s.authid] && !e.excludeAuthrole[s.authrole]
}

func (b *broker) publish(s *session, m *wamp.Publish) {
	ack, _ := wamp.OptBool(m.Options, "acknowledge")
	fail := func(uri wamp.URI, msg string) {
		if ack {
			s.errorReply(wamp.PUBLISH, m.Request, uri, msg)
		}
	}
	if !s.validURI(m.Topic, wamp.MatchExact) || isReserved(m.Topic) {
		fail(wamp.ErrInvalidURI, "invalid topic URI "+string(m.Topic))
		return
	}
	if ok, reason := s.authorize(m.Topic, "publish"); !ok {
		fail(reason, "not authorized to publish to "+string(m.Topic))
		return
	}
	disclose, _ := wamp.OptBool(m.Options, "disclose_me")
	if disclose && b.rl.pol.disallowDisclose {
		fail(wamp.ErrDiscloseMeDisallowed, "")
		return
	}
	elig, ok := parseEligibility(m.Options)
	if !ok {
		fail(wamp.ErrInvalidArgument, "bad black/whitelist option")
		return
	}
	excludeMe := true
	if v, ok := wamp.OptBool(m.Options, "exclude_me"); ok {
		excludeMe = v
	}
	pubID := wamp.GlobalID()
	var pub *publisherInfo
	if disclose {
		pub = &publisherInfo{id: s.id, authid: s.authid, role: s.authrole}
	}
	var self *session
	if excludeMe {
		self = s
	}
	b.dispatch(m.Topic, pubID, pub, self, &elig, m.Arguments, m.ArgumentsKw, copyPPT(nil, m.Options))
	if len(b.rl.pol.history) > 0 {
		b.record(m.Topic, pubID, pub, m.Arguments, m.ArgumentsKw)
	}
	if retain, _ := wamp.OptBool(m.Options, "retain"); retain {
		b.rmu.Lock()
		if _, ok := b.retained[m.Topic]; ok || len(b.retained) < maxStoredTopics {
			b.retained[m.Topic] = &retainedEvent{pubID: pubID, authid: s.authid, role: s.authrole, pubSession: s.id,
				options: m.Options, args: m.Arguments, kwargs: m.ArgumentsKw, topic: m.Topic, filter: elig}
		} else {
			b.storeFull("retained")
		}
		b.rmu.Unlock()
	}
	if ack {
		s.send(&wamp.Published{Request: m.Request, Publication: pubID})
	}
}

type publisherInfo struct {
	id     wamp.ID
	authid string
	role   string
}

// dispatch delivers one publication to every matching subscription, one
// EVENT value per subscription shared by all its subscribers (so a
// transport may encode it once), in subscription order.
func (b *broker) dispatch(topic wamp.URI, pubID wamp.ID, pub *publisherInfo, skip *session, elig *eligibility, args wamp.List, kw wamp.Dict, ppt wamp.Dict) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	// Crossbar's delivery order (its golden test logs): the exact
	// subscription, then prefix subscriptions from the shortest prefix to
	// the longest, then wildcard subscriptions (in creation order).
	if sub := b.exact[topic]; sub != nil {
		b.deliver(sub, topic, pubID, pub, skip, elig, args, kw, ppt)
	}
	if len(b.prefix) > 0 {
		if len(b.prefix) <= len(topic) {
			var buf [8]*subscription
			subs := buf[:0]
			for p, sub := range b.prefix {
				if strings.HasPrefix(string(topic), string(p)) {
					subs = append(subs, sub)
				}
			}
			slices.SortFunc(subs, func(x, y *subscription) int { return cmp.Compare(len(x.uri), len(y.uri)) })
			for _, sub := range subs {
				b.deliver(sub, topic, pubID, pub, skip, elig, args, kw, ppt)
			}
		} else {
			for i := 0; i <= len(topic); i++ {
				if sub := b.prefix[topic[:i]]; sub != nil {
					b.deliver(sub, topic, pubID, pub, skip, elig, args, kw, ppt)
				}
			}
		}
	}
	if len(b.wildcard) > 0 {
		var buf [8]*subscription
		subs := buf[:0]
		b.wild.match(topic, func(sub *subscription) { subs = append(subs, sub) })
		slices.SortFunc(subs, func(x, y *subscription) int { return cmp.Compare(x.id, y.id) })
		for _, sub := range subs {
			b.deliver(sub, topic, pubID, pub, skip, elig, args, kw, ppt)
		}
	}
}

func (b *broker) deliver(sub *subscription, topic wamp.URI, pubID wamp.ID, pub *publisherInfo, skip *session, elig *eligibility, args wamp.List, kw wamp.Dict, ppt wamp.Dict) {
	var ev *wamp.Event
	for _, s := range sub.subscribers {
		if s == skip || !elig.allows(s) {
			continue
		}
		if ev == nil {
			d := wamp.Dict{}
			if sub.match != wamp.MatchExact {
				d["topic"] = string(topic)
			}
			if pub != nil {
				d["publisher"], d["publisher_authid"], d["publisher_authrole"] = pub.id, pub.authid, pub.role
			}
			for k, v := range ppt {
				d[k] = v
			}
			ev = &wamp.Event{Subscription: sub.id, Publication: pubID, Details: d, Arguments: args, ArgumentsKw: kw}
		}
		s.send(ev)
	}
}

// deliverRetained sends s the retained events matching sub.
func (b *broker) deliverRetained(s *session, sub *subscription) {
	b.rmu.Lock()
	var evs []*retainedEvent
	for topic, r := range b.retained {
		if sub.matches(topic) {
			evs = append(evs, r)
		}
	}
	b.rmu.Unlock()
	for _, r := range evs {
		if !r.filter.allows(s) {
			continue
		}
		d := copyPPT(wamp.Dict{"retained": true}, r.options)
		if sub.match != wamp.MatchExact {
			d["topic"] = string(r.topic)
		}
		if disclose, _ := wamp.OptBool(r.options, "disclose_me"); disclose {
			d["publisher"], d["publisher_authid"], d["publisher_authrole"] = r.pubSession, r.authid, r.role
		}
		s.send(&wamp.Event{Subscription: sub.id, Publication: r.pubID, Details: d, Arguments: r.args, ArgumentsKw: r.kwargs})
	}
}

func (sub *subscription) matches(topic wamp.URI) bool {
	switch sub.match {
	case wamp.MatchPrefix:
		return strings.HasPrefix(string(topic), string(sub.uri))
	case wamp.MatchWildcard:
		return wamp.WildcardMatch(sub.uri, topic)
	}
	return topic == sub.uri
}

// publishMeta publishes a router-originated event (meta events,
// testaments have their own path).
func (b *broker) publishMeta(topic wamp.URI, args wamp.List, kw wamp.Dict) {
	b.dispatch(topic, wamp.GlobalID(), nil, nil, &eligibility{}, args, kw, nil)
}

// record keeps a publication in its topic's history when the realm's
// eventHistory selects the topic.
func (b *broker) record(topic wamp.URI, pubID wamp.ID, pub *publisherInfo, args wamp.List, kw wamp.Dict) {
	limit := 0
	for _, h := range b.rl.pol.history {
		sub := subscription{uri: h.URI, match: h.Match}
		if sub.matches(topic) {
			limit = max(limit, h.Limit)
		}
	}
	if limit == 0 {
		return
	}
	ev := wamp.Dict{"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "publication": pubID, "topic": string(topic)}
	if args != nil {
		ev["args"] = args
	}
	if kw != nil {
		ev["kwargs"] = kw
	}
	if pub != nil {
		ev["publisher"], ev["publisher_authid"], ev["publisher_authrole"] = pub.id, pub.authid, pub.role
	}
	b.hmu.Lock()
	defer b.hmu.Unlock()
	r := b.history[topic]
	if r == nil {
		if len(b.history) >= maxStoredTopics {
			b.storeFull("history")
			return
		}
		r = &eventRing{limit: limit}
		b.history[topic] = r
	}
	if len(r.events) >= r.limit {
		r.events = append(r.events[:0:0], r.events[len(r.events)-r.limit+1:]...)
	}
	b.hseq++
	r.events = append(r.events, histEvent{seq: b.hseq, d: ev})
}

// events returns up to limit of the latest stored events matching sub,
// oldest first.
func (b *broker) events(sub *subscription, limit int) []any {
	b.hmu.Lock()
	var all []histEvent
	for topic, r := range b.history {
		if sub.matches(topic) {
			all = append(all, r.events...)
		}
	}
	b.hmu.Unlock()
	slices.SortFunc(all, func(x, y histEvent) int { return cmp.Compare(x.seq, y.seq) })
	if limit > 0 && len(all) > limit {
		all = all[len(all)-limit:]
	}
	out := make([]any, len(all))
	for i, e := range all {
		d := make(wamp.Dict, len(e.d)+1)
		for k, v := range e.d {
			d[k] = v
		}
		d["subscription"] = sub.id
		out[i] = d
	}
	return out
}

func (b *broker) storeFull(store string) {
	b.rl.r.metrics.storeFull.WithLabelValues(store).Inc()
	b.rl.r.log.Warn("wamp: topic store full, publication not stored", "realm", string(b.rl.name), "store", store, "topics", maxStoredTopics)
}

// revoke removes subscriber o from subscription id (subscription
// revocation): o gets UNSUBSCRIBED with request 0 and {subscription,
// reason} if it announced subscription_revocation. It reports whether o
// had it.
func (b *broker) revoke(id wamp.ID, o *session, reason string) bool {
	o.mu.Lock()
	sub := o.subs[id]
	o.mu.Unlock()
	if sub == nil {
		return false
	}
	b.mu.Lock()
	o.mu.Lock()
	still := o.subs[id] == sub
	o.mu.Unlock()
	if !still { // the session dropped it meanwhile
		b.mu.Unlock()
		return false
	}
	deleted := b.removeLocked(o, sub)
	if o.subRevoke {
		det := wamp.Dict{"subscription": sub.id}
		if reason != "" {
			det["reason"] = reason
		}
		o.send(&wamp.Unsubscribed{Request: 0, Details: det})
	}
	b.mu.Unlock()
	b.publishMeta("wamp.subscription.on_unsubscribe", wamp.List{o.id, sub.id}, nil)
	if deleted {
		b.publishMeta("wamp.subscription.on_delete", wamp.List{o.id, sub.id}, nil)
	}
	return true
}

// wanted says whether a plain publication (no retain) to topic would reach
// anything: a matching subscription or the realm's event history.
func (b *broker) wanted(topic wamp.URI) bool {
	for _, h := range b.rl.pol.history {
		if (&subscription{uri: h.URI, match: h.Match}).matches(topic) {
			return true
		}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.exact[topic] != nil {
		return true
	}
	for p := range b.prefix {
		if strings.HasPrefix(string(topic), string(p)) {
			return true
		}
	}
	found := false
	if len(b.wildcard) > 0 {
		b.wild.match(topic, func(*subscription) { found = true })
	}
	return found
}
