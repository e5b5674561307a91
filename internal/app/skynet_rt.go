package app

import (
	"context"

	"skyhub/internal/skynet/realtime"
)

// mountSkyNetRealtime mounts the real-time transports (Socket.IO EIO3,
// Socket.IO 0.9, /ws/v2) on a.Mux, each handing connections to events.
// Owned by the SkyNet real-time transports work; called from mountSkyNet.
func (a *App) mountSkyNetRealtime(ctx context.Context, events realtime.Handler) error {
	return nil
}
