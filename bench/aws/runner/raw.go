package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RawConn is a lean HTTP/1.1 client for load generators: one keep-alive
// connection, requests written as prebuilt bytes, responses parsed just
// enough (status, Content-Length or chunked body, Connection: close). It
// costs a small fraction of net/http's client per request, so a load
// generator on one core is not the limit. One RawConn per worker; it is not
// safe for concurrent use. It redials after a closed or broken connection.
type RawConn struct {
	addr    string
	timeout time.Duration
	c       net.Conn
	br      *bufio.Reader
	body    []byte
}

// NewRawConn returns a client for addr, either "host:port" or an http URL
// ("http://127.0.0.1:4566"). It dials lazily on the first Do.
func NewRawConn(addr string) *RawConn {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	return &RawConn{addr: addr, timeout: 60 * time.Second}
}

// Close closes the connection (a later Do redials).
func (c *RawConn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c, c.br = nil, nil
	return err
}

// Do writes req (a complete HTTP/1.1 request, see BuildRequest) and reads
// the response. body is valid until the next Do. A request written on a
// reused connection that the server had already closed is retried once on a
// fresh one.
func (c *RawConn) Do(req []byte) (status int, body []byte, err error) {
	reused := c.c != nil
	status, body, err = c.do(req)
	if err != nil && reused && c.c == nil && retryable(err) {
		status, body, err = c.do(req)
	}
	return status, body, err
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func (c *RawConn) do(req []byte) (int, []byte, error) {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
		if err != nil {
			return 0, nil, err
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		c.c, c.br = nc, bufio.NewReaderSize(nc, 32<<10)
	}
	if c.timeout > 0 {
		c.c.SetDeadline(time.Now().Add(c.timeout))
	}
	if _, err := c.c.Write(req); err != nil {
		c.Close()
		return 0, nil, err
	}
	head := bytes.HasPrefix(req, []byte("HEAD "))
	status, body, keep, err := c.readResponse(head)
	if err != nil || !keep {
		c.Close()
	}
	return status, body, err
}

// readResponse reads one response, skipping 1xx interim responses.
func (c *RawConn) readResponse(head bool) (status int, body []byte, keep bool, err error) {
	for {
		line, err := c.line()
		if err != nil {
			return 0, nil, false, err
		}
		// "HTTP/1.1 200 OK"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return 0, nil, false, fmt.Errorf("raw: bad status line %q", line)
		}
		status, err = strconv.Atoi(string(line[9:12]))
		if err != nil {
			return 0, nil, false, fmt.Errorf("raw: bad status line %q", line)
		}
		keep = line[7] == '1'
		clen, chunked := int64(-1), false
		for {
			h, err := c.line()
			if err != nil {
				return 0, nil, false, err
			}
			if len(h) == 0 {
				break
			}
			i := bytes.IndexByte(h, ':')
			if i <= 0 {
				return 0, nil, false, fmt.Errorf("raw: bad header %q", h)
			}
			name, val := h[:i], bytes.TrimSpace(h[i+1:])
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				n, err := strconv.ParseInt(string(val), 10, 64)
				if err != nil || n < 0 {
					return 0, nil, false, fmt.Errorf("raw: bad Content-Length %q", val)
				}
				clen = n
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				chunked = bytes.EqualFold(val, []byte("chunked"))
			case bytes.EqualFold(name, []byte("Connection")):
				if bytes.EqualFold(val, []byte("close")) {
					keep = false
				} else if bytes.EqualFold(val, []byte("keep-alive")) {
					keep = true
				}
			}
		}
		if status >= 100 && status < 200 {
			continue
		}
		c.body = c.body[:0]
		switch {
		case head || status == 204 || status == 304:
		case chunked:
			if err := c.readChunked(); err != nil {
				return 0, nil, false, err
			}
		case clen >= 0:
			if int64(cap(c.body)) < clen {
				c.body = make([]byte, 0, clen)
			}
			c.body = c.body[:clen]
			if _, err := io.ReadFull(c.br, c.body); err != nil {
				return 0, nil, false, err
			}
		default:
			b, err := io.ReadAll(c.br)
			if err != nil {
				return 0, nil, false, err
			}
			c.body, keep = b, false
		}
		return status, c.body, keep, nil
	}
}

func (c *RawConn) readChunked() error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("raw: bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailers up to the empty line
				t, err := c.line()
				if err != nil {
					return err
				}
				if len(t) == 0 {
					return nil
				}
			}
		}
		start := len(c.body)
		c.body = append(c.body, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
			return err
		}
		if crlf, err := c.line(); err != nil || len(crlf) != 0 {
			return fmt.Errorf("raw: bad chunk end")
		}
	}
}

// line reads one CRLF- (or LF-) terminated line without its terminator; the
// slice is valid until the next read.
func (c *RawConn) line() ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(l) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	l = l[:len(l)-1]
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}

// BuildRequest assembles an HTTP/1.1 request with a Content-Length body.
// headers alternate name, value ("Content-Type", "application/json", ...);
// Host is required by HTTP/1.1 and comes first.
func BuildRequest(method, target, host string, body []byte, headers ...string) []byte {
	b := make([]byte, 0, 256+len(body))
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	for i := 0; i+1 < len(headers); i += 2 {
		b = append(b, headers[i]...)
		b = append(b, ": "...)
		b = append(b, headers[i+1]...)
		b = append(b, "\r\n"...)
	}
	if body != nil || method == "POST" || method == "PUT" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}
