package h1

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// memConn is a net.Conn reading from a fixed input and collecting output.
type memConn struct {
	in  io.Reader
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)         { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)        { return c.out.Write(p) }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzServeConn runs a whole connection over arbitrary client bytes: the
// request parser, body decoding (Content-Length, chunked, 100-continue) and
// the response writer. It must not panic or hang, every request the handler
// sees is well formed, and every byte the server sends is a sequence of
// well-formed responses.
func FuzzServeConn(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /a?b=c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n",
		"PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n",
		"HEAD /k HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET http://b.s3.amazonaws.com/k%20x HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\ncontent-type: t\r\n\r\n",
		"\r\nGET / HTTP/1.1\nHost: h\n\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var methods []string
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			methods = append(methods, r.Method)
			if !validToken(r.Method) || r.URL == nil || r.Header == nil || r.Body == nil {
				t.Fatalf("malformed request reached the handler: %+v", r)
			}
			n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			switch n % 3 {
			case 0:
				io.WriteString(w, "ok")
			case 1:
				w.WriteHeader(201)
				w.(http.Flusher).Flush()
				io.WriteString(w, "streamed")
			default:
				w.WriteHeader(204)
			}
		})
		s := New(Config{Handler: handler, MaxHeaderBytes: 8192})
		mc := &memConn{in: bytes.NewReader(data)}
		c := newConn(s, mc)
		s.wg.Add(1)
		c.serve()
		// What was sent parses as responses up to its end.
		br := bufio.NewReader(bytes.NewReader(mc.out.Bytes()))
		for i := 0; ; {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			m := "GET"
			if i < len(methods) {
				m = methods[i]
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: m})
			if err != nil {
				t.Fatalf("server sent a malformed response: %v\n%q", err, mc.out.Bytes())
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatalf("server sent a malformed body: %v\n%q", err, mc.out.Bytes())
			}
			resp.Body.Close()
			if resp.StatusCode >= 200 {
				i++
			}
		}
	})
}
