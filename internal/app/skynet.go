package app

import "context"

// mountSkyNet builds the device registry, the hub and the SkyNet wire
// (REST, HTTP streaming, Meshblu HTTP) on a.Mux, then the real-time
// transports through mountSkyNetRealtime with the event layer. Owned by the
// SkyNet hub work.
func (a *App) mountSkyNet(ctx context.Context) error {
	return nil
}
