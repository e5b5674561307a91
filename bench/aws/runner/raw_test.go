package runner

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRawConn(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part2"))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/head":
			w.Header().Set("Content-Length", "10")
		default:
			w.WriteHeader(201)
			w.Write([]byte(r.Method + ":" + string(b)))
		}
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c := NewRawConn(srv.URL)
	defer c.Close()
	for i := 0; i < 3; i++ {
		st, body, err := c.Do(BuildRequest("POST", "/x", host, []byte("hello"), "Content-Type", "text/plain"))
		if err != nil || st != 201 || string(body) != "POST:hello" {
			t.Fatalf("post: %d %q %v", st, body, err)
		}
	}
	st, body, err := c.Do(BuildRequest("GET", "/chunked", host, nil))
	if err != nil || st != 200 || string(body) != "part1-part2" {
		t.Fatalf("chunked: %d %q %v", st, body, err)
	}
	st, body, err = c.Do(BuildRequest("HEAD", "/head", host, nil))
	if err != nil || st != 200 || len(body) != 0 {
		t.Fatalf("head: %d %q %v", st, body, err)
	}
	if conns.Load() != 1 {
		t.Fatalf("keep-alive: %d connections", conns.Load())
	}
	st, body, err = c.Do(BuildRequest("GET", "/close", host, nil))
	if err != nil || st != 200 || string(body) != "bye" || c.c != nil {
		t.Fatalf("close: %d %q %v open=%v", st, body, err, c.c != nil)
	}
	st, _, err = c.Do(BuildRequest("GET", "/", host, nil))
	if err != nil || st != 201 || conns.Load() != 2 {
		t.Fatalf("redial: %d %v conns=%d", st, err, conns.Load())
	}
	// The server closes idle connections: the next Do retries on a new one.
	srv.CloseClientConnections()
	st, _, err = c.Do(BuildRequest("GET", "/", host, nil))
	if err != nil || st != 201 {
		t.Fatalf("after server close: %d %v", st, err)
	}
}
