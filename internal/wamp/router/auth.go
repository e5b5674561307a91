package router

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"skyhub/internal/wamp"
)

// authFail is why a session attempt is refused.
type authFail struct {
	reason  wamp.URI
	message string
}

// establish waits for HELLO, authenticates and answers WELCOME. It returns
// nil when the peer is gone or the attempt was refused (ABORT sent).
func (r *Router) establish(p wamp.Peer) *session {
	m, ok := r.next(p)
	if !ok {
		return nil
	}
	hello, isHello := m.(*wamp.Hello)
	if !isHello {
		if m.MessageType() != wamp.ABORT {
			r.metrics.violations.Inc()
			_ = p.Send(wamp.ProtocolViolation("expected HELLO, got " + m.MessageType().String()))
		}
		return nil
	}
	r.metrics.in(wamp.HELLO)
	rl := r.realm(hello.Realm)
	if rl == nil {
		_ = p.Send(&wamp.Abort{Details: wamp.Dict{"message": "no such realm: " + string(hello.Realm)}, Reason: wamp.ErrNoSuchRealm})
		return nil
	}
	roles, _ := wamp.OptDict(hello.Details, "roles")
	n := 0
	for _, role := range []string{"publisher", "subscriber", "caller", "callee"} {
		if _, ok := roles[role]; ok {
			n++
		}
	}
	if n == 0 {
		r.metrics.violations.Inc()
		_ = p.Send(wamp.ProtocolViolation("HELLO announces no client role"))
		return nil
	}
	s := &session{
		id:             wamp.GlobalID(),
		realm:          rl,
		peer:           p,
		calleeProgress: hasFeature(hello.Details, "callee", "progressive_call_results"),
		calleeCancel:   hasFeature(hello.Details, "callee", "call_canceling"),
		calleeProgInv:  hasFeature(hello.Details, "callee", "progressive_call_invocations"),
		calleeRevoke:   hasFeature(hello.Details, "callee", "registration_revocation"),
		subRevoke:      hasFeature(hello.Details, "subscriber", "subscription_revocation"),
		created:        time.Now().UTC(),
		subs:           map[wamp.ID]*subscription{},
		regs:           map[wamp.ID]*registration{},
		ctl:            make(chan control, 1),
		calls:          map[wamp.ID]*call{},
		invs:           map[wamp.ID]*call{},
	}
	if f := r.authenticate(rl, s, hello); f != nil {
		if f.reason != "" {
			r.metrics.authFail.Inc()
			d := wamp.Dict{}
			if f.message != "" {
				d["message"] = f.message
			}
			_ = p.Send(&wamp.Abort{Details: d, Reason: f.reason})
		}
		return nil
	}
	d := wamp.Dict{
		"roles":        welcomeRoles(),
		"agent":        r.cfg.Agent,
		"authid":       s.authid,
		"authrole":     s.authrole,
		"authmethod":   s.authmethod,
		"authprovider": s.authprovider,
	}
	if s.authextra != nil {
		d["authextra"] = s.authextra
	}
	// WELCOME goes out once the session has joined the realm (run), so
	// that on_join meta events follow the order in which clients were
	// welcomed and a welcomed client is already visible to the meta API.
	s.welcome = &wamp.Welcome{Session: s.id, Details: d}
	return s
}

// next waits for the peer's next message within HelloTimeout.
func (r *Router) next(p wamp.Peer) (wamp.Message, bool) {
	t := time.NewTimer(r.cfg.HelloTimeout)
	defer t.Stop()
	select {
	case m, ok := <-p.Recv():
		return m, ok
	case <-t.C:
		_ = p.Send(&wamp.Abort{Details: wamp.Dict{"message": "timed out waiting for the client"}, Reason: wamp.ErrProtocolViolation})
		return nil, false
	case <-r.done:
		_ = p.Send(&wamp.Abort{Details: wamp.Dict{"message": "router is shutting down"}, Reason: wamp.CloseSystemShutdown})
		return nil, false
	}
}

