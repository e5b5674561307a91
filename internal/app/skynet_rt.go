package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/skynet/realtime"
	"skyhub/internal/skynet/sio09"
	"skyhub/internal/skynet/socketio"
	"skyhub/internal/skynet/wsv2"
)

// mountSkyNetRealtime mounts the real-time transports (Socket.IO EIO3,
// Socket.IO 0.9, /ws/v2) on a.Mux, each handing connections to events.
// Owned by the SkyNet real-time transports work; called from mountSkyNet.
func (a *App) mountSkyNetRealtime(ctx context.Context, events realtime.Handler) error {
	slow := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skyhub_skynet_realtime_slow_consumer_closed_total",
		Help: "Real-time connections closed because their outgoing queue overflowed, by transport.",
	}, []string{"transport"})
	if err := a.Metrics.Register(slow); err != nil {
		return err
	}
	log := a.Log.With("component", "skynet-realtime")
	maxBody := int(a.Cfg.MaxBodyBytes)

	eio, err := socketio.New(socketio.Config{
		Handler:  events,
		Log:      log.With("transport", "socket.io"),
		MaxBody:  maxBody,
		Overflow: slow.WithLabelValues("socket.io").Inc,
	})
	if err != nil {
		return err
	}
	a.OnClose("skynet socket.io", func(context.Context) error { eio.Close(); return nil })
	old, err := sio09.New(sio09.Config{
		Handler:  events,
		Log:      log.With("transport", "socket.io-0.9"),
		MaxBody:  maxBody,
		Overflow: slow.WithLabelValues("socket.io-0.9").Inc,
	})
	if err != nil {
		return err
	}
	a.OnClose("skynet socket.io 0.9", func(context.Context) error { old.Close(); return nil })
	ws, err := wsv2.New(wsv2.Config{
		Handler:    events,
		Log:        log.With("transport", "ws"),
		MaxMessage: maxBody,
		Overflow:   slow.WithLabelValues("ws").Inc,
	})
	if err != nil {
		return err
	}
	a.OnClose("skynet ws/v2", func(context.Context) error { ws.Close(); return nil })

	// Socket.IO sessions (EIO3 and 0.9) end as shutdown starts: a waiting
	// long poll is answered at once with DISCONNECT and the close packet,
	// so the HTTP drain does not wait for it (up to the ping interval).
	// WebSockets are hijacked, outside the drain; they end at OnClose.
	a.OnStop(eio.Close)
	a.OnStop(old.Close)

	for name, n := range map[string]func() int{"socket.io": eio.Len, "socket.io-0.9": old.Len, "ws": ws.Len} {
		n := n
		if err := a.Metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "skyhub_skynet_realtime_connections",
			Help:        "Live real-time sessions, by transport.",
			ConstLabels: prometheus.Labels{"transport": name},
		}, func() float64 { return float64(n()) })); err != nil {
			return err
		}
	}

	for name, n := range map[string]func() int{"socket.io": eio.Polls, "socket.io-0.9": old.Polls} {
		if err := a.Metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "skyhub_skynet_realtime_polls_waiting",
			Help:        "Long-polling requests held open waiting for data, by transport.",
			ConstLabels: prometheus.Labels{"transport": name},
		}, func() float64 { return float64(n()) })); err != nil {
			return err
		}
	}

	a.Mux.Handle("/socket.io/", eio)
	a.Mux.Handle("/socket.io/1/", old)
	a.Mux.Handle("GET /ws/v2", ws)
	return nil
}
