// Command wamp-load drives any WAMP router (Skyhub's or nexusd) with the
// nexus Go client, so both are measured by the same generator: RPC
// throughput and latency (mode rpc) and event fan-out (mode pubsub), as in
// specs/wamp.md 6.4 (S1-S3, S5). It prints one line per scenario:
//
//	name value unit p50 p99 [lost=N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gammazero/nexus/v3/client"
	"github.com/gammazero/nexus/v3/transport/serialize"
	"github.com/gammazero/nexus/v3/wamp"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:3000/ws", "router URL (ws:// or tcp://)")
	realm := flag.String("realm", "realm1", "realm")
	ser := flag.String("ser", "json", "json, msgpack or cbor")
	mode := flag.String("mode", "rpc", "rpc or pubsub")
	conc := flag.Int("c", 16, "rpc: concurrent callers (one session each)")
	dur := flag.Duration("d", 4*time.Second, "rpc: measured duration")
	subs := flag.Int("subs", 16, "pubsub: subscribers")
	n := flag.Int("n", 20000, "pubsub: events published back to back")
	size := flag.Int("size", 64, "payload bytes")
	name := flag.String("name", "", "scenario name")
	flag.Parse()
	s, ok := map[string]serialize.Serialization{"json": serialize.JSON, "msgpack": serialize.MSGPACK, "cbor": serialize.CBOR}[*ser]
	if !ok {
		fmt.Fprintln(os.Stderr, "wamp-load: unknown serializer", *ser)
		os.Exit(2)
	}
	if *name == "" {
		*name = fmt.Sprintf("%s-%s", *mode, *ser)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur+90*time.Second)
	defer cancel()
	var err error
	payload := strings.Repeat("x", *size)
	switch *mode {
	case "rpc":
		err = rpc(ctx, *url, *realm, s, *conc, *dur, payload, *name)
	case "pubsub":
		err = pubsub(ctx, *url, *realm, s, *subs, *n, payload, *name)
	default:
		err = errors.New("unknown mode " + *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wamp-load:", err)
		os.Exit(1)
	}
}

func dial(ctx context.Context, url, realm string, s serialize.Serialization) (*client.Client, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return client.ConnectNet(cctx, url, client.Config{Realm: realm, Serialization: s, ResponseTimeout: 30 * time.Second})
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func rpc(ctx context.Context, url, realm string, s serialize.Serialization, conc int, dur time.Duration, payload, name string) error {
	callee, err := dial(ctx, url, realm, s)
	if err != nil {
		return err
	}
	defer callee.Close()
	proc := "bench.echo"
	if err := callee.Register(proc, func(_ context.Context, inv *wamp.Invocation) client.InvokeResult {
		return client.InvokeResult{Args: inv.Arguments}
	}, nil); err != nil {
		return err
	}
	callers := make([]*client.Client, conc)
	for i := range callers {
		if callers[i], err = dial(ctx, url, realm, s); err != nil {
			return err
		}
		defer callers[i].Close()
	}
	var total atomic.Int64
	lats := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	warm := time.Now().Add(500 * time.Millisecond)
	end := warm.Add(dur)
	for i, c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := wamp.List{payload}
			for {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				if _, err := c.Call(ctx, proc, nil, args, nil, nil); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				if t0.After(warm) {
					lats[i] = append(lats[i], time.Since(t0))
					total.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	all := slices.Concat(lats...)
	fmt.Printf("%s %.0f calls/s p50=%v p99=%v\n", name, float64(total.Load())/dur.Seconds(),
		percentile(all, 0.5).Round(time.Microsecond), percentile(all, 0.99).Round(time.Microsecond))
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func pubsub(ctx context.Context, url, realm string, s serialize.Serialization, nsubs, n int, payload, name string) error {
	topic := "bench.topic"
	var got atomic.Int64
	lats := make([][]time.Duration, nsubs)
	var lmu sync.Mutex
	for i := range nsubs {
		c, err := dial(ctx, url, realm, s)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Subscribe(topic, func(ev *wamp.Event) {
			if len(ev.Arguments) > 1 {
				if ns, ok := wamp.AsInt64(ev.Arguments[1]); ok {
					lmu.Lock()
					lats[i] = append(lats[i], time.Since(time.Unix(0, ns)))
					lmu.Unlock()
				}
			}
			got.Add(1)
		}, nil); err != nil {
			return err
		}
	}
	pub, err := dial(ctx, url, realm, s)
	if err != nil {
		return err
	}
	defer pub.Close()
	t0 := time.Now()
	for range n {
		if err := pub.Publish(topic, nil, wamp.List{payload, time.Now().UnixNano()}, nil); err != nil {
			return err
		}
	}
	want := int64(n * nsubs)
	// Wait until every delivery arrived or nothing moved for 2 s.
	last, lastChange := int64(-1), time.Now()
	for got.Load() < want && time.Since(lastChange) < 2*time.Second {
		if g := got.Load(); g != last {
			last, lastChange = g, time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(t0)
	if got.Load() < want {
		elapsed -= 2 * time.Second
	}
	all := slices.Concat(lats...)
	fmt.Printf("%s %.0f deliveries/s p50=%v p99=%v lost=%d\n", name, float64(got.Load())/elapsed.Seconds(),
		percentile(all, 0.5).Round(time.Microsecond), percentile(all, 0.99).Round(time.Microsecond), want-got.Load())
	return nil
}
