package h1

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

type atomicState struct{ atomic.Int32 }

// parseError is a request the server answers with status and closes.
type parseError struct {
	status string // "400 Bad Request"
	msg    string
}

func (e *parseError) Error() string { return e.status + ": " + e.msg }

func badRequest(msg string) error {
	return &parseError{status: "400 Bad Request", msg: msg}
}

// exchange is one request and its response: a single allocation.
type exchange struct {
	req  http.Request
	url  url.URL
	body body
	w    response
	vals [12]string // backing store for single-valued headers (12: the exchange fills the 768-byte size class)
}

// readRequest reads and parses the next request header.
func (c *conn) readRequest() (*exchange, error) {
	limit := c.s.cfg.MaxHeaderBytes
	blk := c.hdrBlock[:0]
	var line []byte
	var err error
	for skipped := 0; ; skipped++ {
		line, err = c.readLine(limit)
		if err != nil || len(line) > 0 || skipped >= 4 {
			break
		}
	}
	if err != nil {
		return nil, c.readErr(err)
	}
	blk = append(blk, line...)
	blk = append(blk, '\n')
	nlines := 0
	for {
		line, err = c.readLine(limit - len(blk))
		if err != nil {
			c.hdrBlock = blk[:0]
			return nil, c.readErr(err)
		}
		if len(line) == 0 {
			break
		}
		blk = append(blk, line...)
		blk = append(blk, '\n')
		nlines++
	}
	if cap(blk) <= 64<<10 {
		c.hdrBlock = blk[:0]
	}
	if cap(c.hdr) > 64<<10 {
		c.hdr = nil
	}
	ex := &exchange{}
	if err := c.parse(ex, string(blk), nlines); err != nil {
		return nil, err
	}
	return ex, nil
}

func (c *conn) readErr(err error) error {
	if errors.Is(err, errTooLarge) {
		return &parseError{status: "431 Request Header Fields Too Large", msg: "request header too large"}
	}
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parse fills ex from the header block s (lines ending in '\n').
func (c *conn) parse(ex *exchange, s string, nlines int) error {
	ex.req = *c.tmpl // carries the connection's context
	r := &ex.req
	nl := strings.IndexByte(s, '\n')
	reqLine, rest := s[:nl], s[nl+1:]
	// Request line: METHOD SP target SP HTTP/x.y
	sp1 := strings.IndexByte(reqLine, ' ')
	if sp1 <= 0 {
		return badRequest("malformed request line")
	}
	sp2 := strings.LastIndexByte(reqLine, ' ')
	if sp2 <= sp1+1 {
		return badRequest("malformed request line")
	}
	method, target, proto := reqLine[:sp1], reqLine[sp1+1:sp2], reqLine[sp2+1:]
	if !validToken(method) {
		return badRequest("invalid method")
	}
	switch proto {
	case "HTTP/1.1":
		r.ProtoMajor, r.ProtoMinor = 1, 1
	case "HTTP/1.0":
		r.ProtoMajor, r.ProtoMinor = 1, 0
	default:
		if len(proto) == 8 && strings.HasPrefix(proto, "HTTP/") && proto[6] == '.' && isDigit(proto[5]) && isDigit(proto[7]) {
			return &parseError{status: "505 HTTP Version Not Supported", msg: "unsupported protocol version"}
		}
		return badRequest("malformed HTTP version")
	}
	r.Proto = proto
	r.Method = method
	r.RequestURI = target
	if err := parseTarget(&ex.url, method, target); err != nil {
		return err
	}
	r.URL = &ex.url

	// Header lines.
	h := make(http.Header, nlines)
	vals := ex.vals[:0]
	if nlines > len(ex.vals) {
		vals = make([]string, 0, nlines)
	}
	var host string
	hosts := 0
	for len(rest) > 0 {
		nl = strings.IndexByte(rest, '\n')
		line := rest[:nl]
		rest = rest[nl+1:]
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return badRequest("malformed header line")
		}
		name := line[:colon]
		if !validToken(name) {
			return badRequest("invalid header name")
		}
		v := trimOWS(line[colon+1:])
		if !validValue(v) {
			return badRequest("invalid header value")
		}
		key := canonicalKey(name)
		if key == "Host" {
			host = v
			hosts++
		}
		if old, ok := h[key]; ok {
			h[key] = append(old, v)
			continue
		}
		vals = append(vals, v)
		h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	r.Header = h
	if hosts > 1 {
		return badRequest("too many Host headers")
	}
	if r.ProtoMinor == 1 && hosts == 0 {
		return badRequest("missing required Host header")
	}
	delete(h, "Host")
	if ex.url.Host != "" {
		r.Host = ex.url.Host
	} else {
		r.Host = host
	}
	if !validHost(r.Host) {
		return badRequest("malformed Host header")
	}

	// Connection management.
	r.Close = r.ProtoMinor == 0
	for _, v := range h["Connection"] {
		if hasToken(v, "close") {
			r.Close = true
		} else if r.ProtoMinor == 0 && hasToken(v, "keep-alive") {
			r.Close = false
		}
	}

	// Body framing.
	b := &ex.body
	b.c = c
	if te, ok := h["Transfer-Encoding"]; ok {
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return &parseError{status: "501 Not Implemented", msg: "unsupported transfer encoding"}
		}
		delete(h, "Transfer-Encoding")
		if _, both := h["Content-Length"]; both {
			// Framed two ways: serve it as chunked, then close (no
			// smuggled second request can follow).
			delete(h, "Content-Length")
			r.Close = true
		}
		r.TransferEncoding = chunkedTE
		r.ContentLength = -1
		b.kind = bodyChunked
	} else if cl, ok := h["Content-Length"]; ok {
		n, ok := parseLength(cl[0])
		for _, v := range cl[1:] {
			if v != cl[0] {
				ok = false
			}
		}
		if !ok {
			return badRequest("invalid Content-Length")
		}
		r.ContentLength = n
		if n > 0 {
			b.kind = bodyLength
			b.left = n
		}
	}
	if b.kind == bodyNone {
		r.Body = http.NoBody
	} else {
		r.Body = b
		if ev, ok := h["Expect"]; ok && r.ProtoMinor == 1 {
			if len(ev) == 1 && strings.EqualFold(ev[0], "100-continue") {
				b.expect = true
			}
		}
	}
	r.RemoteAddr = c.remote
	ex.w.init(c, ex)
	return nil
}

