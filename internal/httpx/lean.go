package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"skyhub/internal/httpx/h1"
)

// ServeLean serves h on ln with the lean HTTP/1.1 server (package h1);
// connections that open with the HTTP/2 preface go to the net/http server
// that HTTPServer returns (set its Protocols for h2c). Shutdown drains both.
func ServeLean(name string, ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	s := Serve(name, ln, h, log)
	s.h2ln = h1.NewChanListener(ln.Addr())
	s.lean = h1.New(h1.Config{
		Handler:           h,
		H2:                s.h2ln.Put,
		ReadHeaderTimeout: s.srv.ReadHeaderTimeout,
		IdleTimeout:       s.srv.IdleTimeout,
		Log:               log,
	})
	return s
}

func (s *Server) startLean() {
	h2done := make(chan error, 1)
	go func() { h2done <- s.srv.Serve(s.h2ln) }()
	go func() {
		err := s.lean.Serve(s.ln)
		if errors.Is(err, h1.ErrServerClosed) {
			err = nil
		}
		if e := <-h2done; err == nil && e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
		s.done <- err
	}()
}

func (s *Server) shutdownLean(ctx context.Context) error {
	err := s.lean.Shutdown(ctx)
	// The h2 server's connections (and its chan listener) drain the same way.
	if e := s.srv.Shutdown(ctx); e != nil {
		s.srv.Close()
		if err == nil {
			err = e
		}
	}
	s.h2ln.Close()
	select {
	case e := <-s.done:
		if err == nil {
			err = e
		}
	case <-time.After(5 * time.Second):
	}
	return err
}
