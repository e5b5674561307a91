package router

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"skyhub/internal/wamp"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

func craSign(key []byte, challenge string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(challenge))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type authStep struct {
	method   string
	response func(ch *wamp.Challenge) string
}

// hello sends HELLO with authmethods and authid, answers one challenge
// with respond (if not nil) and returns the final WELCOME or ABORT.
func hello(t *testing.T, r *Router, realm string, details wamp.Dict, respond func(ch *wamp.Challenge) string) wamp.Message {
	t.Helper()
	c := connect(t, r)
	d := wamp.Dict{"roles": fullRoles()}
	for k, v := range details {
		d[k] = v
	}
	c.send(&wamp.Hello{Realm: wamp.URI(realm), Details: d})
	m := c.recv()
	if ch, ok := m.(*wamp.Challenge); ok {
		if respond == nil {
			t.Fatalf("unexpected challenge %s", dump(ch))
		}
		c.send(&wamp.Authenticate{Signature: respond(ch), Extra: wamp.Dict{}})
		m = c.recv()
	}
	return m
}

func TestAuthentication(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("bc-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	settings := map[string]any{
		"anonymous": false,
		"principals": map[string]any{
			"t-sha":    map[string]any{"role": "user", "ticket": sha("sha-secret")},
			"t-bcrypt": map[string]any{"role": "user", "ticket": string(hash)},
			"cra":      map[string]any{"role": "cra-role", "secret": "cra-secret"},
			"cra-salt": map[string]any{"role": "salty", "secret": "salt-secret", "salt": "salt123", "iterations": 100, "keylen": 32},
			"cs":       map[string]any{"role": "signer", "authorizedKeys": []string{hex.EncodeToString(pub)}, "extra": map[string]any{"x": 1}},
		},
	}
	r := newRouter(t, realmWith(t, "realm1", settings), RealmConfig{Name: "open"})
	ticket := func(s string) func(*wamp.Challenge) string { return func(*wamp.Challenge) string { return s } }
	cra := func(secret string) func(*wamp.Challenge) string {
		return func(ch *wamp.Challenge) string {
			chal, _ := wamp.OptString(ch.Extra, "challenge")
			key := []byte(secret)
			if salt, ok := wamp.OptString(ch.Extra, "salt"); ok {
				it, _ := wamp.OptInt(ch.Extra, "iterations")
				kl, _ := wamp.OptInt(ch.Extra, "keylen")
				key = deriveKey(secret, salt, int(it), int(kl))
			}
			return craSign(key, chal)
		}
	}
	sign := func(k ed25519.PrivateKey, withChallenge bool) func(*wamp.Challenge) string {
		return func(ch *wamp.Challenge) string {
			hx, _ := wamp.OptString(ch.Extra, "challenge")
			msg, _ := hex.DecodeString(hx)
			sig := ed25519.Sign(k, msg)
			if withChallenge {
				sig = append(sig, msg...)
			}
			return hex.EncodeToString(sig)
		}
	}
	csHello := wamp.Dict{"authmethods": []any{"cryptosign"}, "authid": "cs", "authextra": wamp.Dict{"pubkey": hex.EncodeToString(pub)}}
	cases := []struct {
		name    string
		realm   string
		details wamp.Dict
		respond func(*wamp.Challenge) string
		role    string // "" = expect ABORT
		abort   wamp.URI
	}{
		{"anonymous refused", "realm1", nil, nil, "", wamp.ErrNoMatchingAuthMethod},
		{"anonymous open realm", "open", nil, nil, "anonymous", ""},
		{"ticket sha256", "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "t-sha"}, ticket("sha-secret"), "user", ""},
		{"ticket sha256 wrong", "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "t-sha"}, ticket("nope"), "", wamp.ErrAuthenticationFailed},
		{"ticket bcrypt", "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "t-bcrypt"}, ticket("bc-secret"), "user", ""},
		{"ticket bcrypt wrong", "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "t-bcrypt"}, ticket("x"), "", wamp.ErrAuthenticationFailed},
		{"ticket unknown principal", "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "who"}, nil, "", wamp.ErrNoMatchingAuthMethod},
		{"wampcra", "realm1", wamp.Dict{"authmethods": []any{"wampcra"}, "authid": "cra"}, cra("cra-secret"), "cra-role", ""},
		{"wampcra wrong", "realm1", wamp.Dict{"authmethods": []any{"wampcra"}, "authid": "cra"}, cra("bad"), "", wamp.ErrAuthenticationFailed},
		{"wampcra salted", "realm1", wamp.Dict{"authmethods": []any{"wampcra"}, "authid": "cra-salt"}, cra("salt-secret"), "salty", ""},
		{"wampcra salted wrong", "realm1", wamp.Dict{"authmethods": []any{"wampcra"}, "authid": "cra-salt"}, cra("salt-secreT"), "", wamp.ErrAuthenticationFailed},
		{"cryptosign sig+challenge", "realm1", csHello, sign(priv, true), "signer", ""},
		{"cryptosign sig only", "realm1", csHello, sign(priv, false), "signer", ""},
		{"cryptosign wrong key", "realm1", csHello, sign(otherPriv, true), "", wamp.ErrAuthenticationFailed},
		{"cryptosign by pubkey without authid", "realm1", wamp.Dict{"authmethods": []any{"cryptosign"}, "authextra": wamp.Dict{"pubkey": hex.EncodeToString(pub)}}, sign(priv, true), "signer", ""},
		{"method fallback", "realm1", wamp.Dict{"authmethods": []any{"anonymous", "ticket"}, "authid": "t-sha"}, ticket("sha-secret"), "user", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := hello(t, r, tc.realm, tc.details, tc.respond)
			if tc.role == "" {
				a, ok := m.(*wamp.Abort)
				if !ok || a.Reason != tc.abort {
					t.Fatalf("got %s, want ABORT %s", dump(m), tc.abort)
				}
				return
			}
			w, ok := m.(*wamp.Welcome)
			if !ok {
				t.Fatalf("got %s, want WELCOME", dump(m))
			}
			if w.Details["authrole"] != tc.role {
				t.Fatalf("authrole %v, want %s", w.Details["authrole"], tc.role)
			}
		})
	}
}

func TestWampCRAChallengeShape(t *testing.T) {
	r := newRouter(t, realmWith(t, "realm1", map[string]any{"principals": map[string]any{
		"u": map[string]any{"role": "r", "secret": "s"}}}))
	c := connect(t, r)
	c.send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": fullRoles(), "authmethods": []any{"wampcra"}, "authid": "u"}})
	ch := expect[*wamp.Challenge](c)
	s, _ := wamp.OptString(ch.Extra, "challenge")
	var d map[string]any
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"authid", "authrole", "authmethod", "authprovider", "nonce", "timestamp", "session"} {
		if _, ok := d[k]; !ok {
			t.Errorf("challenge lacks %s: %s", k, s)
		}
	}
	c.send(&wamp.Authenticate{Signature: craSign([]byte("s"), s), Extra: wamp.Dict{}})
	w := expect[*wamp.Welcome](c)
	if float64(w.Session) != d["session"].(float64) {
		t.Fatal("challenge session differs from WELCOME session")
	}
}

func TestAuthProtocolErrors(t *testing.T) {
	r := newRouter(t, ticketRealm(t, "realm1", nil))
	c := connect(t, r)
	c.send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": fullRoles(), "authmethods": []any{"ticket"}, "authid": "bob"}})
	expect[*wamp.Challenge](c)
	c.send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "a.b"})
	c.abort(wamp.ErrProtocolViolation)
}

func TestStoredSecretsAreValidated(t *testing.T) {
	for _, bad := range []map[string]any{
		{"principals": map[string]any{"u": map[string]any{"role": "r", "ticket": "cleartext"}}},
		{"principals": map[string]any{"u": map[string]any{"role": "r", "ticket": "sha256:zz"}}},
		{"principals": map[string]any{"u": map[string]any{"ticket": "plain:x"}}},
		{"principals": map[string]any{"u": map[string]any{"role": "r", "authorizedKeys": []string{"abcd"}}}},
		{"roles": map[string]any{"r": map[string]any{"permissions": []any{map[string]any{"uri": "a", "match": "regex"}}}}},
		{"requestIds": "sometimes"},
		{"eventHistory": []any{map[string]any{"uri": "a", "limit": 0}}},
		{"eventHistory": []any{map[string]any{"uri": "a", "match": "regex", "limit": 5}}},
		{"unknownKey": true},
	} {
		b, _ := json.Marshal(bad)
		if _, err := New(Config{Realms: []RealmConfig{{Name: "realm1", Settings: b}}}); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
}

// dynamicAuth registers an authenticator and an authorizer in realm1 from a
// backend session whose role has static permissions.
func TestDynamicAuthenticatorAndAuthorizer(t *testing.T) {
	r := newRouter(t, realmWith(t, "realm1", map[string]any{
		"anonymous":     false,
		"authenticator": "com.auth.authenticate",
		"authorizer":    "com.auth.authorize",
		"principals":    map[string]any{"backend": map[string]any{"role": "backend", "ticket": "plain:be"}},
		"roles": map[string]any{"backend": map[string]any{"permissions": []any{
			map[string]any{"uri": "", "match": "prefix", "call": true, "register": true, "publish": true, "subscribe": true}}}},
	}))
	be := joinTicket(t, r, "realm1", "backend", "be")
	var authnCalls, authzCalls atomic.Int64
	be.register("com.auth.authenticate", nil)
	be.register("com.auth.authorize", nil)
	be.serve(func(inv *wamp.Invocation) wamp.Message {
		ok := func(v any) wamp.Message {
			return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: wamp.List{v}}
		}
		if len(inv.Arguments) == 3 && inv.Arguments[0] == "realm1" { // authenticate(realm, authid, details)
			authnCalls.Add(1)
			authid, _ := inv.Arguments[1].(string)
			d := inv.Arguments[2].(wamp.Dict)
			switch d["authmethod"] {
			case "ticket":
				if authid == "dyn" && d["ticket"] == "dyn-secret" {
					return ok("dynrole")
				}
			case "wampcra":
				if authid == "dcra" {
					return ok(wamp.Dict{"secret": "dcra-secret", "role": "dynrole"})
				}
			}
			return &wamp.Error{Type: wamp.INVOCATION, Request: inv.Request, Details: wamp.Dict{}, Error: wamp.ErrNotAuthorized, Arguments: wamp.List{"denied"}}
		}
		// authorize(session, uri, action)
		authzCalls.Add(1)
		uri, _ := inv.Arguments[1].(string)
		action, _ := inv.Arguments[2].(string)
		return ok(uri == "com.allowed" || action == "subscribe")
	})

	tk := func(s string) func(*wamp.Challenge) string { return func(*wamp.Challenge) string { return s } }
	m := hello(t, r, "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "dyn"}, tk("dyn-secret"))
	if w, ok := m.(*wamp.Welcome); !ok || w.Details["authrole"] != "dynrole" || w.Details["authprovider"] != "dynamic" {
		t.Fatalf("got %s", dump(m))
	}
	// The answer is cached: a second login does not call the authenticator.
	m = hello(t, r, "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "dyn"}, tk("dyn-secret"))
	if _, ok := m.(*wamp.Welcome); !ok || authnCalls.Load() != 1 {
		t.Fatalf("got %s after %d authenticator calls", dump(m), authnCalls.Load())
	}
	m = hello(t, r, "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "dyn"}, tk("wrong"))
	if a, ok := m.(*wamp.Abort); !ok || a.Reason != wamp.ErrNotAuthorized {
		t.Fatalf("got %s", dump(m))
	}
	m = hello(t, r, "realm1", wamp.Dict{"authmethods": []any{"wampcra"}, "authid": "dcra"}, func(ch *wamp.Challenge) string {
		s, _ := wamp.OptString(ch.Extra, "challenge")
		return craSign([]byte("dcra-secret"), s)
	})
	if w, ok := m.(*wamp.Welcome); !ok || w.Details["authrole"] != "dynrole" {
		t.Fatalf("dynamic wampcra: %s", dump(m))
	}

	// Authorization through the authorizer, cached.
	u := joinTicketDyn(t, r)
	u.register("com.allowed", nil)
	u.send(&wamp.Register{Request: u.next(), Options: wamp.Dict{}, Procedure: "com.denied"})
	if e := expect[*wamp.Error](u); e.Error != wamp.ErrNotAuthorized {
		t.Fatal(e.Error)
	}
	before := authzCalls.Load()
	u.send(&wamp.Register{Request: u.next(), Options: wamp.Dict{}, Procedure: "com.denied"})
	expect[*wamp.Error](u)
	if authzCalls.Load() != before {
		t.Fatal("authorizer answer not cached")
	}
	u.subscribe("com.any", nil)
}

func joinTicketDyn(t *testing.T, r *Router) *client {
	return joinTicket(t, r, "realm1", "dyn", "dyn-secret")
}

func TestAuthenticatorMissing(t *testing.T) {
	r := newRouter(t, realmWith(t, "realm1", map[string]any{"anonymous": false, "authenticator": "com.auth.none"}))
	m := hello(t, r, "realm1", wamp.Dict{"authmethods": []any{"ticket"}, "authid": "x"}, func(*wamp.Challenge) string { return "t" })
	if a, ok := m.(*wamp.Abort); !ok || a.Reason != wamp.ErrAuthenticationFailed {
		t.Fatalf("got %s", dump(m))
	}
}

func TestStaticAuthorization(t *testing.T) {
	r := newRouter(t, ticketRealm(t, "realm1", map[string]any{
		"roles": map[string]any{
			"a": map[string]any{"permissions": []any{
				map[string]any{"uri": "com.app.", "match": "prefix", "call": true, "register": true, "publish": true, "subscribe": true},
				map[string]any{"uri": "com.app.admin.", "match": "prefix", "call": false},
				map[string]any{"uri": "com..pub", "match": "wildcard", "publish": true},
				map[string]any{"uri": "wamp.session.count", "call": true},
			}},
			"b": map[string]any{"permissions": []any{map[string]any{"uri": "com.app.x", "subscribe": true}}},
		},
	}))
	alice := joinTicket(t, r, "realm1", "alice", "pa")
	bob := joinTicket(t, r, "realm1", "bob", "pb")
	anon := join(t, r, "realm1", nil) // role anonymous has no rules: denied

	alice2 := joinTicket(t, r, "realm1", "alice", "pa")
	alice2.register("com.app.proc", nil)
	alice2.serve(func(inv *wamp.Invocation) wamp.Message {
		return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{}}
	})
	cases := []struct {
		name string
		c    *client
		m    func(c *client) wamp.Message
		typ  wamp.MessageType
		ok   bool
	}{
		{"a calls com.app.proc", alice, func(c *client) wamp.Message {
			return &wamp.Call{Request: c.next(), Options: wamp.Dict{}, Procedure: "com.app.proc"}
		}, wamp.CALL, true},
		{"a calls under the longer denying prefix", alice, func(c *client) wamp.Message {
			return &wamp.Call{Request: c.next(), Options: wamp.Dict{}, Procedure: "com.app.admin.x"}
		}, wamp.CALL, false},
		{"a publishes by wildcard rule", alice, func(c *client) wamp.Message {
			return &wamp.Publish{Request: c.next(), Options: wamp.Dict{"acknowledge": true}, Topic: "com.z.pub"}
		}, wamp.PUBLISH, true},
		{"a calls meta", alice, func(c *client) wamp.Message {
			return &wamp.Call{Request: c.next(), Options: wamp.Dict{}, Procedure: "wamp.session.count"}
		}, wamp.CALL, true},
		{"a calls other meta", alice, func(c *client) wamp.Message {
			return &wamp.Call{Request: c.next(), Options: wamp.Dict{}, Procedure: "wamp.session.kill_all"}
		}, wamp.CALL, false},
		{"b subscribes allowed", bob, func(c *client) wamp.Message {
			return &wamp.Subscribe{Request: c.next(), Options: wamp.Dict{}, Topic: "com.app.x"}
		}, wamp.SUBSCRIBE, true},
		{"b subscribes elsewhere", bob, func(c *client) wamp.Message {
			return &wamp.Subscribe{Request: c.next(), Options: wamp.Dict{}, Topic: "com.app.y"}
		}, wamp.SUBSCRIBE, false},
		{"b registers", bob, func(c *client) wamp.Message {
			return &wamp.Register{Request: c.next(), Options: wamp.Dict{}, Procedure: "com.app.x"}
		}, wamp.REGISTER, false},
		{"b calls", bob, func(c *client) wamp.Message {
			return &wamp.Call{Request: c.next(), Options: wamp.Dict{}, Procedure: "com.app.proc"}
		}, wamp.CALL, false},
		{"b publishes with ack", bob, func(c *client) wamp.Message {
			return &wamp.Publish{Request: c.next(), Options: wamp.Dict{"acknowledge": true}, Topic: "com.app.x"}
		}, wamp.PUBLISH, false},
		{"anonymous role without rules", anon, func(c *client) wamp.Message {
			return &wamp.Subscribe{Request: c.next(), Options: wamp.Dict{}, Topic: "com.app.x"}
		}, wamp.SUBSCRIBE, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.send(tc.m(tc.c))
			m := tc.c.recv()
			e, isErr := m.(*wamp.Error)
			if tc.ok == isErr {
				t.Fatalf("got %s", dump(m))
			}
			if isErr && (e.Error != wamp.ErrNotAuthorized || e.Type != tc.typ || e.Request != tc.c.req) {
				t.Fatalf("got %s", dump(m))
			}
		})
	}
}
