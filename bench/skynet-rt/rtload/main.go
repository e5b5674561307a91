// Command rtload is the load generator for SkyNet's real-time transports:
// it connects devices over Socket.IO (EIO3 WebSocket), Socket.IO 0.9
// (WebSocket) or /ws/v2, identifies each one (auto-register), then either
// relays device-to-device messages (device i to device i+1; closed loop
// with a window per device, or open loop at a fixed aggregate rate) and
// prints messages/s with p50/p99 latency, or holds idle devices (printing
// READY) so the server's memory per idle device can be read.
//
// Output: one line per scenario, "scenario value unit p50 p99", as the
// limits loadgen prints, so results line up.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rtload relay|idle -transport eio|sio09|wsv2 -addr host:port [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	transport := fs.String("transport", "eio", "eio (Socket.IO over Engine.IO 3 WebSocket), sio09 (Socket.IO 0.9 WebSocket), wsv2")
	addr := fs.String("addr", "127.0.0.1:3000", "server host:port")
	conns := fs.Int("conns", 1000, "devices")
	window := fs.Int("window", 4, "closed loop: messages in flight per device")
	aggregate := fs.Float64("aggregate", 0, "open loop: messages/s over all devices (0 = closed loop)")
	size := fs.Int("size", 128, "approximate payload bytes")
	dur := fs.Duration("d", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up")
	hold := fs.Duration("hold", 60*time.Second, "idle: how long to hold the devices")
	name := fs.String("name", "", "scenario name")
	dialers := fs.Int("dialers", 32, "concurrent connection set-ups")
	serverPID := fs.Int("serverpid", 0, "relay: report this process's CPU per delivered message over the measured window (0 = off)")
	fs.Parse(os.Args[2:])
	if *name == "" {
		*name = *transport + "-" + mode
	}
	ctx, cancel := context.WithTimeout(context.Background(), *hold+*dur+*warmup+5*time.Minute)
	defer cancel()

	start := time.Now()
	devs, err := connectAll(ctx, *transport, *addr, *conns, *dialers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	fmt.Printf("# %d devices connected and identified over %s in %v\n", len(devs), *transport, time.Since(start).Round(time.Millisecond))
	switch mode {
	case "idle":
		fmt.Println("READY", len(devs))
		idle(ctx, devs, *hold)
	case "relay":
		relay(ctx, devs, *name, *window, *aggregate, *size, *dur, *warmup, *serverPID)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		os.Exit(2)
	}
	for _, d := range devs {
		d.c.CloseNow()
	}
}

// device is one connected, identified client.
type device struct {
	i     int
	tr    string
	c     *websocket.Conn
	uuid  string
	to    string // the uuid it sends to
	wmu   sync.Mutex
	slots chan struct{}
	lat   []int64
	recv  atomic.Int64
}

func connectAll(ctx context.Context, tr, addr string, n, par int) ([]*device, error) {
	devs := make([]*device, n)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			var d *device
			var err error
			for try := 0; try < 3; try++ {
				if d, err = connect(ctx, tr, addr, i); err == nil {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("device %d: %w", i, err)
			}
			devs[i] = d
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for i, d := range devs {
		d.to = devs[(i+1)%n].uuid
	}
	return devs, nil
}

// frame encodes an event for the transport.
func frame(tr, event string, arg []byte) []byte {
	var b bytes.Buffer
	switch tr {
	case "eio":
		b.WriteString(`42["` + event + `",`)
		b.Write(arg)
		b.WriteString("]")
	case "sio09":
		b.WriteString(`5:::{"name":"` + event + `","args":[`)
		b.Write(arg)
		b.WriteString("]}")
	case "wsv2":
		b.WriteString(`["` + event + `",`)
		b.Write(arg)
		b.WriteString("]")
	}
	return b.Bytes()
}

// event extracts (name, first arg) from a server frame; ok is false for
// transport-level frames (ping, heartbeat, connect).
func event(tr string, m []byte) (string, []byte, bool) {
	switch tr {
	case "eio":
		if !bytes.HasPrefix(m, []byte("42[")) {
			return "", nil, false
		}
		m = m[2:]
	case "sio09":
		if !bytes.HasPrefix(m, []byte("5:")) {
			return "", nil, false
		}
		i := bytes.Index(m, []byte(`{"name":`))
		if i < 0 {
			return "", nil, false
		}
		var ev struct {
			Name string            `json:"name"`
			Args []json.RawMessage `json:"args"`
		}
		if json.Unmarshal(m[i:], &ev) != nil || len(ev.Args) == 0 {
			return ev.Name, nil, ev.Name != ""
		}
		return ev.Name, ev.Args[0], true
	}
	var arr []json.RawMessage
	if json.Unmarshal(m, &arr) != nil || len(arr) == 0 {
		return "", nil, false
	}
	var name string
	json.Unmarshal(arr[0], &name)
	if len(arr) < 2 {
		return name, nil, true
	}
	return name, arr[1], true
}

func connect(ctx context.Context, tr, addr string, i int) (*device, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var url string
	switch tr {
	case "eio":
		url = "ws://" + addr + "/socket.io/?EIO=3&transport=websocket"
	case "sio09":
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/socket.io/1/?t=0", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		url = "ws://" + addr + "/socket.io/1/websocket/" + strings.Split(string(b), ":")[0]
	case "wsv2":
		url = "ws://" + addr + "/ws/v2"
	default:
		return nil, errors.New("unknown transport " + tr)
	}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	d := &device{i: i, tr: tr, c: c}
	// wait for identify, answer identity (auto-register), wait for ready
	sent := false
	for {
		_, m, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		name, arg, ok := event(tr, m)
		if !ok {
			continue
		}
		switch name {
		case "identify":
			if !sent {
				sent = true
				c.Write(ctx, websocket.MessageText, frame(tr, "identity", []byte(`{"type":"rtload"}`)))
			}
		case "ready":
			var r struct {
				UUID string `json:"uuid"`
			}
			json.Unmarshal(arg, &r)
			if r.UUID == "" {
				c.CloseNow()
				return nil, fmt.Errorf("ready without uuid: %s", m)
			}
			d.uuid = r.UUID
			return d, nil
		case "notReady":
			c.CloseNow()
			return nil, fmt.Errorf("notReady: %s", m)
		}
	}
}

func (d *device) write(ctx context.Context, b []byte) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.c.Write(ctx, websocket.MessageText, b)
}

// keepAlive answers or sends the transport's heartbeats.
func (d *device) keepAlive(ctx context.Context, m []byte) {
	switch {
	case d.tr == "sio09" && bytes.Equal(m, []byte("2::")):
		d.write(ctx, []byte("2::"))
	}
}

func idle(ctx context.Context, devs []*device, hold time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, hold)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func(d *device) {
			defer wg.Done()
			go func() {
				// EIO3 clients ping; the others are pinged by the server
				if d.tr != "eio" {
					return
				}
				t := time.NewTicker(20 * time.Second)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						d.write(ctx, []byte("2"))
					}
				}
			}()
			for {
				_, m, err := d.c.Read(ctx)
				if err != nil {
					return
				}
				d.keepAlive(ctx, m)
			}
		}(d)
	}
	wg.Wait()
}

