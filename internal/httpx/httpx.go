// Package httpx holds Skyhub's HTTP plumbing: handlers that return errors,
// a listener-owning server with graceful shutdown, and body limits. Each wire
// package renders errors in its own protocol; httpx never chooses a format.
package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"skyhub/internal/httpx/h1"
)

// Server is one HTTP listener with graceful shutdown.
type Server struct {
	Name string
	srv  *http.Server
	ln   net.Listener
	log  *slog.Logger
	done chan error
	once sync.Once
	// lean, when set (ServeLean), serves HTTP/1.1; srv then serves only the
	// h2c connections handed over through h2ln.
	lean *h1.Server
	h2ln *h1.ChanListener
}

// Listen binds addr (":0" picks a free port) and prepares to serve h.
func Listen(name, addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return Serve(name, ln, h, log), nil
}

// Serve serves h on an existing listener.
func Serve(name string, ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	s := &Server{
		Name: name,
		ln:   ln,
		log:  log,
		done: make(chan error, 1),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
	}
	return s
}

// HTTPServer exposes the underlying server so a caller can set protocols
// (h2c) or connection hooks before Start.
func (s *Server) HTTPServer() *http.Server { return s.srv }

// Start serves in the background.
func (s *Server) Start() {
	if s.lean != nil {
		s.startLean()
		return
	}
	go func() {
		err := s.srv.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting, waits for in-flight requests until ctx ends, then
// closes what is left. Hijacked connections (WebSockets) are the owner's to
// close through RegisterOnShutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		if s.lean != nil {
			err = s.shutdownLean(ctx)
			return
		}
		err = s.srv.Shutdown(ctx)
		if err != nil {
			s.srv.Close()
		}
		if e := <-s.done; e != nil && err == nil {
			err = e
		}
	})
	return err
}

// HandlerFunc is an http handler that returns an error; Adapt renders it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ErrorWriter renders an error in one protocol's format.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Adapt turns h into an http.Handler whose errors go through ew.
func Adapt(ew ErrorWriter, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			ew(w, r, err)
		}
	})
}
