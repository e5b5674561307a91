package router

import (
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/wamp"
)

// RealmSettings is the JSON document in a realm's Settings (config
// wamp.realms[].settings). Every field is optional; the zero value is an
// open realm: anonymous access, every action allowed, loose URIs, request
// ids checked to be sequential.
type RealmSettings struct {
	// StrictURI enforces the strict URI rule ([0-9a-z_] components).
	StrictURI bool `json:"strictUri"`
	// RequestIDs is "sequential" (default: each new request id is the
	// previous + 1, as the spec says MUST), "increasing" (strictly
	// increasing) or "any" (not checked).
	RequestIDs string `json:"requestIds"`
	// Anonymous allows authmethod anonymous (default true).
	Anonymous *bool `json:"anonymous"`
	// AnonymousRole is the role of anonymous sessions (default "anonymous").
	AnonymousRole string `json:"anonymousRole"`
	// Principals are the static users, by authid.
	Principals map[string]Principal `json:"principals"`
	// Roles holds static permissions per role. When Roles is empty and no
	// Authorizer is set, every action is allowed.
	Roles map[string]Role `json:"roles"`
	// Authenticator is a procedure (in this realm) that authenticates
	// authids that are not static principals, for the methods in
	// AuthenticatorMethods (default ticket, wampcra, cryptosign).
	Authenticator        wamp.URI `json:"authenticator"`
	AuthenticatorMethods []string `json:"authenticatorMethods"`
	// Authorizer is a procedure (in this realm) consulted for roles with no
	// static entry in Roles.
	Authorizer wamp.URI `json:"authorizer"`
	// CacheTTL bounds how long answers of the authenticator (ticket only)
	// and authorizer are cached (default 60s; "0s" disables caching).
	CacheTTL string `json:"cacheTtl"`
	// MetaAdmin lets sessions of an open realm (no roles, no authorizer)
	// call the administrative meta procedures (wamp.session.kill*,
	// wamp.registration.remove_callee, wamp.subscription.remove_subscriber).
	// In realms with roles or an authorizer, those decide instead.
	MetaAdmin bool `json:"metaAdmin"`
	// DisallowDisclose refuses disclose_me for callers and publishers.
	DisallowDisclose bool `json:"disallowDisclose"`
	// EventHistory keeps the last Limit events of topics matching URI
	// (match exact, prefix or wildcard), read with
	// wamp.subscription.get_events.
	EventHistory []HistoryConfig `json:"eventHistory"`
	// MaxCallTimeout caps CALL timeout (and applies it to calls with none);
	// "" means no cap.
	MaxCallTimeout string `json:"maxCallTimeout"`
}

// HistoryConfig selects topics whose events are kept.
type HistoryConfig struct {
	URI   wamp.URI `json:"uri"`
	Match string   `json:"match"`
	Limit int      `json:"limit"`
}

// Principal is a static user.
type Principal struct {
	Role string `json:"role"`
	// Ticket is the ticket secret, stored hashed: "sha256:<hex>" or a bcrypt
	// hash ("$2a$..."/"$2b$..."). "plain:<secret>" is accepted for tests.
	Ticket string `json:"ticket,omitempty"`
	// WAMP-CRA. For salted secrets give Salt, Iterations, KeyLen and either
	// Secret (derived at load; the secret itself is not kept) or DerivedKey
	// (the base64 PBKDF2 key, so the secret need never be in the file).
	// Unsalted WAMP-CRA needs the secret itself (the protocol's HMAC key).
	Secret     string `json:"secret,omitempty"`
	DerivedKey string `json:"derivedKey,omitempty"`
	Salt       string `json:"salt,omitempty"`
	Iterations int    `json:"iterations,omitempty"`
	KeyLen     int    `json:"keylen,omitempty"`
	// AuthorizedKeys are hex Ed25519 public keys for cryptosign.
	AuthorizedKeys []string `json:"authorizedKeys,omitempty"`
	// Extra is returned in WELCOME.authextra.
	Extra map[string]any `json:"extra,omitempty"`
}

// Role holds a role's permissions; the first matching rule decides
// (rules are tried exact, then longest prefix, then wildcard).
type Role struct {
	Permissions []Permission `json:"permissions"`
}

