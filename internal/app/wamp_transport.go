package app

import (
	"context"
	"net"
	"time"

	"skyhub/internal/wamp"
	"skyhub/internal/wamp/transport"
)

// mountWAMPTransports mounts the WAMP transports (WebSocket on a.Mux at
// Cfg.WAMP.Path, RawSocket on Cfg.WAMP.RawSocketPort, the universal port),
// each handing peers to r. Owned by the WAMP transports work; called from
// mountWAMP.
func (a *App) mountWAMPTransports(ctx context.Context, r wamp.Acceptor) error {
	c := a.Cfg.WAMP
	s := transport.New(transport.Config{
		Log:                a.Log.With("component", "wamp-transport"),
		Metrics:            a.Metrics,
		OutboundQueueBytes: c.OutboundQueueBytes,
	}, r)
	// No method in the pattern: it must not conflict with method-less ones
	// (/socket.io/) when the path is "/"; ServeHTTP answers non-upgrade
	// requests with 426.
	a.Mux.Handle(c.Path, s)
	if c.RawSocketPort != 0 {
		a.AddListener("wamp-rawsocket", c.RawSocketPort, s.ServeRawSocket)
	}
	if c.UniversalPort != 0 {
		a.AddListener("wamp-universal", c.UniversalPort, func(ln net.Listener) { s.ServeUniversal(ln, nil) })
	}
	a.OnClose("wamp transports", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		// Let the router say GOODBYE (system_shutdown) to every session
		// while the connections are still up; its own closer, registered
		// earlier, runs after this one and finds it done.
		if rc, ok := r.(interface{ Close(context.Context) error }); ok {
			rc.Close(ctx)
		}
		return s.Close(ctx)
	})
	return nil
}
