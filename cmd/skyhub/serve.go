package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
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
	// core) durable writes then stall request handling. Keep at least two,
	// unless GOMAXPROCS is set explicitly (a deployment without durable
	// load, such as a WAMP router pinned to one core, runs better on one).
	if runtime.GOMAXPROCS(0) < 2 && lookupEnv(environ, "GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	applyRuntime(c.Runtime, environ)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := lookupEnv(environ, "SKYHUB_CPUPROFILE"); path != "" {
		done, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skyhub: %v\n", err)
			return 2
		}
		defer done()
	}
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
	if c.Runtime.IdleTrim > 0 {
		stopTrim := idleTrimmer(ctx, c.Runtime.IdleTrim.D(), debug.FreeOSMemory)
		defer stopTrim()
	}
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

// startCPUProfile writes a CPU profile of the whole run to path (a
// measuring aid for the benchmarks: SKYHUB_CPUPROFILE=/tmp/x.prof). The
// profile is complete only after a graceful stop (SIGTERM/SIGINT).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// lookupEnv returns the value of key in environ ("KEY=value" entries).
func lookupEnv(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			v = kv[len(key)+1:]
		}
	}
	return v
}
