package httpx

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServeLeanH1AndH2C: HTTP/1.1 goes to the lean server, h2c with prior
// knowledge to net/http, one handler behind both; Shutdown stops both.
func TestServeLeanH1AndH2C(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	})
	s := ServeLean("aws", ln, h, slog.New(slog.DiscardHandler))
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	s.HTTPServer().Protocols = p
	s.Start()
	url := "http://" + s.Addr().String() + "/"

	get := func(tr *http.Transport) string {
		t.Helper()
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	h1 := &http.Transport{}
	defer h1.CloseIdleConnections()
	if got := get(h1); got != "HTTP/1.1" {
		t.Fatalf("HTTP/1.1 request served as %q", got)
	}
	h2p := new(http.Protocols)
	h2p.SetUnencryptedHTTP2(true)
	h2 := &http.Transport{Protocols: h2p}
	defer h2.CloseIdleConnections()
	if got := get(h2); got != "HTTP/2.0" {
		t.Fatalf("h2c request served as %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("still accepting after Shutdown")
	}
}
