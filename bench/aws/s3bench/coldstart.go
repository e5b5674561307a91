package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// coldStart starts bin on a fresh data directory runs times and reports
// the time from exec to the first 200 from /healthz (polled every 1 ms) and
// the process's RSS one second later, idle.
func coldStart(bin string, runs int) error {
	if bin == "" {
		return fmt.Errorf("-bin is required")
	}
	var times []time.Duration
	var rss []int
	for i := 0; i < runs; i++ {
		dir, err := os.MkdirTemp("", "skyhub-cold-")
		if err != nil {
			return err
		}
		port, aws, raw := freePort(), freePort(), freePort()
		cmd := exec.Command(bin, "serve", "-data", dir)
		cmd.Env = append(os.Environ(), "SKYHUB_HOST=127.0.0.1", "SKYHUB_PORT="+strconv.Itoa(port),
			"SKYHUB_AWS_PORT="+strconv.Itoa(aws), "SKYHUB_WAMP_RAW_PORT="+strconv.Itoa(raw), "SKYHUB_LOG_LEVEL=error")
		hc := &http.Client{Timeout: 100 * time.Millisecond}
		url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		ok := false
		for time.Since(t0) < 10*time.Second {
			resp, err := hc.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok = true
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		d := time.Since(t0)
		time.Sleep(time.Second)
		rss = append(rss, rssKiB(cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
		if !ok {
			return fmt.Errorf("skyhub did not become healthy")
		}
		times = append(times, d)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	sort.Ints(rss)
	fmt.Printf("cold-start skyhub median %.1f ms min %.1f ms max %.1f ms (%d runs)\n", ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), len(times))
	fmt.Printf("idle-rss skyhub median %d KiB (%d runs)\n", rss[len(rss)/2], len(rss))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