var chunkedTE = []string{"chunked"}

// parseTarget fills u from the request target: origin form made only of
// characters that need no escaping is taken as is; anything else goes
// through url.ParseRequestURI, as net/http does.
func parseTarget(u *url.URL, method, target string) error {
	if target == "" {
		return badRequest("empty request target")
	}
	if target[0] == '/' {
		simple := true
		q := len(target)
		for i := 0; i < len(target); i++ {
			ch := target[i]
			if ch == '?' {
				q = i
				break
			}
			if !pathSafe[ch] {
				simple = false
				break
			}
		}
		if simple {
			u.Path = target[:q]
			if q < len(target) {
				rq := target[q+1:]
				for i := 0; i < len(rq); i++ {
					if rq[i] < 0x21 || rq[i] == 0x7f || rq[i] == '#' {
						simple = false
						break
					}
				}
				if simple {
					u.RawQuery = rq
					u.ForceQuery = rq == ""
					return nil
				}
			} else {
				return nil
			}
		}
	}
	if method == http.MethodConnect {
		return badRequest("CONNECT is not supported")
	}
	pu, err := url.ParseRequestURI(target)
	if err != nil {
		return badRequest("malformed request target")
	}
	*u = *pu
	return nil
}

// pathSafe are the bytes url.URL.EscapedPath leaves as they are.
var pathSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-_.~/$&+,:;=@" {
		t[c] = true
	}
	return
}()

// tokenChar are RFC 9110 tchar.
var tokenChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return
}()

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch < 0x20 && ch != '\t' || ch == 0x7f {
			return false
		}
	}
	return true
}

// validHost rejects Host values with bytes no host name, IP literal or port
// contains (as net/http does).
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		ch := h[i]
		if ch <= ' ' || ch == 0x7f || ch == '/' || ch == '\\' || ch == '"' || ch == '<' || ch == '>' || ch == '{' || ch == '}' || ch == '|' || ch == '^' || ch == '`' {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func parseLength(s string) (int64, bool) {
	s = trimOWS(s)
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds tok.
func hasToken(v, tok string) bool {
	for v != "" {
		var t string
		t, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(trimOWS(t), tok) {
			return true
		}
	}
	return false
}

// canonicalKey is http.CanonicalHeaderKey without allocating for names
// already canonical or among the common ones.
func canonicalKey(name string) string {
	upper := true
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if upper && 'a' <= ch && ch <= 'z' || !upper && 'A' <= ch && ch <= 'Z' {
			if len(name) <= 64 {
				var buf [64]byte
				b := buf[:len(name)]
				for j := 0; j < len(name); j++ {
					ch := name[j]
					if 'A' <= ch && ch <= 'Z' {
						ch += 'a' - 'A'
					}
					b[j] = ch
				}
				if k, ok := commonKeys[string(b)]; ok { // no allocation for the lookup
					return k
				}
			}
			return http.CanonicalHeaderKey(name)
		}
		upper = ch == '-'
	}
	return name
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Host", "Content-Type", "Content-Length", "Content-Encoding", "Content-Md5",
		"Transfer-Encoding", "Connection", "Expect", "Accept", "Accept-Encoding", "User-Agent", "Authorization",
		"X-Amz-Date", "X-Amz-Target", "X-Amz-Content-Sha256", "X-Amz-Security-Token", "X-Amz-User-Agent",
		"X-Amz-Decoded-Content-Length", "X-Amz-Trailer", "X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Checksum-Crc32",
		"Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "X-Amz-Api-Version", "Range", "If-Match", "If-None-Match",
		"Smithy-Protocol", "Keep-Alive", "Date", "Origin"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()