// authenticate runs the first auth method of the client's list that the
// realm can serve for this authid. A nil result means success (s filled).
// A result with an empty reason means the peer went away.
func (r *Router) authenticate(rl *realm, s *session, h *wamp.Hello) *authFail {
	pol := rl.pol
	methods := []string{"anonymous"}
	if l, ok := wamp.OptList(h.Details, "authmethods"); ok {
		methods = methods[:0]
		for _, v := range l {
			if m, ok := v.(string); ok {
				methods = append(methods, m)
			}
		}
	}
	authid, _ := wamp.OptString(h.Details, "authid")
	authextra, _ := wamp.OptDict(h.Details, "authextra")
	dynamic := func(m string) bool { return pol.authenticator != "" && pol.authMethods[m] }
	for _, m := range methods {
		switch m {
		case "anonymous":
			if !pol.anonymous {
				continue
			}
			if authid == "" {
				authid = "anonymous-" + hex.EncodeToString(randBytes(6))
			}
			s.authid, s.authrole, s.authmethod, s.authprovider = authid, pol.anonRole, "anonymous", "static"
			return nil
		case "ticket":
			pr := pol.principals[authid]
			if authid == "" || (pr == nil || pr.ticket == "") && !dynamic("ticket") {
				continue
			}
			ticket, f := r.challenge(s, &wamp.Challenge{AuthMethod: "ticket", Extra: wamp.Dict{}})
			if f != nil {
				return f
			}
			if pr != nil && pr.ticket != "" {
				if !checkTicket(pr.ticket, ticket) {
					return &authFail{wamp.ErrAuthenticationFailed, "ticket invalid"}
				}
				s.setAuth(pr.authid, pr.role, "ticket", "static", pr.extra)
				return nil
			}
			sum := sha256.Sum256([]byte(ticket))
			key := "ticket\x00" + authid + "\x00" + string(sum[:])
			res, cached := rl.authnCache.get(key)
			if !cached {
				details := copyDict(h.Details)
				details["ticket"] = ticket
				details["authmethod"] = "ticket"
				details["session"] = s.id
				out, f := r.callAuthenticator(rl, authid, details)
				if f != nil {
					return f
				}
				res = out
				rl.authnCache.put(key, out)
			}
			ans := res.(authAnswer)
			s.setAuth(ans.authid(authid), ans.role, "ticket", "dynamic", ans.extra)
			return nil
		case "wampcra":
			if authid == "" {
				continue
			}
			pr := pol.principals[authid]
			var key []byte
			var salt string
			var iters, keylen int
			role, provider := "", "static"
			var extra wamp.Dict
			switch {
			case pr != nil && pr.craKey != nil:
				key, salt, iters, keylen, role, extra = pr.craKey, pr.salt, pr.iterations, pr.keylen, pr.role, pr.extra
			case dynamic("wampcra"):
				details := copyDict(h.Details)
				details["authmethod"] = "wampcra"
				details["session"] = s.id
				ans, f := r.callAuthenticator(rl, authid, details)
				if f != nil {
					return f
				}
				if ans.secret == "" {
					return &authFail{wamp.ErrAuthenticationFailed, "authenticator returned no secret"}
				}
				salt, iters, keylen = ans.salt, ans.iterations, ans.keylen
				if salt != "" {
					if iters <= 0 {
						iters = 1000
					}
					if keylen <= 0 {
						keylen = 32
					}
					key = deriveKey(ans.secret, salt, iters, keylen)
				} else {
					key = []byte(ans.secret)
				}
				role, provider, extra = ans.role, "dynamic", ans.extra
			default:
				continue
			}
			chal, _ := json.Marshal(map[string]any{
				"authid": authid, "authrole": role, "authmethod": "wampcra", "authprovider": provider,
				"nonce": hex.EncodeToString(randBytes(16)), "timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
				"session": s.id,
			})
			ex := wamp.Dict{"challenge": string(chal)}
			if salt != "" {
				ex["salt"], ex["iterations"], ex["keylen"] = salt, iters, keylen
			}
			sig, f := r.challenge(s, &wamp.Challenge{AuthMethod: "wampcra", Extra: ex})
			if f != nil {
				return f
			}
			mac := hmac.New(sha256.New, key)
			mac.Write(chal)
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
				return &authFail{wamp.ErrAuthenticationFailed, "signature invalid"}
			}
			s.setAuth(authid, role, "wampcra", provider, extra)
			return nil
		case "cryptosign":
			pubHex, _ := wamp.OptString(authextra, "pubkey")
			pubHex = strings.ToLower(pubHex)
			pub, err := hex.DecodeString(pubHex)
			if err != nil || len(pub) != ed25519.PublicKeySize {
				continue
			}
			var role, provider, id string
			var extra wamp.Dict
			if owner, ok := pol.byPubkey[pubHex]; ok && (authid == "" || authid == owner) {
				pr := pol.principals[owner]
				id, role, provider, extra = owner, pr.role, "static", pr.extra
			} else if dynamic("cryptosign") {
				details := copyDict(h.Details)
				details["authmethod"] = "cryptosign"
				details["session"] = s.id
				ans, f := r.callAuthenticator(rl, authid, details)
				if f != nil {
					return f
				}
				if ans.pubkey != "" && !strings.EqualFold(ans.pubkey, pubHex) {
					return &authFail{wamp.ErrAuthenticationFailed, "public key not authorized"}
				}
				id, role, provider, extra = ans.authid(authid), ans.role, "dynamic", ans.extra
			} else {
				continue
			}
			nonce := randBytes(32)
			sig, f := r.challenge(s, &wamp.Challenge{AuthMethod: "cryptosign", Extra: wamp.Dict{"challenge": hex.EncodeToString(nonce), "channel_binding": nil}})
			if f != nil {
				return f
			}
			raw, err := hex.DecodeString(sig)
			if err != nil || (len(raw) != 64 && len(raw) != 96) || len(raw) == 96 && !hmac.Equal(raw[64:], nonce) ||
				!ed25519.Verify(ed25519.PublicKey(pub), nonce, raw[:64]) {
				return &authFail{wamp.ErrAuthenticationFailed, "signature invalid"}
			}
			s.setAuth(id, role, "cryptosign", provider, extra)
			return nil
		}
	}
	return &authFail{wamp.ErrNoMatchingAuthMethod, "no authentication method the client offered is available for this principal"}
}

