// Package router is Skyhub's WAMP v2 router: realms, each with a Broker
// (publish/subscribe) and a Dealer (routed RPC), authentication
// (anonymous, ticket, WAMP-CRA, cryptosign, dynamic authenticators),
// authorization (static per-role URI rules, dynamic authorizers), the
// session/registration/subscription meta APIs and testaments.
//
// The router never sees sockets: transports hand it wamp.Peers through
// Accept. Each session's messages are handled on the goroutine that called
// Accept, against routing tables guarded by read/write locks, and messages
// go straight onto the receiving peers' non-blocking queues, so routing
// scales with cores instead of funnelling a realm through one goroutine.
// The lock order is written in docs/wamp.md.
package router

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/errs"
	"skyhub/internal/wamp"
)

// RealmConfig names a realm and carries its RealmSettings as JSON.
type RealmConfig struct {
	Name     string
	Settings json.RawMessage
}

// Config configures a Router. The zero value is usable: no realms (add
// AutoRealms to create them on demand), a discarding logger.
type Config struct {
	Realms []RealmConfig
	// AutoRealms creates an open realm (default settings) on the first
	// HELLO that names an unknown realm.
	AutoRealms bool
	Logger     *slog.Logger
	// Registerer receives the router's metrics; nil means none.
	Registerer prometheus.Registerer
	// HelloTimeout bounds the wait for HELLO and AUTHENTICATE (default 10s).
	HelloTimeout time.Duration
	// CallTimeout bounds internal calls to authenticator and authorizer
	// procedures (default 5s).
	CallTimeout time.Duration
	// Agent is announced in WELCOME (default "skyhub").
	Agent string
}

// Router routes WAMP sessions. It implements wamp.Acceptor.
type Router struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu      sync.RWMutex
	realms  map[wamp.URI]*realm
	closing bool
	done    chan struct{}
	wg      sync.WaitGroup // Accept calls in progress
	regIDs  wamp.IDGen     // router-scope ids: registrations and subscriptions
	live    map[*session]struct{}
	liveMu  sync.Mutex
	closeMu sync.Once
}

// New builds a router with the configured realms.
func New(cfg Config) (*Router, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = 10 * time.Second
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.Agent == "" {
		cfg.Agent = "skyhub"
	}
	r := &Router{
		cfg:    cfg,
		log:    cfg.Logger,
		realms: map[wamp.URI]*realm{},
		done:   make(chan struct{}),
		live:   map[*session]struct{}{},
	}
	r.metrics = newMetrics(cfg.Registerer)
	for _, rc := range cfg.Realms {
		if !wamp.ValidURI(wamp.URI(rc.Name), false, wamp.MatchExact) {
			return nil, errs.E("wamp/router.New", errs.Invalid, "realm name "+rc.Name+" is not a valid URI")
		}
		if _, dup := r.realms[wamp.URI(rc.Name)]; dup {
			return nil, errs.E("wamp/router.New", errs.Invalid, "realm "+rc.Name+" configured twice")
		}
		pol, err := parseSettings(rc.Name, rc.Settings)
		if err != nil {
			return nil, err
		}
		r.realms[wamp.URI(rc.Name)] = newRealm(r, wamp.URI(rc.Name), pol)
	}
	return r, nil
}

// AddRealm adds (or replaces the settings of a not yet used) realm.
func (r *Router) AddRealm(name string, settings json.RawMessage) error {
	if !wamp.ValidURI(wamp.URI(name), false, wamp.MatchExact) {
		return errs.E("wamp/router.AddRealm", errs.Invalid, "realm name is not a valid URI")
	}
	pol, err := parseSettings(name, settings)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.realms[wamp.URI(name)]; ok {
		return errs.E("wamp/router.AddRealm", errs.Exists, "realm exists")
	}
	r.realms[wamp.URI(name)] = newRealm(r, wamp.URI(name), pol)
	return nil
}

func (r *Router) realm(name wamp.URI) *realm {
	r.mu.RLock()
	rl := r.realms[name]
	r.mu.RUnlock()
	if rl != nil || !r.cfg.AutoRealms {
		return rl
	}
	if !wamp.ValidURI(name, false, wamp.MatchExact) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rl = r.realms[name]; rl == nil {
		pol, _ := parseSettings(string(name), nil)
		rl = newRealm(r, name, pol)
		r.realms[name] = rl
	}
	return rl
}

