package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/aws/edge"
	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/hub"
	"skyhub/internal/kinesis"
	"skyhub/internal/kinesis/kinesisapi"
	"skyhub/internal/skynet"
)

// mountKinesis builds the kinesis service and registers it on the AWS edge. Owned
// by the kinesis work; called from mountAWS.
func (a *App) mountKinesis(ctx context.Context, e *edge.Edge) error {
	kc := a.Cfg.AWS.Kinesis
	svc, err := kinesis.New(ctx, kinesis.Config{
		Store: a.KV, Region: a.Cfg.AWS.Region, AccountID: a.Cfg.AWS.AccountID,
		Unlimited: kc.UnlimitedThroughput, StatusDelay: time.Duration(kc.StatusDelay),
		ShardLimit: kc.ShardLimit, Log: a.Log.With("svc", "kinesis"),
	})
	if err != nil {
		return err
	}
	a.OnClose("kinesis", func(context.Context) error { return svc.Close() })
	e.HandleTarget(kinesisapi.TargetPrefix, kinesisapi.New(kinesisapi.Config{Service: svc, Log: a.Log.With("svc", "kinesis")}))

	var configured []kinesis.Rule
	for _, r := range kc.Rules {
		configured = append(configured, kinesis.Rule{Name: r.Name, Device: r.Device, Stream: r.Stream})
	}
	rules, err := kinesis.NewRules(ctx, svc, configured)
	if err != nil {
		return err
	}
	a.OnClose("kinesis rules", func(context.Context) error { rules.Close(); return nil })
	if a.SkyNetHub != nil {
		mountKinesisRules(a.Mux, rules, a.SkyNetHub.Registry())
	}
	if a.Metrics != nil {
		a.Metrics.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skyhub_kinesis_rule_dropped_total",
				Help: "Device messages a full Kinesis rule queue dropped."}, func() float64 { return float64(rules.Dropped()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skyhub_kinesis_rule_failed_total",
				Help: "Device messages a Kinesis rule could not write."}, func() float64 { return float64(rules.Failed()) }))
	}
	// Every message the SkyNet hub routes goes to the streams whose rules
	// name its sender (or "*"); Observe callbacks must not block, so the
	// message is queued.
	if a.SkyNetHub != nil {
		stop := a.SkyNetHub.Observe(func(d hub.Delivery) {
			if !rules.Matches(d.From) {
				return
			}
			b, err := json.Marshal(d.Message)
			if err != nil {
				return
			}
			rules.Enqueue(d.From, b)
		})
		a.OnClose("kinesis hub feed", func(context.Context) error { stop(); return nil })
	}
	return nil
}

// mountKinesisRules serves the device-to-stream rules API on the main mux:
// GET /kinesis-rules, PUT and DELETE /kinesis-rules/{name}, and
// POST /kinesis-rules/route/{device} to feed a device message in by hand.
// Every call acts for one device, authenticated by its SkyNet credentials in
// the headers (Basic uuid:token, X-Meshblu-*, skynet_auth_*, ...): a device
// sees and changes only the rules for itself, and feeds only its own data.
// Rules for every device ("*") come from the config file alone.
func mountKinesisRules(mux *http.ServeMux, rules *kinesis.Rules, reg *device.Registry) {
	if mux == nil {
		return
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, err error) {
		status := http.StatusInternalServerError
		switch errs.KindOf(err) {
		case errs.Invalid:
			status = http.StatusBadRequest
		case errs.NotFound:
			status = http.StatusNotFound
		case errs.RateLimited:
			status = http.StatusTooManyRequests
		}
		reply(w, status, map[string]string{"error": errs.Message(err, "internal error")})
	}
	// caller authenticates the request's device, answering 401 itself when
	// it cannot.
	caller := func(w http.ResponseWriter, r *http.Request) (string, bool) {
		uuid, token, ok := skynet.HeaderCredentials(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="skyhub"`)
			reply(w, http.StatusUnauthorized, map[string]string{"error": "device credentials required (Basic uuid:token or X-Meshblu-UUID/X-Meshblu-Token)"})
			return "", false
		}
		if _, err := reg.Authenticate(r.Context(), uuid, token); err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="skyhub"`)
			reply(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return "", false
		}
		return uuid, true
	}
	forbidden := func(w http.ResponseWriter) {
		reply(w, http.StatusForbidden, map[string]string{"error": "a device may manage only its own rules"})
	}
	mux.HandleFunc("GET /kinesis-rules", func(w http.ResponseWriter, r *http.Request) {
		me, ok := caller(w, r)
		if !ok {
			return
		}
		mine := []kinesis.Rule{}
		for _, x := range rules.List() {
			if x.Device == me {
				mine = append(mine, x)
			}
		}
		reply(w, 200, mine)
	})
	mux.HandleFunc("PUT /kinesis-rules/{name}", func(w http.ResponseWriter, r *http.Request) {
		me, ok := caller(w, r)
		if !ok {
			return
		}
		var x kinesis.Rule
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&x); err != nil {
			reply(w, 400, map[string]string{"error": "body must be JSON {\"device\":...,\"stream\":...}"})
			return
		}
		x.Name = r.PathValue("name")
		if x.Device == "" {
			x.Device = me
		}
		if x.Device != me || !ownsOrFree(rules, x.Name, me) {
			forbidden(w)
			return
		}
		if err := rules.Put(r.Context(), x); err != nil {
			fail(w, err)
			return
		}
		reply(w, 200, x)
	})
	mux.HandleFunc("DELETE /kinesis-rules/{name}", func(w http.ResponseWriter, r *http.Request) {
		me, ok := caller(w, r)
		if !ok {
			return
		}
		if !ownsOrFree(rules, r.PathValue("name"), me) {
			forbidden(w)
			return
		}
		if err := rules.Delete(r.Context(), r.PathValue("name")); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /kinesis-rules/route/{device}", func(w http.ResponseWriter, r *http.Request) {
		me, ok := caller(w, r)
		if !ok {
			return
		}
		if r.PathValue("device") != me {
			forbidden(w)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			reply(w, 400, map[string]string{"error": "unreadable body"})
			return
		}
		n, err := rules.Route(r.Context(), r.PathValue("device"), body)
		if err != nil && n == 0 {
			fail(w, err)
			return
		}
		reply(w, 200, map[string]int{"records": n})
	})
}

// ownsOrFree reports whether the rule called name is absent or belongs to
// device me.
func ownsOrFree(rules *kinesis.Rules, name, me string) bool {
	for _, x := range rules.List() {
		if x.Name == name {
			return x.Device == me
		}
	}
	return true
}
