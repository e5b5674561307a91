package app

import (
	"context"
	"time"

	"skyhub/internal/wamp/bridge"
	"skyhub/internal/wamp/router"
)

// mountWAMP builds the WAMP router from Cfg.WAMP, then its transports
// through mountWAMPTransports. Owned by the WAMP router work.
func (a *App) mountWAMP(ctx context.Context) error {
	c := a.Cfg.WAMP
	realms := make([]router.RealmConfig, len(c.Realms))
	for i, rc := range c.Realms {
		realms[i] = router.RealmConfig{Name: rc.Name, Settings: rc.Settings}
	}
	r, err := router.New(router.Config{
		Realms:     realms,
		AutoRealms: c.AutoRealms,
		Logger:     a.Log.With("component", "wamp-router"),
		Registerer: a.Metrics,
	})
	if err != nil {
		return err
	}
	a.OnClose("wamp router", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return r.Close(ctx)
	})
	if err := a.mountWAMPBridge(ctx, r); err != nil {
		return err
	}
	return a.mountWAMPTransports(ctx, r)
}

// mountWAMPBridge joins the SkyNet hub to the first configured realm, so a
// WAMP client sees device messages as events (skynet.message,
// skynet.device.<uuid>.message/.sent) and messages devices by calling
// skynet.message. Without a realm or a hub there is nothing to bridge.
func (a *App) mountWAMPBridge(ctx context.Context, r *router.Router) error {
	if a.SkyNetHub == nil || len(a.Cfg.WAMP.Realms) == 0 {
		return nil
	}
	b, err := bridge.Start(ctx, bridge.Config{
		Hub:    a.SkyNetHub,
		Router: r,
		Realm:  a.Cfg.WAMP.Realms[0].Name,
		Log:    a.Log.With("component", "wamp-bridge"),
	})
	if err != nil {
		return err
	}
	a.OnClose("wamp bridge", func(context.Context) error { b.Close(); return nil })
	return nil
}
