// Package apptest runs Skyhub for tests: in process (New, on in-memory
// storage and free ports) or as the real binary in a child process (Build,
// StartProc), so durability tests can kill -9 it and start it again.
package apptest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"skyhub/internal/app"
	"skyhub/internal/config"
	"skyhub/internal/obs"
)

// FreePort returns a TCP port that was free a moment ago on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreePorts returns n distinct TCP ports that were free a moment ago on
// 127.0.0.1 (held open together while chosen, so no two are the same).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// Config returns a test configuration: in-memory storage, loopback, free
// ports for every listener, a high rate limit and a cheap bcrypt cost.
func Config(t testing.TB) config.Config {
	c := config.Default()
	c.Host = "127.0.0.1"
	c.DataDir = app.InMemory
	p := FreePorts(t, 3)
	c.Port, c.AWS.Port, c.WAMP.RawSocketPort = p[0], p[1], p[2]
	c.RateLimit = 1000
	c.SkyNet.BcryptCost = 4
	c.Log.Level = "warn"
	return c
}

// New starts an in-process Skyhub with Config(t), changed by mutate when
// not nil, and closes it when the test ends.
func New(t testing.TB, mutate func(*config.Config)) *app.App {
	t.Helper()
	c := Config(t)
	if mutate != nil {
		mutate(&c)
	}
	log := obs.Discard()
	if testing.Verbose() {
		log = obs.NewLogger(os.Stderr, c.Log.Level, "text")
	}
	a, err := app.New(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a
}

// URL returns "http://" + the address of listener name ("http", "aws").
func URL(a *app.App, name string) string { return "http://" + a.Addr(name) }

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Build compiles cmd/skyhub once per test binary and returns its path.
func Build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		removeStaleBuilds()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("skyhub-bin-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "skyhub")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/skyhub")
		cmd.Dir = RepoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// removeStaleBuilds deletes the binaries that earlier test processes built
// (a test binary has no exit hook without TestMain): a "skyhub-bin-<pid>"
// directory whose process no longer runs is left over.
func removeStaleBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "skyhub-bin-*"))
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), "skyhub-bin-%d", &pid); err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

// RepoRoot returns the repository's top directory (where go.mod is).
func RepoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// Proc is Skyhub running as a child process.
type Proc struct {
	Cmd     *exec.Cmd
	DataDir string
	Ports   Ports
	Output  *strings.Builder
	mu      *sync.Mutex
	done    chan struct{}
}

// Ports are the ports a Proc listens on.
type Ports struct{ HTTP, AWS, RawSocket int }

// HTTP returns the main listener's base URL.
func (p *Proc) HTTP() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Ports.HTTP) }

// AWS returns the AWS edge's base URL.
func (p *Proc) AWS() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Ports.AWS) }

// Log returns what the process printed so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Output.String()
}

// StartProc starts the binary on dataDir with the given ports (zero ports
// are picked free) plus extra env, and waits until /healthz answers.
func StartProc(t testing.TB, dataDir string, ports Ports, env ...string) *Proc {
	t.Helper()
	bin := Build(t)
	free := FreePorts(t, 3)
	if ports.HTTP == 0 {
		ports.HTTP = free[0]
	}
	if ports.AWS == 0 {
		ports.AWS = free[1]
	}
	if ports.RawSocket == 0 {
		ports.RawSocket = free[2]
	}
	cmd := exec.Command(bin, "serve", "-data", dataDir)
	cmd.Env = append(os.Environ(),
		"SKYHUB_HOST=127.0.0.1",
		fmt.Sprintf("SKYHUB_PORT=%d", ports.HTTP),
		fmt.Sprintf("SKYHUB_AWS_PORT=%d", ports.AWS),
		fmt.Sprintf("SKYHUB_WAMP_RAW_PORT=%d", ports.RawSocket),
		"SKYHUB_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	p := &Proc{Cmd: cmd, DataDir: dataDir, Ports: ports, Output: &strings.Builder{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.Output.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.HTTP() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("skyhub exited during start:\n%s", p.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("skyhub did not become healthy:\n%s", p.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	if p.Cmd.Process != nil {
		p.Cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// Stop sends SIGTERM and waits; it returns the exit code.
func (p *Proc) Stop(t testing.TB) int {
	t.Helper()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.Kill()
		t.Fatal("skyhub did not stop within 30s of SIGTERM")
	}
	return p.Cmd.ProcessState.ExitCode()
}