var measuring atomic.Bool

func relay(ctx context.Context, devs []*device, name string, window int, aggregate float64, size int, dur, warmup time.Duration, serverPID int) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pad := strings.Repeat("x", max(0, size-60))
	index := map[string]*device{}
	for _, d := range devs {
		index[d.uuid] = d
		d.slots = make(chan struct{}, window)
		for k := 0; k < window; k++ {
			d.slots <- struct{}{}
		}
	}
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func(d *device) { // reader
			defer wg.Done()
			for {
				_, m, err := d.c.Read(ctx)
				if err != nil {
					return
				}
				name, arg, ok := event(d.tr, m)
				if !ok {
					d.keepAlive(ctx, m)
					continue
				}
				if name != "message" {
					continue
				}
				var msg struct {
					FromUUID string `json:"fromUuid"`
					Payload  struct {
						T int64 `json:"t"`
					} `json:"payload"`
				}
				if json.Unmarshal(arg, &msg) != nil {
					continue
				}
				if measuring.Load() {
					d.lat = append(d.lat, time.Now().UnixNano()-msg.Payload.T)
					d.recv.Add(1)
				}
				if from := index[msg.FromUUID]; from != nil && aggregate == 0 {
					select {
					case from.slots <- struct{}{}:
					default:
					}
				}
			}
		}(d)
	}
	send := func(d *device) error {
		arg := `{"devices":"` + d.to + `","payload":{"t":` + strconv.FormatInt(time.Now().UnixNano(), 10) + `,"p":"` + pad + `"}}`
		return d.write(ctx, frame(d.tr, "message", []byte(arg)))
	}
	if aggregate > 0 {
		// open loop: one pacer sends what is due every millisecond,
		// round-robin over the devices (as the limits loadgen paces)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			start := time.Now()
			var sent int64
			next := 0
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					due := int64(now.Sub(start).Seconds() * aggregate)
					for ; sent < due; sent++ {
						send(devs[next])
						next = (next + 1) % len(devs)
					}
				}
			}
		}()
	}
	for _, d := range devs {
		if aggregate > 0 {
			break
		}
		wg.Add(1)
		go func(d *device) { // sender
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-d.slots:
					if send(d) != nil {
						return
					}
				}
			}
		}(d)
	}
	time.Sleep(warmup)
	measuring.Store(true)
	t0 := time.Now()
	c0, cpuOK := cpuTicks(serverPID)
	time.Sleep(dur)
	c1, cpuOK1 := cpuTicks(serverPID)
	measuring.Store(false)
	el := time.Since(t0)
	cancel()
	for _, d := range devs {
		d.c.CloseNow()
	}
	wg.Wait()
	var all []int64
	var n int64
	for _, d := range devs {
		n += d.recv.Load()
		all = append(all, d.lat...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) string {
		if len(all) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fms", float64(all[int(float64(len(all)-1)*p)])/1e6)
	}
	if cpuOK && cpuOK1 && n > 0 {
		// clock ticks are 1/100 s on Linux (USER_HZ)
		cpu := float64(c1-c0) / 100
		fmt.Printf("# server CPU %.0f%% of a core, %.1f µs per delivered message\n", 100*cpu/el.Seconds(), 1e6*cpu/float64(n))
	}
	fmt.Printf("%-28s %12.0f %-8s %10s %10s\n", name, float64(n)/el.Seconds(), "msg/s", pct(0.50), pct(0.99))
}

// cpuTicks reads a process's user+system CPU time in clock ticks from
// /proc/<pid>/stat.
func cpuTicks(pid int) (int64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// fields after the command name (which may hold spaces) in parentheses
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64) // utime: field 14 of stat
	k, err2 := strconv.ParseInt(f[12], 10, 64) // stime: field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return u + k, true
}
