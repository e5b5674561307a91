package h1

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// response is the http.ResponseWriter of one exchange. The body is held in
// the connection's buffer until the handler returns (then it goes out with
// its Content-Length, headers and body in one write) or until it outgrows
// the buffer or the handler flushes (then the response streams: with the
// handler's Content-Length, else chunked, else until close for HTTP/1.0).
type response struct {
	c   *conn
	req *http.Request
	b   *body
	h   http.Header

	status      int
	wroteHeader bool // the status is fixed
	committed   bool // status line and headers are in c.out
	chunked     bool
	head        bool
	clen        int64 // the handler's Content-Length, or -1
	written     int64
	closeAfter  bool
	outStart    int // len(c.out) when this response began
}

func (w *response) init(c *conn, ex *exchange) {
	w.c, w.req, w.b, w.clen = c, &ex.req, &ex.body, -1
	w.head = ex.req.Method == http.MethodHead
	w.outStart = len(c.out)
	c.wbuf = c.wbuf[:0]
	c.cur = w
}

// Header implements http.ResponseWriter.
func (w *response) Header() http.Header {
	if w.h == nil {
		w.h = make(http.Header, 8)
	}
	return w.h
}

// WriteHeader implements http.ResponseWriter.
func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// Informational: sent at once, the final status follows.
		if code == http.StatusContinue {
			w.b.continued = true // the body must not send another
		}
		w.c.out = appendStatus(w.c.out, code)
		w.c.out = appendHeaders(w.c.out, w.h)
		w.c.out = append(w.c.out, crlf...)
		w.c.flush()
		return
	}
	w.status, w.wroteHeader = code, true
	if v, ok := w.h["Content-Length"]; ok && len(v) > 0 {
		if n, ok := parseLength(v[0]); ok {
			w.clen = n
		}
	}
}

