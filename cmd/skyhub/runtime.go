package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"skyhub/internal/config"
)

// applyRuntime sets the GC percent and the soft memory limit from the
// configuration, except where the user's own GOGC or GOMEMLIMIT is set
// (the runtime has applied those already, and they win). A higher GC
// percent trades heap headroom for fewer collections on the durable-write
// path; the memory limit bounds that headroom under load, and idleTrim
// gives it back once the load is over.
func applyRuntime(rc config.RuntimeConfig, environ []string) {
	if rc.GCPercent != 0 && lookupEnv(environ, "GOGC") == "" {
		debug.SetGCPercent(rc.GCPercent)
	}
	if rc.MemoryLimitMiB > 0 && lookupEnv(environ, "GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(rc.MemoryLimitMiB) << 20)
	}
}

// trimBurst is how much allocation since the last trim makes the next idle
// period worth a trim; trimIdle is how little allocation per period counts
// as idle.
const (
	trimBurst = 32 << 20
	trimIdle  = 1 << 20
)

// idleTrimmer returns heap headroom to the OS when the process goes idle
// after a burst: with a high GC percent the heap goal after a load stays
// several times the live heap, and the scavenger keeps that much resident.
// It checks the cumulative allocation counter every period; one period
// with almost no allocation after at least trimBurst bytes since the last
// trim runs debug.FreeOSMemory (one GC, then everything free is released).
// Stop waits for the goroutine.
func idleTrimmer(ctx context.Context, period time.Duration, free func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
		read := func() uint64 {
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return 0
			}
			return sample[0].Value.Uint64()
		}
		last := read()
		trimmed := last
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := read()
			if now-last < trimIdle && now-trimmed >= trimBurst {
				free()
				trimmed = read()
				now = trimmed
			}
			last = now
		}
	}()
	return func() { cancel(); wg.Wait() }
}
