package app

import (
	"context"

	"skyhub/internal/wamp"
)

// mountWAMPTransports mounts the WAMP transports (WebSocket on a.Mux at
// Cfg.WAMP.Path, RawSocket on Cfg.WAMP.RawSocketPort, the universal port),
// each handing peers to r. Owned by the WAMP transports work; called from
// mountWAMP.
func (a *App) mountWAMPTransports(ctx context.Context, r wamp.Acceptor) error {
	return nil
}
