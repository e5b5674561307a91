package app

import "context"

// mountWAMP builds the WAMP router from Cfg.WAMP, then its transports
// through mountWAMPTransports. Owned by the WAMP router work.
func (a *App) mountWAMP(ctx context.Context) error {
	return nil
}
