// Package app is Skyhub's composition root: the only package that builds
// every component from the Config, wires them together, starts the
// listeners, and stops everything in order. Each service has one file here
// (skynet.go, wamp.go, aws.go, ...) with its mount function; nothing else
// imports this package but cmd/skyhub and the tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"skyhub/internal/config"
	"skyhub/internal/httpx"
	"skyhub/internal/hub"
	"skyhub/internal/kv"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/obs"
	"skyhub/internal/sqs"
)

// InMemory as the data directory keeps all state in memory (tests).
const InMemory = ":memory:"

// App is a running (or ready to run) Skyhub.
type App struct {
	Cfg     config.Config
	Log     *slog.Logger
	Metrics *prometheus.Registry
	KV      kv.Store
	// Mux is the main listener's router (SkyNet, WAMP WebSocket, dashboard,
	// /metrics, /healthz).
	Mux *http.ServeMux
	// AWS is the AWS edge's handler, set by mountAWS; nil disables the edge.
	AWS http.Handler
	// SkyNetHub is the SkyNet message hub, set by mountSkyNet (which runs
	// before mountWAMP): the WAMP bridge and other services join it.
	SkyNetHub *hub.Hub
	// SQS is set by mountSQS: S3 bucket notifications (and other services)
	// enqueue through it, looking it up when they send (nil: SQS not mounted).
	SQS sqs.Sender

	listeners []listener
	servers   []*httpx.Server
	// rawListeners are closed first at shutdown; their owners close the
	// connections they accepted in their OnClose functions.
	rawListeners []net.Listener
	closers      []namedCloser // closed in reverse order of registration
	// stoppers run first at shutdown, before the HTTP drain: they end
	// long-lived responses (streams, long polls) that would hold the drain.
	stoppers []func()
	mu       sync.Mutex
	addrs    map[string]string
	closed   bool
}

type listener struct {
	name string
	addr string
	// serve, for non-HTTP listeners (RawSocket): runs until ln is closed.
	serve   func(ln net.Listener)
	handler http.Handler
	// h2c enables cleartext HTTP/2 on an HTTP listener.
	h2c bool
}

type namedCloser struct {
	name string
	fn   func(ctx context.Context) error
}

// New builds every component. Nothing listens until Start.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = obs.Discard()
	}
	a := &App{
		Cfg:     cfg,
		Log:     log,
		Metrics: obs.NewRegistry(),
		Mux:     http.NewServeMux(),
		addrs:   map[string]string{},
	}
	var store *pebblekv.Store
	var err error
	if cfg.DataDir == InMemory {
		store, err = pebblekv.Open(pebblekv.Config{InMemory: true})
	} else {
		if err = os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		store, err = pebblekv.Open(pebblekv.Config{Dir: filepath.Join(cfg.DataDir, "kv")})
	}
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	a.KV = store
	a.OnClose("storage", func(context.Context) error { return store.Close() })

	a.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	a.Mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))

	for _, m := range []struct {
		name  string
		mount func(context.Context) error
	}{
		{"skynet", a.mountSkyNet},
		{"wamp", a.mountWAMP},
		{"aws", a.mountAWS},
	} {
		if err := m.mount(ctx); err != nil {
			a.Close(context.Background())
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
	}
	a.addHTTP("http", a.hostPort(cfg.Port), a.Mux, false)
	if a.AWS != nil && cfg.AWS.Port != 0 {
		a.addHTTP("aws", a.hostPort(cfg.AWS.Port), a.AWS, true)
	}
	return a, nil
}

// DataPath returns a path under the data directory for a component's own
// files (S3 object bytes), creating the directory; in memory mode it returns
// a fresh temporary directory removed on Close.
func (a *App) DataPath(name string) (string, error) {
	if a.Cfg.DataDir == InMemory {
		dir, err := os.MkdirTemp("", "skyhub-"+name+"-")
		if err != nil {
			return "", err
		}
		a.OnClose(name+" temp dir", func(context.Context) error { return os.RemoveAll(dir) })
		return dir, nil
	}
	dir := filepath.Join(a.Cfg.DataDir, name)
	return dir, os.MkdirAll(dir, 0o755)
}

// OnClose registers fn to run at shutdown, after the listeners have stopped,
// in reverse order of registration (so storage, registered first, closes last).
func (a *App) OnClose(name string, fn func(ctx context.Context) error) {
	a.closers = append(a.closers, namedCloser{name, fn})
}

// OnStop registers fn to run at the very start of shutdown, before the
// listeners drain: it should end long-lived responses (HTTP streams, long
// polls) so that the drain does not wait for them until the timeout.
func (a *App) OnStop(fn func()) {
	a.stoppers = append(a.stoppers, fn)
}

// AddListener registers a non-HTTP listener (RawSocket) started by Start.
func (a *App) AddListener(name string, port int, serve func(ln net.Listener)) {
	a.listeners = append(a.listeners, listener{name: name, addr: a.hostPort(port), serve: serve})
}

// AddHTTPListener registers an extra HTTP listener (WAMP universal port).
func (a *App) AddHTTPListener(name string, port int, h http.Handler) {
	a.addHTTP(name, a.hostPort(port), h, false)
}

func (a *App) addHTTP(name, addr string, h http.Handler, h2c bool) {
	a.listeners = append(a.listeners, listener{name: name, addr: addr, handler: h, h2c: h2c})
}

func (a *App) hostPort(port int) string {
	return net.JoinHostPort(a.Cfg.Host, strconv.Itoa(port))
}

// Start binds every listener and serves in the background. If one fails to
// bind, those already bound are closed and the error returned.
func (a *App) Start() error {
	var lns []net.Listener
	for _, l := range a.listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return fmt.Errorf("%s listener on %s: %w", l.name, l.addr, err)
		}
		lns = append(lns, ln)
	}
	for i, l := range a.listeners {
		ln := lns[i]
		a.mu.Lock()
		a.addrs[l.name] = ln.Addr().String()
		a.mu.Unlock()
		if l.serve != nil {
			a.rawListeners = append(a.rawListeners, ln)
			go l.serve(ln)
			continue
		}
		var s *httpx.Server
		if l.name == "aws" && a.Cfg.AWS.HTTPServer != "net/http" {
			// The AWS edge: lean HTTP/1.1, h2c handed to net/http below.
			s = httpx.ServeLean(l.name, ln, l.handler, a.Log)
		} else {
			s = httpx.Serve(l.name, ln, l.handler, a.Log)
		}
		if l.h2c {
			p := new(http.Protocols)
			p.SetHTTP1(true)
			p.SetUnencryptedHTTP2(true)
			s.HTTPServer().Protocols = p
		}
		s.Start()
		a.servers = append(a.servers, s)
	}
	return nil
}

// Addr returns the bound address of a listener ("http", "aws", ...), or "".
func (a *App) Addr(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addrs[name]
}

// Addrs returns every bound listener, sorted by name.
func (a *App) Addrs() [][2]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][2]string
	for n, ad := range a.addrs {
		out = append(out, [2]string{n, ad})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Close stops accepting, drains in-flight HTTP requests until ctx ends, then
// closes every component in reverse order, storage last.
func (a *App) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	var errList []error
	for _, fn := range a.stoppers {
		fn()
	}
	for _, ln := range a.rawListeners {
		ln.Close()
	}
	for _, s := range a.servers {
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errList = append(errList, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		c := a.closers[i]
		if err := c.fn(ctx); err != nil {
			errList = append(errList, fmt.Errorf("close %s: %w", c.name, err))
		}
	}
	return errors.Join(errList...)
}