func (s *session) setAuth(authid, role, method, provider string, extra wamp.Dict) {
	s.authid, s.authrole, s.authmethod, s.authprovider, s.authextra = authid, role, method, provider, extra
}

// challenge sends ch and waits for AUTHENTICATE, returning its signature.
func (r *Router) challenge(s *session, ch *wamp.Challenge) (string, *authFail) {
	_ = s.peer.Send(ch)
	m, ok := r.next(s.peer)
	if !ok {
		return "", &authFail{}
	}
	switch v := m.(type) {
	case *wamp.Authenticate:
		r.metrics.in(wamp.AUTHENTICATE)
		return v.Signature, nil
	case *wamp.Abort:
		return "", &authFail{}
	}
	r.metrics.violations.Inc()
	return "", &authFail{wamp.ErrProtocolViolation, "expected AUTHENTICATE, got " + m.MessageType().String()}
}

// authAnswer is a dynamic authenticator's answer.
type authAnswer struct {
	role, id, secret, salt, pubkey string
	iterations, keylen             int
	extra                          wamp.Dict
}

func (a authAnswer) authid(def string) string {
	if a.id != "" {
		return a.id
	}
	return def
}

// callAuthenticator calls the realm's authenticator procedure with
// (realm, authid, details). It answers a role (string) or a dict with role
// and optionally authid, secret, salt, iterations, keylen, pubkey, extra.
func (r *Router) callAuthenticator(rl *realm, authid string, details wamp.Dict) (authAnswer, *authFail) {
	res, err := rl.dealer.internalCall(rl.pol.authenticator, wamp.List{string(rl.name), authid, details}, nil)
	if err != nil {
		if ce, ok := err.(*callError); ok && strings.HasPrefix(string(ce.uri), "wamp.error.") && ce.uri != wamp.ErrNoSuchProcedure && ce.uri != wamp.ErrTimeout {
			return authAnswer{}, &authFail{ce.uri, ce.message()}
		}
		r.log.Warn("wamp authenticator failed", "realm", string(rl.name), "err", err)
		return authAnswer{}, &authFail{wamp.ErrAuthenticationFailed, "authenticator unavailable or refused"}
	}
	var a authAnswer
	if len(res.Arguments) > 0 {
		switch v := res.Arguments[0].(type) {
		case string:
			a.role = v
		case wamp.Dict:
			a.role, _ = wamp.OptString(v, "role")
			a.id, _ = wamp.OptString(v, "authid")
			a.secret, _ = wamp.OptString(v, "secret")
			a.salt, _ = wamp.OptString(v, "salt")
			a.pubkey, _ = wamp.OptString(v, "pubkey")
			if n, ok := wamp.OptInt(v, "iterations"); ok {
				a.iterations = int(n)
			}
			if n, ok := wamp.OptInt(v, "keylen"); ok {
				a.keylen = int(n)
			}
			a.extra, _ = wamp.OptDict(v, "extra")
		}
	}
	if a.role == "" {
		return authAnswer{}, &authFail{wamp.ErrAuthenticationFailed, "authenticator returned no role"}
	}
	return a, nil
}

// checkTicket compares a presented ticket with its stored form.
func checkTicket(stored, ticket string) bool {
	switch {
	case strings.HasPrefix(stored, "sha256:"):
		want, _ := hex.DecodeString(stored[7:])
		got := sha256.Sum256([]byte(ticket))
		return subtle.ConstantTimeCompare(want, got[:]) == 1
	case strings.HasPrefix(stored, "plain:"):
		return subtle.ConstantTimeCompare([]byte(stored[6:]), []byte(ticket)) == 1
	default:
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(ticket)) == nil
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func copyDict(d wamp.Dict) wamp.Dict {
	c := make(wamp.Dict, len(d)+4)
	for k, v := range d {
		c[k] = v
	}
	return c
}
