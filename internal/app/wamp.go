package app

import (
	"context"
	"time"

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
	return a.mountWAMPTransports(ctx, r)
}