// Accept runs the sessions of p (one after another, as a transport may
// carry several) until the peer goes away or is closed. It implements
// wamp.Acceptor.
func (r *Router) Accept(p wamp.Peer) {
	r.mu.RLock()
	if r.closing {
		r.mu.RUnlock()
		_ = p.Send(&wamp.Abort{Details: wamp.Dict{"message": "router is shutting down"}, Reason: wamp.CloseSystemShutdown})
		p.Close()
		return
	}
	r.wg.Add(1)
	r.mu.RUnlock()
	defer r.wg.Done()
	defer p.Close()
	for {
		s := r.establish(p)
		if s == nil {
			return
		}
		if !s.run() {
			return
		}
	}
}

// Close ends every session with GOODBYE wamp.close.system_shutdown and
// waits (bounded by ctx) for their handlers to return.
func (r *Router) Close(ctx context.Context) error {
	r.closeMu.Do(func() {
		r.mu.Lock()
		r.closing = true
		close(r.done)
		r.mu.Unlock()
		r.liveMu.Lock()
		for s := range r.live {
			s.kill(wamp.CloseSystemShutdown, "router is shutting down", true)
		}
		r.liveMu.Unlock()
	})
	ch := make(chan struct{})
	go func() { r.wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return errs.E("wamp/router.Close", errs.Unavailable, "sessions still open", ctx.Err())
	}
}

// SessionCount returns the number of established sessions.
func (r *Router) SessionCount() int {
	r.liveMu.Lock()
	defer r.liveMu.Unlock()
	return len(r.live)
}

func (r *Router) track(s *session, on bool) {
	r.liveMu.Lock()
	if on {
		r.live[s] = struct{}{}
	} else {
		delete(r.live, s)
	}
	r.liveMu.Unlock()
	if on {
		r.metrics.sessions.Inc()
	} else {
		r.metrics.sessions.Dec()
	}
}

// Features announced in WELCOME: exactly what this router implements.
var (
	brokerFeatures = wamp.Dict{
		"pattern_based_subscription":    true,
		"publisher_exclusion":           true,
		"publisher_identification":      true,
		"subscriber_blackwhite_listing": true,
		"session_meta_api":              true,
		"subscription_meta_api":         true,
		"event_retention":               true,
		"payload_passthru_mode":         true,
		"event_history":                 true,
		"subscription_revocation":       true,
	}
	dealerFeatures = wamp.Dict{
		"call_canceling":               true,
		"call_timeout":                 true,
		"caller_identification":        true,
		"pattern_based_registration":   true,
		"progressive_call_results":     true,
		"progressive_call_invocations": true,
		"registration_meta_api":        true,
		"session_meta_api":             true,
		"shared_registration":          true,
		"testament_meta_api":           true,
		"payload_passthru_mode":        true,
		"registration_revocation":      true,
	}
)

func welcomeRoles() wamp.Dict {
	b := make(wamp.Dict, len(brokerFeatures))
	for k, v := range brokerFeatures {
		b[k] = v
	}
	d := make(wamp.Dict, len(dealerFeatures))
	for k, v := range dealerFeatures {
		d[k] = v
	}
	return wamp.Dict{"broker": wamp.Dict{"features": b}, "dealer": wamp.Dict{"features": d}}
}

type metrics struct {
	sessions   prometheus.Gauge
	msgsIn     *prometheus.CounterVec
	inByType   map[wamp.MessageType]prometheus.Counter
	violations prometheus.Counter
	authFail   prometheus.Counter
	sendFail   prometheus.Counter
	storeFull  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessions:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "skyhub_wamp_sessions", Help: "Established WAMP sessions."}),
		msgsIn:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skyhub_wamp_messages_in_total", Help: "WAMP messages received, by type."}, []string{"type"}),
		violations: prometheus.NewCounter(prometheus.CounterOpts{Name: "skyhub_wamp_protocol_violations_total", Help: "Sessions aborted for a protocol violation."}),
		authFail:   prometheus.NewCounter(prometheus.CounterOpts{Name: "skyhub_wamp_auth_failures_total", Help: "Failed WAMP authentications."}),
		sendFail:   prometheus.NewCounter(prometheus.CounterOpts{Name: "skyhub_wamp_send_failures_total", Help: "Messages a peer's queue refused (the transport disconnected it)."}),
		storeFull:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skyhub_wamp_store_full_total", Help: "Publications not retained or not kept in history because the realm's topic store was full."}, []string{"store"}),
	}
	m.inByType = map[wamp.MessageType]prometheus.Counter{}
	for t := wamp.MessageType(1); t <= wamp.YIELD; t++ {
		if name := t.String(); name[0] != 'M' {
			m.inByType[t] = m.msgsIn.WithLabelValues(name)
		}
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.sessions, m.msgsIn, m.violations, m.authFail, m.sendFail, m.storeFull} {
			_ = reg.Register(c)
		}
	}
	return m
}

func (m *metrics) in(t wamp.MessageType) {
	if c := m.inByType[t]; c != nil {
		c.Inc()
	}
}
