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
	rate := flag.Float64("rate", 1000, "paced: publishes per second (token bucket)")
	k := flag.Int("k", 3000, "idle: sessions to open; churn: connect/disconnect cycles")
	hold := flag.Duration("hold", 5*time.Second, "idle: how long to hold the sessions open")
	binary := flag.Bool("binary", false, "rpc: send the payload as binary ([]byte) instead of a string")
	npat := flag.Int("patterns", 1000, "patterns: prefix and wildcard subscriptions/registrations")
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
	var arg any = payload
	if *binary {
		arg = []byte(payload)
		if s == serialize.JSON {
			arg = serialize.BinaryData(payload)
		}
	}
	switch *mode {
	case "rpc":
		err = rpc(ctx, *url, *realm, s, *conc, *dur, arg, *size, *name)
	case "pubsub":
		err = pubsub(ctx, *url, *realm, s, *subs, *n, 0, payload, *name)
	case "paced":
		err = pubsub(ctx, *url, *realm, s, *subs, *n, *rate, payload, *name)
	case "idle":
		err = idle(ctx, *url, *realm, s, *k, *hold, *name)
	case "churn":
		err = churn(ctx, *url, *realm, s, *k, *name)
	case "patterns":
		err = patterns(ctx, *url, *realm, s, *npat, *dur, *name)
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

func rpc(ctx context.Context, url, realm string, s serialize.Serialization, conc int, dur time.Duration, payload any, size int, name string) error {
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
	rate := float64(total.Load()) / dur.Seconds()
	fmt.Printf("%s %.0f calls/s p50=%v p99=%v MB/s=%.1f\n", name, rate,
		percentile(all, 0.5).Round(time.Microsecond), percentile(all, 0.99).Round(time.Microsecond),
		rate*float64(2*size)/1e6)
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func pubsub(ctx context.Context, url, realm string, s serialize.Serialization, nsubs, n int, rate float64, payload, name string) error {
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
	tb := newBucket(rate)
	for range n {
		tb.wait()
		if err := pub.Publish(topic, nil, wamp.List{payload, time.Now().UnixNano()}, nil); err != nil {
			return err
		}
	}
	want := int64(n * nsubs)
	// Wait until every delivery arrived or nothing moved for 10 s (on a
	// loaded machine the generator itself can stall for seconds).
	const quiet = 10 * time.Second
	last, lastChange := int64(-1), time.Now()
	for got.Load() < want && time.Since(lastChange) < quiet {
		if g := got.Load(); g != last {
			last, lastChange = g, time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(t0)
	if got.Load() < want {
		elapsed -= quiet
	}
	all := slices.Concat(lats...)
	fmt.Printf("%s %.0f deliveries/s p50=%v p99=%v lost=%d\n", name, float64(got.Load())/elapsed.Seconds(),
		percentile(all, 0.5).Round(time.Microsecond), percentile(all, 0.99).Round(time.Microsecond), want-got.Load())
	return nil
}

// bucket paces publishes with a token bucket (rate 0: unpaced), so a late
// wake-up is caught up instead of lost as with a plain ticker.
type bucket struct {
	rate  float64
	start time.Time
	sent  float64
}

func newBucket(rate float64) *bucket { return &bucket{rate: rate, start: time.Now()} }

func (b *bucket) wait() {
	if b.rate <= 0 {
		return
	}
	b.sent++
	due := b.start.Add(time.Duration(b.sent / b.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
}

// idle opens k sessions, reports the setup rate, and holds them for hold
// (the bench script reads the router's RSS and threads meanwhile; it
// waits for the line "idle-ready").
func idle(ctx context.Context, url, realm string, s serialize.Serialization, k int, hold time.Duration, name string) error {
	t0 := time.Now()
	clients := make([]*client.Client, 0, k)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	sem := make(chan struct{}, 32)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, url, realm, s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			clients = append(clients, c)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	setup := time.Since(t0)
	fmt.Fprintf(os.Stderr, "idle-ready %d\n", len(clients))
	fmt.Printf("%s %.0f sessions/s opened=%d\n", name, float64(len(clients))/setup.Seconds(), len(clients))
	os.Stdout.Sync()
	time.Sleep(hold)
	return nil
}

// churn connects, subscribes and registers, then disconnects, k times
// (8 at a time).
func churn(ctx context.Context, url, realm string, s serialize.Serialization, k int, name string) error {
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(k) {
					return
				}
				err := func() error {
					c, err := dial(ctx, url, realm, s)
					if err != nil {
						return err
					}
					defer c.Close()
					if err := c.Subscribe(fmt.Sprintf("bench.churn.t%d", w), func(*wamp.Event) {}, nil); err != nil {
						return err
					}
					return c.Register(fmt.Sprintf("bench.churn.p%d.%d", w, i), func(context.Context, *wamp.Invocation) client.InvokeResult {
						return client.InvokeResult{}
					}, nil)
				}()
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("%s %.0f cycles/s cycles=%d\n", name, float64(k)/time.Since(t0).Seconds(), k)
	return nil
}

// patterns registers npat prefix and npat wildcard subscriptions and
// registrations that do not match, plus one of each that does, then
// measures publish->event and call rates through those tables.
func patterns(ctx context.Context, url, realm string, s serialize.Serialization, npat int, dur time.Duration, name string) error {
	owner, err := dial(ctx, url, realm, s)
	if err != nil {
		return err
	}
	defer owner.Close()
	for i := range npat {
		if err := owner.Subscribe(fmt.Sprintf("bench.pat.p%d", i), func(*wamp.Event) {}, wamp.Dict{"match": "prefix"}); err != nil {
			return err
		}
		if err := owner.Subscribe(fmt.Sprintf("bench.pat..w%d", i), func(*wamp.Event) {}, wamp.Dict{"match": "wildcard"}); err != nil {
			return err
		}
		h := func(context.Context, *wamp.Invocation) client.InvokeResult { return client.InvokeResult{} }
		if err := owner.Register(fmt.Sprintf("bench.patp.p%d", i), h, wamp.Dict{"match": "prefix"}); err != nil {
			return err
		}
		if err := owner.Register(fmt.Sprintf("bench.patw..w%d", i), h, wamp.Dict{"match": "wildcard"}); err != nil {
			return err
		}
	}
	var got atomic.Int64
	if err := owner.Subscribe("bench.pat", func(*wamp.Event) { got.Add(1) }, wamp.Dict{"match": "prefix"}); err != nil {
		return err
	}
	if err := owner.Register("bench.patp.hit", func(_ context.Context, inv *wamp.Invocation) client.InvokeResult {
		return client.InvokeResult{Args: inv.Arguments}
	}, wamp.Dict{"match": "prefix"}); err != nil {
		return err
	}
	pc, err := dial(ctx, url, realm, s)
	if err != nil {
		return err
	}
	defer pc.Close()
	// Calls through the registration table, sequential.
	end := time.Now().Add(dur / 2)
	calls := 0
	var lats []time.Duration
	for time.Now().Before(end) {
		t0 := time.Now()
		if _, err := pc.Call(ctx, "bench.patp.hit.x", nil, wamp.List{1}, nil, nil); err != nil {
			return err
		}
		lats = append(lats, time.Since(t0))
		calls++
	}
	// Publishes through the subscription table.
	t0 := time.Now()
	sent := 0
	for time.Since(t0) < dur/2 {
		if err := pc.Publish("bench.pat.x.y", nil, wamp.List{1}, nil); err != nil {
			return err
		}
		sent++
	}
	last, lastChange := int64(-1), time.Now()
	for got.Load() < int64(sent) && time.Since(lastChange) < 10*time.Second {
		if g := got.Load(); g != last {
			last, lastChange = g, time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("%s %.0f calls/s p50=%v p99=%v events/s=%.0f lost=%d\n", name, float64(calls)/(dur/2).Seconds(),
		percentile(lats, 0.5).Round(time.Microsecond), percentile(lats, 0.99).Round(time.Microsecond),
		float64(got.Load())/time.Since(t0).Seconds(), int64(sent)-got.Load())
	return nil
}
