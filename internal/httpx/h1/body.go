package h1

import (
	"errors"
	"io"
	"net/http"
)

type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyLength
	bodyChunked
)

// body is a request body: Content-Length or chunked, read from the
// connection's buffered reader.
type body struct {
	c    *conn
	kind bodyKind
	// left is what remains of the Content-Length body, or of the current
	// chunk's data.
	left              int64
	inChunk           bool // a chunk's data ends in left bytes (then CRLF)
	expect, continued bool // Expect: 100-continue, and whether it was answered
	eof, closed       bool
	err               error
}

var errBadChunk = errors.New("h1: malformed chunked request body")

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.read(p)
}

// Close implements io.Closer; the server discards what is left.
func (b *body) Close() error {
	b.closed = true
	return nil
}

func (b *body) read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.expect && !b.continued {
		b.continued = true
		if w := b.c.cur; w != nil && !w.committed {
			b.c.out = append(b.c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
			if !b.c.flush() {
				b.err = b.c.werr
				return 0, b.err
			}
		}
	}
	switch b.kind {
	case bodyLength:
		return b.readLength(p)
	case bodyChunked:
		return b.readChunked(p)
	}
	b.setEOF()
	return 0, io.EOF
}

func (b *body) readLength(p []byte) (int, error) {
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.c.br.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		b.setEOF()
		return n, io.EOF
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		b.err = err
	}
	return n, err
}

func (b *body) readChunked(p []byte) (int, error) {
	if !b.inChunk {
		size, err := b.chunkHeader()
		if err != nil {
			b.err = err
			return 0, err
		}
		if size == 0 {
			if err := b.trailers(); err != nil {
				b.err = err
				return 0, err
			}
			b.setEOF()
			return 0, io.EOF
		}
		b.left, b.inChunk = size, true
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.c.br.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		b.inChunk = false
		// The chunk's data ends in CRLF.
		line, lerr := b.c.readLine(2)
		if lerr != nil || len(line) != 0 {
			b.err = errBadChunk
			if lerr != nil && lerr != errTooLarge {
				b.err = lerr
			}
			return n, b.err
		}
		return n, nil
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		b.err = err
	}
	return n, err
}

// chunkHeader reads "size[;ext]" and returns size.
func (b *body) chunkHeader() (int64, error) {
	line, err := b.c.readLine(4096)
	if err != nil {
		if err == errTooLarge {
			return 0, errBadChunk
		}
		if err == io.EOF {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, err
	}
	for i, ch := range line {
		if ch == ';' {
			line = line[:i]
			break
		}
	}
	for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
		line = line[:len(line)-1]
	}
	if len(line) == 0 || len(line) > 15 {
		return 0, errBadChunk
	}
	var n int64
	for _, ch := range line {
		var d byte
		switch {
		case '0' <= ch && ch <= '9':
			d = ch - '0'
		case 'a' <= ch && ch <= 'f':
			d = ch - 'a' + 10
		case 'A' <= ch && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, errBadChunk
		}
		n = n<<4 | int64(d)
	}
	return n, nil
}

// trailers reads (and drops) the trailer section up to its empty line.
func (b *body) trailers() error {
	total := 0
	for {
		line, err := b.c.readLine(8192)
		if err != nil {
			if err == errTooLarge {
				return errBadChunk
			}
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if total += len(line); total > 64<<10 {
			return errBadChunk
		}
	}
}

func (b *body) setEOF() {
	b.eof = true
	b.c.bodyDone.Store(true)
}
