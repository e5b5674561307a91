package app

import (
	"context"

	"skyhub/internal/device"
	"skyhub/internal/hub"
	"skyhub/internal/skynet"
	"skyhub/internal/skynet/events"
)

// mountSkyNet builds the device registry, the hub and the SkyNet wire
// (REST, HTTP streaming, Meshblu HTTP) on a.Mux, then the real-time
// transports through mountSkyNetRealtime with the event layer. Owned by the
// SkyNet hub work.
func (a *App) mountSkyNet(ctx context.Context) error {
	c := a.Cfg.SkyNet
	reg, err := device.New(ctx, device.Config{
		Store:              a.KV,
		BcryptCost:         c.BcryptCost,
		AuthCacheSize:      c.AuthCacheSize,
		OfflineMaxMessages: c.OfflineMaxMessages,
		OfflineMaxAge:      c.OfflineMaxAge.D(),
		EventLogMax:        c.EventLogMax,
		// live messages' event-log entries are batched (a queue of this
		// many events); Close below flushes them before the store closes
		EventBatch: 4096,
	})
	if err != nil {
		return err
	}
	// registered before everything that logs events, so it runs after
	// them at shutdown (closers run in reverse): the batched event-log
	// entries are flushed before the store closes
	a.OnClose("skynet event log", func(context.Context) error { return reg.Close() })
	h := hub.New(hub.Config{
		Registry:       reg,
		RateLimit:      a.Cfg.RateLimit,
		BroadcastToAll: c.BroadcastToAll,
		Log:            a.Log.With("component", "skynet-hub"),
		Metrics:        a.Metrics,
	})
	a.SkyNetHub = h
	api := skynet.New(skynet.Config{
		Hub:          h,
		MaxBodyBytes: a.Cfg.MaxBodyBytes,
		Log:          a.Log.With("component", "skynet-rest"),
	})
	api.Register(a.Mux)
	// open /subscribe streams end (after writing what they accepted) as
	// shutdown starts, so the HTTP drain does not wait for them
	a.OnStop(api.Close)
	a.OnClose("skynet streams", func(context.Context) error { api.Close(); return nil })
	return a.mountSkyNetRealtime(ctx, events.New(events.Config{Hub: h, Log: a.Log.With("component", "skynet-events")}))
}