func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// Write implements http.ResponseWriter.
func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.head {
		return len(p), nil
	}
	if !w.committed {
		if len(w.c.wbuf)+len(p) <= w.c.s.cfg.BufferBytes {
			w.c.wbuf = append(w.c.wbuf, p...)
			return len(p), nil
		}
		w.commit(false)
	}
	if err := w.emit(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString implements io.StringWriter.
func (w *response) WriteString(s string) (int, error) {
	if !w.committed && w.wroteHeader && !w.head && bodyAllowed(w.status) && w.clen < 0 && len(w.c.wbuf)+len(s) <= w.c.s.cfg.BufferBytes {
		w.written += int64(len(s))
		w.c.wbuf = append(w.c.wbuf, s...)
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// emit sends body bytes of a committed response in its framing.
func (w *response) emit(p []byte) error {
	if len(p) == 0 {
		return w.c.werr
	}
	if w.chunked {
		w.c.out = strconv.AppendInt(w.c.out, int64(len(p)), 16)
		w.c.out = append(w.c.out, crlf...)
		if err := w.c.write(p); err != nil {
			return err
		}
		w.c.out = append(w.c.out, crlf...)
		return w.c.werr
	}
	return w.c.write(p)
}

// Flush implements http.Flusher.
func (w *response) Flush() { w.FlushError() }

// FlushError flushes, reporting a failed connection.
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(false)
	}
	if !w.c.flush() {
		return w.c.werr
	}
	// A streamed response (an event stream): notice the client going away
	// while the handler waits for something to send.
	w.c.watch()
	return nil
}

// SetReadDeadline lets http.ResponseController bound body reads.
func (w *response) SetReadDeadline(t time.Time) error { return w.c.nc.SetReadDeadline(t) }

// SetWriteDeadline lets http.ResponseController bound writes.
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// EnableFullDuplex: reading the body while writing the response always works here.
func (w *response) EnableFullDuplex() error { return nil }

// commit puts the status line and headers into c.out and, for a final
// commit, the buffered body; a non-final one chooses streaming framing and
// sends the buffered body in it.
func (w *response) commit(final bool) {
	w.committed = true
	c := w.c
	h := w.h
	if h == nil {
		h = http.Header{}
		w.h = h
	}
	allowed := bodyAllowed(w.status)
	var clen int64 = -1
	switch {
	case !allowed:
		if w.status == http.StatusNotModified && w.clen >= 0 {
			clen = w.clen
		}
	case w.clen >= 0:
		clen = w.clen
		if final && !w.head && w.written < w.clen {
			w.closeAfter = true // the body is short; the client cannot reuse the connection
		}
	case final:
		if !w.head || w.written > 0 {
			clen = w.written
		}
	case w.head:
		// a flushed HEAD response: no body, no framing
	case w.req.ProtoMinor >= 1:
		w.chunked = true
	default:
		w.closeAfter = true // HTTP/1.0: the body ends with the connection
	}
	if allowed && len(c.wbuf) > 0 {
		if _, ok := h["Content-Type"]; !ok {
			if _, te := h["Transfer-Encoding"]; !te {
				h["Content-Type"] = []string{http.DetectContentType(c.wbuf)}
			}
		}
	}
	keep := !w.req.Close && !w.closeAfter && !c.s.shutting.Load()
	if v, ok := h["Connection"]; ok {
		for _, s := range v {
			if hasToken(s, "close") {
				keep = false
			}
		}
	}
	if b := w.b; b.kind != bodyNone && !b.eof {
		// An unusable or unread request body: the client cannot send its
		// next request on this connection.
		if b.err != nil || b.expect && !b.continued || b.kind == bodyLength && b.left > maxDiscard {
			keep = false
		}
	}
	if !keep {
		w.closeAfter = true
	}
	out := appendStatus(c.out, w.status)
	out = appendHeaders(out, h)
	if _, ok := h["Date"]; !ok {
		out = append(out, "Date: "...)
		out = append(out, c.s.date.get()...)
		out = append(out, crlf...)
	}
	if clen >= 0 && w.status != http.StatusNoContent {
		out = append(out, "Content-Length: "...)
		out = appendInt(out, clen)
		out = append(out, crlf...)
	}
	if w.chunked {
		out = append(out, "Transfer-Encoding: chunked\r\n"...)
	}
	if !keep {
		out = append(out, "Connection: close\r\n"...)
	} else if w.req.ProtoMinor == 0 {
		out = append(out, "Connection: keep-alive\r\n"...)
	}
	out = append(out, crlf...)
	c.out = out
	if final || w.head || !allowed {
		c.out = append(c.out, c.wbuf...)
		c.wbuf = c.wbuf[:0]
		return
	}
	if len(c.wbuf) > 0 {
		w.emit(c.wbuf)
		c.wbuf = c.wbuf[:0]
	}
}

// finish completes the response after the handler returned.
func (w *response) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(true)
	} else if w.chunked {
		w.c.out = append(w.c.out, "0\r\n\r\n"...)
	} else if w.clen >= 0 && !w.head && w.written < w.clen && bodyAllowed(w.status) {
		w.closeAfter = true
	}
	if cap(w.c.wbuf) > 1<<20 {
		w.c.wbuf = nil
	}
	w.c.cur = nil
}

// keep reports whether the connection may serve another request.
func (w *response) keep() bool { return !w.closeAfter }

func appendStatus(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = appendInt(b, int64(code))
	b = append(b, ' ')
	if t := http.StatusText(code); t != "" {
		b = append(b, t...)
	} else {
		b = append(b, "status code "...)
		b = appendInt(b, int64(code))
	}
	return append(b, crlf...)
}

// appendHeaders writes the handler's headers, except the framing ones the
// server decides, with CR and LF in values turned to spaces.
func appendHeaders(b []byte, h http.Header) []byte {
	for k, vs := range h {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		if !validToken(k) {
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			}
			b = append(b, v...)
			b = append(b, crlf...)
		}
	}
	return b
}
