package h1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// start serves h on a loopback port; the server shuts down at cleanup.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return s, ln.Addr().String()
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func readResp(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// echo answers "METHOD path?query host body" and a few headers.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(400)
		fmt.Fprint(w, "body error: ", err)
		return
	}
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-Len", fmt.Sprint(r.ContentLength))
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s %s %s", r.Method, r.URL.RequestURI(), r.Host, b)
})

func TestKeepAliveAndPipelining(t *testing.T) {
	_, addr := start(t, Config{Handler: echo})
	c, br := dial(t, addr)
	// Three pipelined requests in one write, answered in order on one connection.
	io.WriteString(c, "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"+
		"PUT /c%20d HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok")
	for _, want := range []string{"GET /a?x=1 h ", "POST /b h hello", "PUT /c%20d h ok"} {
		resp, body := readResp(t, br, "GET")
		if resp.StatusCode != 200 || body != want || resp.ContentLength != int64(len(want)) || resp.Close {
			t.Fatalf("got %d %q (len %d close %v), want %q", resp.StatusCode, body, resp.ContentLength, resp.Close, want)
		}
		if resp.Header.Get("Date") == "" {
			t.Fatal("no Date header")
		}
	}
	// And the connection is still usable afterwards.
	io.WriteString(c, "GET /again HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, body := readResp(t, br, "GET"); body != "GET /again h " {
		t.Fatalf("after pipelining: %q", body)
	}
}

func TestChunkedInAndOut(t *testing.T) {
	const big = 200 << 10
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil || r.ContentLength != -1 || len(r.TransferEncoding) != 1 {
			w.WriteHeader(400)
			return
		}
		if r.URL.Path == "/flush" {
			io.WriteString(w, "first-")
			w.(http.Flusher).Flush()
			io.WriteString(w, string(b))
			return
		}
		// More than the buffer: streams chunked.
		for i := 0; i < big/len(b); i++ {
			w.Write(b)
		}
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "POST /flush HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n")
	resp, body := readResp(t, br, "POST")
	if body != "first-abcde" || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("flush: %q %v", body, resp.TransferEncoding)
	}
	io.WriteString(c, "POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n"+strings.Repeat("z", 1024)+"\r\n0\r\n\r\n")
	resp, body = readResp(t, br, "POST")
	if len(body) != big || strings.Trim(body, "z") != "" || resp.ContentLength != -1 {
		t.Fatalf("big: %d bytes, content length %d", len(body), resp.ContentLength)
	}
}

func TestStreamingWithContentLength(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	sum := sha256.Sum256(data)
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		for p := data; len(p) > 0; p = p[32<<10:] {
			if _, err := w.Write(p[:32<<10]); err != nil {
				return
			}
		}
	})})
	// net/http's client against the server.
	resp, err := http.Get("http://" + addr + "/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.ContentLength != int64(len(data)) || sha256.Sum256(got) != sum {
		t.Fatalf("got %d bytes (Content-Length %d)", len(got), resp.ContentLength)
	}
}

func TestExpectContinue(t *testing.T) {
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reject" {
			w.WriteHeader(403)
			io.WriteString(w, "no")
			return
		}
		echo(w, r)
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "PUT /obj HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim: %q %v", line, err)
	}
	if l, _ := br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("interim end: %q", l)
	}
	io.WriteString(c, "data")
	if resp, body := readResp(t, br, "PUT"); resp.StatusCode != 200 || body != "PUT /obj h data" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	// A handler that answers without reading: no 100 Continue, and the
	// connection closes (the client may still be waiting to send).
	io.WriteString(c, "PUT /reject HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	resp, body := readResp(t, br, "PUT")
	if resp.StatusCode != 403 || body != "no" || !resp.Close {
		t.Fatalf("reject: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection still open after a rejected 100-continue: %v", err)
	}
	// And through net/http's client, which waits for the interim response.
	req, _ := http.NewRequest("PUT", "http://"+addr+"/x", strings.NewReader("payload"))
	req.Header.Set("Expect", "100-continue")
	cl := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "PUT /x "+addr+" payload" {
		t.Fatalf("client: %q", b)
	}
}

