// Package runner is the generic closed-loop load runner the AWS load
// generators share: N workers call an operation as fast as it completes for
// a warm-up and then a measured window, and the result is one comparable
// line: "scenario target ops/s p50_ms p99_ms errors". Every run is bounded
// by its durations.
package runner

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one operation; worker and i identify the call (for distinct keys).
type Op func(ctx context.Context, worker, i int) error

// Result is the outcome of a run.
type Result struct {
	Scenario, Target string
	Ops, Errors      int64
	Elapsed          time.Duration
	P50, P99         time.Duration
	FirstErr         error
}

// PerSec returns completed operations per second.
func (r Result) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Line is the one-line report.
func (r Result) Line() string {
	return fmt.Sprintf("%s %s %.0f ops/s p50 %.2f ms p99 %.2f ms errors %d", r.Scenario, r.Target, r.PerSec(),
		float64(r.P50.Microseconds())/1000, float64(r.P99.Microseconds())/1000, r.Errors)
}

// Run drives op with conc workers for warm (unmeasured) then dur.
func Run(ctx context.Context, scenario, target string, conc int, warm, dur time.Duration, op Op) Result {
	var measuring atomic.Bool
	var ops, errCount atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	lats := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				err := op(ctx, w, i)
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					if errCount.Add(1) == 1 {
						firstErr.Store(err)
					}
					continue
				}
				ops.Add(1)
				if len(lats[w]) < 1<<20 {
					lats[w] = append(lats[w], d)
				}
			}
		}(w)
	}
	time.Sleep(warm)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(dur)
	measuring.Store(false)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := Result{Scenario: scenario, Target: target, Ops: ops.Load(), Errors: errCount.Load(), Elapsed: elapsed}
	if n := len(all); n > 0 {
		r.P50, r.P99 = all[n/2], all[n*99/100]
	}
	if e, ok := firstErr.Load().(error); ok {
		r.FirstErr = e
	}
	return r
}

// Loopback reports whether an endpoint URL points at this machine; load
// generators refuse anything else.
func Loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
