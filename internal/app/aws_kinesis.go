package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"skyhub/internal/aws/edge"

	"skyhub/internal/errs"
	"skyhub/internal/hub"
	"skyhub/internal/kinesis"
	"skyhub/internal/kinesis/kinesisapi"
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
	mountKinesisRules(a.Mux, rules)
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
func mountKinesisRules(mux *http.ServeMux, rules *kinesis.Rules) {
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
	mux.HandleFunc("GET /kinesis-rules", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, rules.List())
	})
	mux.HandleFunc("PUT /kinesis-rules/{name}", func(w http.ResponseWriter, r *http.Request) {
		var x kinesis.Rule
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&x); err != nil {
			reply(w, 400, map[string]string{"error": "body must be JSON {\"device\":...,\"stream\":...}"})
			return
		}
		x.Name = r.PathValue("name")
		if err := rules.Put(r.Context(), x); err != nil {
			fail(w, err)
			return
		}
		reply(w, 200, x)
	})
	mux.HandleFunc("DELETE /kinesis-rules/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := rules.Delete(r.Context(), r.PathValue("name")); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /kinesis-rules/route/{device}", func(w http.ResponseWriter, r *http.Request) {
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