func TestHeadAndNoBodyStatuses(t *testing.T) {
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/obj":
			w.Header().Set("Content-Length", "1234")
			w.Header().Set("ETag", `"e"`)
		case "/written":
			io.WriteString(w, "twelve bytes")
		case "/204":
			w.WriteHeader(204)
		}
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "HEAD /obj HTTP/1.1\r\nHost: h\r\n\r\nHEAD /written HTTP/1.1\r\nHost: h\r\n\r\nGET /204 HTTP/1.1\r\nHost: h\r\n\r\nGET /written HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, body := readResp(t, br, "HEAD")
	if resp.ContentLength != 1234 || body != "" || resp.Header.Get("Etag") != `"e"` {
		t.Fatalf("head: %d %q", resp.ContentLength, body)
	}
	if resp, _ = readResp(t, br, "HEAD"); resp.ContentLength != 12 {
		t.Fatalf("head of a written body: %d", resp.ContentLength)
	}
	if resp, _ = readResp(t, br, "GET"); resp.StatusCode != 204 || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("204: %d %v", resp.StatusCode, resp.Header)
	}
	// Had HEAD sent a body, this would read it as the next response.
	if resp, body = readResp(t, br, "GET"); resp.StatusCode != 200 || body != "twelve bytes" {
		t.Fatalf("after HEAD: %d %q", resp.StatusCode, body)
	}
}

func TestBadRequestsCloseTheConnection(t *testing.T) {
	_, addr := start(t, Config{Handler: echo, MaxHeaderBytes: 4096})
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"garbage", "HELLO\r\n\r\n", 400},
		{"bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost: h\r\nX-A : b\r\n\r\n", 400},
		{"no colon", "GET / HTTP/1.1\r\nHost: h\r\nnonsense\r\n\r\n", 400},
		{"control in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\x01c\r\n\r\n", 400},
		{"bad length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
		{"two lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
		{"bad target", "GET http://[::1 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"gzip transfer", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"http/2.0 line", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
		{"huge header", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("a", 5000) + "\r\n\r\n", 431},
		{"many headers", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-A: bbbbbbbbbbbbbbbbbbbb\r\n", 300) + "\r\n", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dial(t, addr)
			io.WriteString(c, tc.req)
			resp, _ := readResp(t, br, "GET")
			if resp.StatusCode != tc.status || !resp.Close {
				t.Fatalf("got %d close=%v, want %d and close", resp.StatusCode, resp.Close, tc.status)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("connection left open: %v", err)
			}
		})
	}
	// A broken chunked body: the handler sees the error, the connection closes.
	c, br := dial(t, addr)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
	resp, body := readResp(t, br, "POST")
	if resp.StatusCode != 400 || !strings.Contains(body, "malformed chunked") || !resp.Close {
		t.Fatalf("bad chunk: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
}

func TestAbsoluteFormAndHTTP10(t *testing.T) {
	_, addr := start(t, Config{Handler: echo})
	c, br := dial(t, addr)
	// boto 2 through its proxy setting: absolute-form target, origin in it.
	io.WriteString(c, "GET http://bucket.s3.amazonaws.com/key?acl HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n")
	if _, body := readResp(t, br, "GET"); body != "GET /key?acl bucket.s3.amazonaws.com " {
		t.Fatalf("absolute form: %q", body)
	}
	// HTTP/1.0 with keep-alive stays open; without it the server closes.
	io.WriteString(c, "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	resp, _ := readResp(t, br, "GET")
	if resp.Close || resp.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("1.0 keep-alive: close=%v %v", resp.Close, resp.Header)
	}
	io.WriteString(c, "GET /k HTTP/1.0\r\n\r\n")
	if resp, _ = readResp(t, br, "GET"); !resp.Close {
		t.Fatal("1.0 without keep-alive not closed")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection left open: %v", err)
	}
	// Connection: close on 1.1.
	c, br = dial(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	if resp, _ = readResp(t, br, "GET"); !resp.Close {
		t.Fatal("Connection: close not honoured")
	}
}

func TestPanicAnswers500(t *testing.T) {
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Partial", "1")
		panic("boom")
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, _ := readResp(t, br, "GET")
	if resp.StatusCode != 500 || !resp.Close || resp.Header.Get("X-Partial") != "" {
		t.Fatalf("%d close=%v %v", resp.StatusCode, resp.Close, resp.Header)
	}
}

func TestShutdownDrains(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	s := New(Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done")
	})})
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	addr := ln.Addr().String()
	idle, idleBR := dial(t, addr)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	readResp(t, idleBR, "GET")
	busy, busyBR := dial(t, addr)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	// The idle connection is closed, new connections are refused.
	if _, err := idleBR.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("still accepting")
	}
	select {
	case <-shut:
		t.Fatal("Shutdown returned with a request in flight")
	default:
	}
	close(release)
	resp, body := readResp(t, busyBR, "GET")
	if body != "done" || !resp.Close {
		t.Fatalf("in-flight: %q close=%v", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

func TestH2PrefaceHandedOver(t *testing.T) {
	got := make(chan string, 1)
	var h1Calls atomic.Int32
	_, addr := start(t, Config{
		Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { h1Calls.Add(1) }),
		H2: func(c net.Conn) {
			defer c.Close()
			b := make([]byte, 24+4)
			_, err := io.ReadFull(c, b)
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(b)
			c.Write([]byte("h2!"))
		},
	})
	c, br := dial(t, addr)
	io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nabcd")
	if s := <-got; s != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nabcd" {
		t.Fatalf("h2 handler read %q", s)
	}
	if b, _ := io.ReadAll(br); string(b) != "h2!" || h1Calls.Load() != 0 {
		t.Fatalf("reply %q, h1 handler calls %d", b, h1Calls.Load())
	}
}

