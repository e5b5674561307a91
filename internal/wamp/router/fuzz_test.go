package router

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"skyhub/internal/wamp"
	"skyhub/internal/wamp/inproc"
)

// FuzzRouterSession feeds arbitrary message sequences (a JSON list of WAMP
// lists) to a router that also has a serving callee and a subscriber: the
// router must never panic, and every session must end when its peer goes.
func FuzzRouterSession(f *testing.F) {
	for _, s := range []string{
		`[[1,"realm1",{"roles":{"caller":{}}}],[48,1,{},"com.p",[1]],[6,{},"wamp.close.close_realm"]]`,
		`[[1,"realm1",{"roles":{"callee":{"features":{"call_canceling":true}}}}],[64,1,{"match":"prefix","invoke":"roundrobin"},"com."],[70,1,{}],[8,68,1,{},"x"]]`,
		`[[1,"realm1",{"roles":{"caller":{}}}],[48,1,{"timeout":1,"receive_progress":true},"com.slow"],[49,1,{"mode":"kill"}],[48,2,{},"wamp.session.kill_all"]]`,
		`[[1,"realm1",{"roles":{"publisher":{}}}],[16,1,{"acknowledge":true,"retain":true,"eligible":[1],"exclude_authrole":["x"]},"com.t",[],{}],[32,2,{"get_retained":true,"match":"wildcard"},"com.."]]`,
		`[[1,"auth",{"roles":{"caller":{}},"authmethods":["wampcra","ticket","cryptosign"],"authid":"u","authextra":{"pubkey":"00"}}],[5,"sig",{}]]`,
		`[[48,1,{},"com.p"]]`,
		`[[1,"realm1",{"roles":{"caller":{}}}],[1,"realm1",{}]]`,
		`[[1,"realm1",{"roles":{"caller":{}}}],[48,1,{},"wamp.session.add_testament",["com.t",[],{}]],[3,{},"wamp.error.x"]]`,
	} {
		f.Add([]byte(s))
	}
	auth, _ := json.Marshal(map[string]any{"principals": map[string]any{"u": map[string]any{"role": "r", "secret": "s", "ticket": "plain:t"}}})
	f.Fuzz(func(t *testing.T, b []byte) {
		var lists [][]any
		if json.Unmarshal(b, &lists) != nil {
			return
		}
		r, err := New(Config{Realms: []RealmConfig{{Name: "realm1"}, {Name: "auth", Settings: auth}},
			HelloTimeout: 300 * time.Millisecond, CallTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if err := r.Close(ctx); err != nil {
				t.Fatal("router did not close: ", err)
			}
		}()
		// A callee echoing com.p and a subscriber of com.t.
		hp, hs := inproc.Pipe(0)
		go r.Accept(hs)
		defer hp.Close()
		_ = hp.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": fullRoles()}})
		_ = hp.Send(&wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: "com.p"})
		_ = hp.Send(&wamp.Subscribe{Request: 2, Options: wamp.Dict{}, Topic: "com.t"})
		go func() {
			for m := range hp.Recv() {
				if inv, ok := m.(*wamp.Invocation); ok {
					_ = hp.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Arguments: inv.Arguments})
				}
			}
		}()

		cp, sp := inproc.Pipe(0)
		done := make(chan struct{})
		go func() { r.Accept(sp); close(done) }()
		go func() {
			for range cp.Recv() {
			}
		}()
		for _, l := range lists {
			m, err := wamp.FromList(l)
			if err != nil {
				continue
			}
			if cp.Send(m) != nil {
				break
			}
		}
		cp.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("session did not end after its peer closed")
		}
	})
}
