package runner

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestRunCountsOpsAndErrors(t *testing.T) {
	r := Run(context.Background(), "x", "t", 2, 10*time.Millisecond, 50*time.Millisecond, func(ctx context.Context, w, i int) error {
		time.Sleep(time.Millisecond)
		if i%2 == 1 {
			return errors.New("odd")
		}
		return nil
	})
	if r.Ops == 0 || r.Errors == 0 || r.FirstErr == nil || r.P50 < time.Millisecond {
		t.Fatalf("%+v", r)
	}
	if !Loopback("http://127.0.0.1:1") || Loopback("http://10.0.0.1:1") || !Loopback("http://localhost:2") {
		t.Fatal("loopback check")
	}
}

func TestProcCPUOfThisProcess(t *testing.T) {
	start := ProcCPU(os.Getpid())
	for deadline := time.Now().Add(100 * time.Millisecond); time.Now().Before(deadline); {
	}
	if got := ProcCPU(os.Getpid()); got <= start {
		t.Fatalf("CPU time did not grow: %v then %v", start, got)
	}
	if ProcCPU(0) != 0 {
		t.Fatal("pid 0 has CPU time")
	}
}