// Permission allows actions on URIs matching URI under Match (exact,
// prefix or wildcard; default exact).
type Permission struct {
	URI       wamp.URI `json:"uri"`
	Match     string   `json:"match"`
	Call      bool     `json:"call"`
	Register  bool     `json:"register"`
	Publish   bool     `json:"publish"`
	Subscribe bool     `json:"subscribe"`
}

// realmPolicy is RealmSettings checked and prepared for use.
type realmPolicy struct {
	strictURI        bool
	reqIDs           string
	anonymous        bool
	anonRole         string
	principals       map[string]*principal
	byPubkey         map[string]string // hex pubkey -> authid
	roles            map[string]*roleRules
	authenticator    wamp.URI
	authMethods      map[string]bool
	authorizer       wamp.URI
	cacheTTL         time.Duration
	disallowDisclose bool
	maxCallTimeout   time.Duration
	history          []HistoryConfig
	metaAdmin        bool
}

type principal struct {
	authid, role string
	ticket       string // "sha256:<hex>", bcrypt hash, or "plain:<s>"
	craKey       []byte // HMAC key: secret or derived key (base64 text bytes)
	salt         string
	iterations   int
	keylen       int
	keys         []ed25519.PublicKey
	extra        map[string]any
}

type roleRules struct {
	exact    map[wamp.URI]Permission
	prefix   []Permission // longest first
	wildcard []Permission
}

func parseSettings(name string, raw json.RawMessage) (*realmPolicy, error) {
	op := "wamp/router.realm " + name
	var s RealmSettings
	if len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, errs.E(op, errs.Invalid, "bad realm settings: "+err.Error(), err)
		}
	}
	p := &realmPolicy{
		strictURI:        s.StrictURI,
		reqIDs:           s.RequestIDs,
		anonymous:        s.Anonymous == nil || *s.Anonymous,
		anonRole:         s.AnonymousRole,
		principals:       map[string]*principal{},
		byPubkey:         map[string]string{},
		authenticator:    s.Authenticator,
		authorizer:       s.Authorizer,
		disallowDisclose: s.DisallowDisclose,
		metaAdmin:        s.MetaAdmin,
		cacheTTL:         time.Minute,
		authMethods:      map[string]bool{},
	}
	if p.anonRole == "" {
		p.anonRole = "anonymous"
	}
	switch p.reqIDs {
	case "":
		p.reqIDs = "sequential"
	case "sequential", "increasing", "any":
	default:
		return nil, errs.E(op, errs.Invalid, "requestIds must be sequential, increasing or any")
	}
	if s.CacheTTL != "" {
		d, err := time.ParseDuration(s.CacheTTL)
		if err != nil || d < 0 {
			return nil, errs.E(op, errs.Invalid, "cacheTtl: bad duration", err)
		}
		p.cacheTTL = d
	}
	if s.MaxCallTimeout != "" {
		d, err := time.ParseDuration(s.MaxCallTimeout)
		if err != nil || d < 0 {
			return nil, errs.E(op, errs.Invalid, "maxCallTimeout: bad duration", err)
		}
		p.maxCallTimeout = d
	}
	for _, h := range s.EventHistory {
		if h.Match == "" {
			h.Match = wamp.MatchExact
		}
		if h.Match != wamp.MatchExact && h.Match != wamp.MatchPrefix && h.Match != wamp.MatchWildcard {
			return nil, errs.E(op, errs.Invalid, "eventHistory: bad match "+h.Match)
		}
		if h.Limit <= 0 || h.Limit > 100000 {
			return nil, errs.E(op, errs.Invalid, "eventHistory: limit must be 1..100000")
		}
		p.history = append(p.history, h)
	}
	methods := s.AuthenticatorMethods
	if len(methods) == 0 {
		methods = []string{"ticket", "wampcra", "cryptosign"}
	}
	for _, m := range methods {
		switch m {
		case "ticket", "wampcra", "cryptosign":
			p.authMethods[m] = true
		default:
			return nil, errs.E(op, errs.Invalid, "authenticatorMethods: unknown method "+m)
		}
	}
	for id, pr := range s.Principals {
		q, err := preparePrincipal(id, pr)
		if err != nil {
			return nil, errs.E(op, errs.Invalid, fmt.Sprintf("principal %q: %v", id, err), err)
		}
		p.principals[id] = q
		for _, k := range q.keys {
			p.byPubkey[hex.EncodeToString(k)] = id
		}
	}
	if len(s.Roles) > 0 {
		p.roles = map[string]*roleRules{}
		for name, r := range s.Roles {
			rr := &roleRules{exact: map[wamp.URI]Permission{}}
			for _, perm := range r.Permissions {
				switch perm.Match {
				case "", wamp.MatchExact:
					rr.exact[perm.URI] = perm
				case wamp.MatchPrefix:
					rr.prefix = append(rr.prefix, perm)
				case wamp.MatchWildcard:
					rr.wildcard = append(rr.wildcard, perm)
				default:
					return nil, errs.E(op, errs.Invalid, fmt.Sprintf("role %q: bad match %q", name, perm.Match))
				}
			}
			sortPrefixes(rr.prefix)
			p.roles[name] = rr
		}
	}
	return p, nil
}