func TestIdleTimeout(t *testing.T) {
	_, addr := start(t, Config{Handler: echo, IdleTimeout: 50 * time.Millisecond, ReadHeaderTimeout: 50 * time.Millisecond})
	c, br := dial(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	readResp(t, br, "GET")
	if _, err := br.ReadByte(); err != io.EOF { // closed by the server, not by our 10 s deadline
		t.Fatalf("idle connection: %v", err)
	}
	// A header that never completes is cut off too.
	c, br = dial(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n")
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("slow header: %v", err)
	}
}

func TestBodyReadDeadlineThroughResponseController(t *testing.T) {
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := io.ReadAll(r.Body)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			w.WriteHeader(408)
			return
		}
		w.WriteHeader(200)
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
	if resp, _ := readResp(t, br, "PUT"); resp.StatusCode != 408 || !resp.Close {
		t.Fatalf("stalled body: %d close=%v", resp.StatusCode, resp.Close)
	}
}

func TestChunkedWithContentLengthCloses(t *testing.T) {
	_, addr := start(t, Config{Handler: echo})
	c, br := dial(t, addr)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, body := readResp(t, br, "POST")
	if body != "POST / h ab" || !resp.Close {
		t.Fatalf("%q close=%v", body, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("second request served: %v", err)
	}
}

func TestStreamingHandlerSeesClientGone(t *testing.T) {
	ended := make(chan error, 1)
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "event")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(5 * time.Second):
			ended <- errors.New("handler not told that the client left")
		}
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	c.Close()
	if err := <-ended; err != context.Canceled {
		t.Fatal(err)
	}
}

func TestStreamingKeepsPipelinedRequest(t *testing.T) {
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond) // the next request arrives meanwhile
		io.WriteString(w, "-end")
	})})
	c, br := dial(t, addr)
	io.WriteString(c, "GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n")
	for _, want := range []string{"/one-end", "/two-end"} {
		if _, body := readResp(t, br, "GET"); body != want {
			t.Fatalf("got %q, want %q", body, want)
		}
	}
}

func TestLongPollSeesClientGone(t *testing.T) {
	ended := make(chan error, 1)
	_, addr := start(t, Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select { // a long poll: nothing written until something happens
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(5 * time.Second):
			ended <- errors.New("handler not told that the client left")
		}
	})})
	c, _ := dial(t, addr)
	io.WriteString(c, "POST /poll HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if err := <-ended; err != context.Canceled {
		t.Fatal(err)
	}
}

func TestShortRequestStartingLikeThePreface(t *testing.T) {
	_, addr := start(t, Config{Handler: echo, H2: func(c net.Conn) { c.Close() }, ReadHeaderTimeout: 100 * time.Millisecond})
	c, br := dial(t, addr)
	// 14 bytes, a prefix of nothing but itself: must not wait for 16.
	io.WriteString(c, "P / HTTP/1.0\n\n")
	resp, body := readResp(t, br, "GET")
	if resp.StatusCode != 200 || body != "P /  " {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	// A client that stops inside the preface is cut off by the header timeout.
	c, br = dial(t, addr)
	io.WriteString(c, "PRI * HTTP/2")
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("answer to a partial preface")
	}
}

func TestHeaderComplete(t *testing.T) {
	for in, want := range map[string]bool{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n": true,
		"GET / HTTP/1.1\nHost: h\n\n":       true,
		"GET / HTTP/1.1\r\nHost: h\n\r\n":   true,
		"GET / HTTP/1.1\r\nHost: h\r\n":     false,
		"\r\n\r\nGET / HTTP/1.1\r\n":        false,
		"\n\nGET / HTTP/1.1\r\nHost":        false,
	} {
		if headerComplete([]byte(in)) != want {
			t.Errorf("headerComplete(%q) != %v", in, want)
		}
	}
}
