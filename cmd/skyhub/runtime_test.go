package main

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"skyhub/internal/config"
)

var sink [][]byte

// TestIdleTrimmerAfterBurst: a burst of allocation followed by an idle
// period triggers exactly the trim; without a burst nothing is trimmed.
func TestIdleTrimmerAfterBurst(t *testing.T) {
	trims := make(chan struct{}, 10)
	stop := idleTrimmer(context.Background(), 20*time.Millisecond, func() { trims <- struct{}{} })
	select {
	case <-trims:
		t.Fatal("trimmed without a burst")
	case <-time.After(100 * time.Millisecond):
	}
	for i := 0; i < 48; i++ { // 48 MiB > trimBurst
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	select {
	case <-trims:
	case <-time.After(5 * time.Second):
		t.Fatal("no trim after a burst and an idle period")
	}
	stop()
	select {
	case <-trims:
		t.Fatal("trimmed twice for one burst")
	default:
	}
}

func TestApplyRuntimeUserEnvWins(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	applyRuntime(config.RuntimeConfig{GCPercent: 400, MemoryLimitMiB: 64}, []string{"GOGC=150", "GOMEMLIMIT=1GiB"})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set by the user, but the config changed the GC percent to %d", got)
	}
	applyRuntime(config.RuntimeConfig{GCPercent: 400, MemoryLimitMiB: 64}, nil)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Fatalf("GC percent %d, want 400 from the config", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Fatalf("memory limit %d, want 64 MiB from the config", got)
	}
}