func sortPrefixes(ps []Permission) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && len(ps[j].URI) > len(ps[j-1].URI); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func preparePrincipal(id string, pr Principal) (*principal, error) {
	if pr.Role == "" {
		return nil, fmt.Errorf("role is required")
	}
	q := &principal{authid: id, role: pr.Role, extra: pr.Extra}
	if t := pr.Ticket; t != "" {
		switch {
		case strings.HasPrefix(t, "sha256:"):
			if b, err := hex.DecodeString(t[7:]); err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("ticket: sha256 must be 64 hex digits")
			}
		case strings.HasPrefix(t, "$2a$"), strings.HasPrefix(t, "$2b$"), strings.HasPrefix(t, "$2y$"), strings.HasPrefix(t, "plain:"):
		default:
			return nil, fmt.Errorf("ticket: want sha256:<hex>, a bcrypt hash or plain:<secret>")
		}
		q.ticket = t
	}
	if pr.Salt != "" {
		if pr.Iterations <= 0 {
			pr.Iterations = 1000
		}
		if pr.KeyLen <= 0 {
			pr.KeyLen = 32
		}
		q.salt, q.iterations, q.keylen = pr.Salt, pr.Iterations, pr.KeyLen
		switch {
		case pr.DerivedKey != "":
			q.craKey = []byte(pr.DerivedKey)
		case pr.Secret != "":
			q.craKey = deriveKey(pr.Secret, pr.Salt, pr.Iterations, pr.KeyLen)
		default:
			return nil, fmt.Errorf("salted wampcra needs secret or derivedKey")
		}
	} else if pr.Secret != "" {
		q.craKey = []byte(pr.Secret)
	} else if pr.DerivedKey != "" {
		return nil, fmt.Errorf("derivedKey needs salt")
	}
	for _, k := range pr.AuthorizedKeys {
		b, err := hex.DecodeString(k)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("authorizedKeys: %q is not a hex Ed25519 public key", k)
		}
		q.keys = append(q.keys, ed25519.PublicKey(b))
	}
	return q, nil
}

// deriveKey is WAMP-CRA's salted key: base64(PBKDF2-HMAC-SHA256(secret,
// salt, iterations, keylen)); the base64 text is the HMAC key.
func deriveKey(secret, salt string, iterations, keylen int) []byte {
	k, err := pbkdf2.Key(sha256.New, secret, []byte(salt), iterations, keylen)
	if err != nil {
		return nil
	}
	return []byte(base64.StdEncoding.EncodeToString(k))
}

// permits decides a static permission: allowed, and whether the role has
// rules at all (false means "ask the authorizer").
func (p *realmPolicy) permits(role string, uri wamp.URI, action string) (allowed, known bool) {
	if p.roles == nil {
		if p.authorizer != "" {
			return false, false
		}
		return true, true
	}
	rr, ok := p.roles[role]
	if !ok {
		return false, p.authorizer == ""
	}
	if perm, ok := rr.exact[uri]; ok {
		return perm.allows(action), true
	}
	for _, perm := range rr.prefix {
		if strings.HasPrefix(string(uri), string(perm.URI)) {
			return perm.allows(action), true
		}
	}
	for _, perm := range rr.wildcard {
		if wamp.WildcardMatch(perm.URI, uri) {
			return perm.allows(action), true
		}
	}
	return false, true
}

func (perm Permission) allows(action string) bool {
	switch action {
	case "call":
		return perm.Call
	case "register":
		return perm.Register
	case "publish":
		return perm.Publish
	case "subscribe":
		return perm.Subscribe
	}
	return false
}
