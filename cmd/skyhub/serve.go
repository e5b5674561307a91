package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"skyhub/internal/app"
	"skyhub/internal/obs"
)

// serve runs the platform until SIGINT or SIGTERM, then shuts down
// gracefully: stop accepting, drain, close services, flush storage, exit 0.
func serve(args, environ []string) int {
	c, err := loadConfig("serve", args, environ, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "skyhub: invalid configuration:\n%v\n", err)
		return 2
	}
	log := obs.NewLogger(os.Stderr, c.Log.Level, c.Log.Format)
	// fsync and other blocking syscalls hold a scheduler slot until the
	// runtime hands it off; with a single slot (a process pinned to one
	// core) durable writes then stall request handling. Keep at least two.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, c, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "skyhub: %v\n", err)
		return 1
	}
	if err := a.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "skyhub: %v\n", err)
		a.Close(context.Background())
		return 1
	}
	fmt.Printf("skyhub %s: data in %s\n", version, c.DataDir)
	for _, l := range a.Addrs() {
		fmt.Printf("  %-15s %s\n", l[0], describe(l[0], l[1]))
	}
	log.Info("skyhub started", "version", version)
	<-ctx.Done()
	stop()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout.D())
	defer cancel()
	if err := a.Close(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// describe says what a listener serves, for the start-up banner.
func describe(name, addr string) string {
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "::" || host == "0.0.0.0") {
		addr = net.JoinHostPort("localhost", port)
	}
	switch name {
	case "http":
		return "http://" + addr + "  SkyNet REST + streaming, Socket.IO, /ws/v2, WAMP WebSocket /ws, /metrics, /healthz"
	case "aws":
		return "http://" + addr + "  AWS edge: S3, SQS, Kinesis, DynamoDB, DynamoDB Streams, STS"
	case "wamp-rawsocket":
		return "tcp://" + addr + "  WAMP RawSocket"
	case "wamp-universal":
		return addr + "  WAMP RawSocket + WebSocket on one port"
	}
	return addr
}
