// Command skynet-load measures SkyNet's POST /messages throughput: N
// keep-alive HTTP clients, one request in flight each, for a fixed time.
// It registers its own sender and receiver devices, sends with header auth,
// and can hold the receiver's NDJSON /subscribe stream open (-stream) so
// every message is also delivered live. -mode bare posts a ~200-byte JSON
// body to a bare reference server (/work/shared/limits httpbare) with the
// same clients, for the ratio. Prints one line per run:
//
//	scenario value unit p50 p99
//
// Loopback only; bounded by -d + -warmup (+ 10 s of grace).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:3000", "server base URL")
	mode := flag.String("mode", "skynet", "skynet (POST /messages) or bare (POST / to httpbare)")
	conc := flag.Int("c", 16, "concurrent keep-alive clients")
	dur := flag.Duration("d", 10*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "unmeasured warm-up")
	stream := flag.Bool("stream", false, "skynet: keep the receiver's /subscribe stream open and drain it")
	name := flag.String("name", "", "scenario name")
	flag.Parse()
	if *name == "" {
		*name = fmt.Sprintf("%s-c%d", *mode, *conc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur+*warm+10*time.Second)
	defer cancel()
	if err := run(ctx, *base, *mode, *conc, *dur, *warm, *stream, *name); err != nil {
		fmt.Fprintln(os.Stderr, "skynet-load:", err)
		os.Exit(1)
	}
}

type target struct {
	url    string
	body   []byte
	header http.Header
}

func register(ctx context.Context, c *http.Client, base string) (uuid, token string, err error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/devices", bytes.NewReader([]byte(`{"type":"bench"}`)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var d struct{ UUID, Token string }
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.UUID == "" {
		return "", "", fmt.Errorf("register: status %d: %v", resp.StatusCode, err)
	}
	return d.UUID, d.Token, nil
}

func run(ctx context.Context, base, mode string, conc int, dur, warm time.Duration, stream bool, name string) error {
	tr := &http.Transport{MaxIdleConnsPerHost: conc + 2, MaxConnsPerHost: conc + 2}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var tg target
	switch mode {
	case "bare":
		data := make([]byte, 96)
		for i := range data {
			data[i] = byte('a' + i%26)
		}
		tg = target{url: base + "/", header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
			body: []byte(`{"StreamName":"skyhub-bench","PartitionKey":"device-000001","Data":"` + base64.StdEncoding.EncodeToString(data) + `"}`)}
	case "skynet":
		su, st, err := register(ctx, client, base)
		if err != nil {
			return err
		}
		ru, rt, err := register(ctx, client, base)
		if err != nil {
			return err
		}
		tg = target{url: base + "/messages",
			header: http.Header{"Content-Type": {"application/json"}, "Skynet_auth_uuid": {su}, "Skynet_auth_token": {st}},
			body:   []byte(`{"devices":"` + ru + `","topic":"bench","payload":{"temperature":21.5,"humidity":40,"device":"sensor-000001","seq":1}}`)}
		if stream {
			received := &atomic.Int64{}
			sctx, scancel := context.WithCancel(ctx)
			defer scancel()
			ready := make(chan error, 1)
			go drain(sctx, base, ru, rt, received, ready)
			if err := <-ready; err != nil {
				return err
			}
			defer func() { fmt.Printf("#   %s: stream received %d messages\n", name, received.Load()) }()
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}

	var phase atomic.Int32 // 0 warm-up, 1 measure, 2 done
	type result struct {
		lat        []time.Duration
		non2, errs int
	}
	results := make([]result, conc)
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			for phase.Load() != 2 && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", tg.url, bytes.NewReader(tg.body))
				req.Header = tg.header.Clone()
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					r.errs++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if phase.Load() != 1 {
					continue
				}
				if resp.StatusCode/100 != 2 {
					r.non2++
					continue
				}
				r.lat = append(r.lat, time.Since(t0))
			}
		}(&results[i])
	}
	time.Sleep(warm)
	phase.Store(1)
	t0 := time.Now()
	time.Sleep(dur)
	phase.Store(2)
	elapsed := time.Since(t0)
	wg.Wait()
	var all []time.Duration
	non2, errs := 0, 0
	for _, r := range results {
		all = append(all, r.lat...)
		non2 += r.non2
		errs += r.errs
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	q := func(p float64) string {
		if len(all) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fms", float64(all[int(p*float64(len(all)-1))])/1e6)
	}
	fmt.Printf("%s %.0f req/s %s %s\n", name, float64(len(all))/elapsed.Seconds(), q(0.50), q(0.99))
	fmt.Printf("#   %s: %d ok in %.2fs, %d non-2xx, %d errors, c=%d, body %d B\n", name, len(all), elapsed.Seconds(), non2, errs, conc, len(tg.body))
	return nil
}

// drain holds the receiver's NDJSON stream and counts the lines.
func drain(ctx context.Context, base, uuid, token string, n *atomic.Int64, ready chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/subscribe", nil)
	req.SetBasicAuth(uuid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ready <- err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		ready <- fmt.Errorf("subscribe: status %d", resp.StatusCode)
		return
	}
	ready <- nil
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		n.Add(1)
	}
}
