package sigv4

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ChunkOptions configure an aws-chunked decoder.
type ChunkOptions struct {
	// Signed verifies each chunk's chunk-signature (STREAMING-AWS4-HMAC-
	// SHA256-PAYLOAD[-TRAILER]); Key, AmzDate, Scope and Seed (the request's
	// own signature) must then be set.
	Signed  bool
	Key     []byte
	AmzDate string
	Scope   string
	Seed    string
	// MaxChunk bounds one chunk's size (16 MiB when zero).
	MaxChunk int64
	// Decoded is the payload length the request announced
	// (x-amz-decoded-content-length), 0 when unknown: a small body gets a
	// small read buffer instead of the 32 KiB one (a small PUT through an
	// SDK, which sends aws-chunked bodies, paid that allocation each time).
	Decoded int64
}

// ChunkedReader decodes an aws-chunked body:
// <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0...\r\n[trailers]\r\n.
type ChunkedReader struct {
	br       *bufio.Reader
	o        ChunkOptions
	left     int64 // bytes left in the current chunk
	chunkSig string
	h        hash.Hash
	prevSig  string
	done     bool
	err      error
	trailers http.Header
	n        int64
}

// NewChunkedReader returns a decoder over r.
func NewChunkedReader(r io.Reader, o ChunkOptions) *ChunkedReader {
	if o.MaxChunk == 0 {
		o.MaxChunk = 16 << 20
	}
	size := 32 << 10
	if o.Decoded > 0 && o.Decoded+1024 < int64(size) {
		size = max(int(o.Decoded)+1024, 4096) // payload, chunk lines and trailers
	}
	c := &ChunkedReader{br: bufio.NewReaderSize(r, size), o: o, prevSig: o.Seed, trailers: http.Header{}}
	if o.Signed {
		c.h = sha256.New()
	}
	return c
}

// Trailers returns the trailing headers (valid once Read returned io.EOF).
func (c *ChunkedReader) Trailers() http.Header { return c.trailers }

// Decoded returns how many payload bytes were read so far.
func (c *ChunkedReader) Decoded() int64 { return c.n }

func badChunk(msg string) error { return fail(BadChunk, msg) }

func (c *ChunkedReader) readLine() (string, error) {
	var line []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > 8192 {
			return "", badChunk("aws-chunked line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				if len(line) == 0 {
					return "", io.EOF
				}
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		break
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

func (c *ChunkedReader) chunkStringToSign(dataHash string) string {
	return "AWS4-HMAC-SHA256-PAYLOAD\n" + c.o.AmzDate + "\n" + c.o.Scope + "\n" + c.prevSig + "\n" +
		EmptySHA256 + "\n" + dataHash
}

func (c *ChunkedReader) verifyChunk() error {
	if !c.o.Signed {
		return nil
	}
	dh := hex.EncodeToString(c.h.Sum(nil))
	c.h.Reset()
	want := hex.EncodeToString(hmacSHA256(c.o.Key, c.chunkStringToSign(dh)))
	if !hmac.Equal([]byte(want), []byte(c.chunkSig)) {
		return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	c.prevSig = want
	return nil
}

func (c *ChunkedReader) header() error {
	line, err := c.readLine()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	sizeStr, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeStr), 16, 64)
	if err != nil || size < 0 || len(strings.TrimSpace(sizeStr)) > 16 {
		return badChunk("invalid aws-chunked size line")
	}
	if size > c.o.MaxChunk {
		return badChunk("aws-chunked chunk too large")
	}
	c.chunkSig = ""
	for _, e := range strings.Split(ext, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(e), "="); ok && k == "chunk-signature" {
			c.chunkSig = v
		}
	}
	if c.o.Signed && c.chunkSig == "" {
		return badChunk("missing chunk-signature")
	}
	c.left = size
	if size == 0 {
		if err := c.verifyChunk(); err != nil {
			return err
		}
		return c.readTrailers()
	}
	return nil
}

func (c *ChunkedReader) readTrailers() error {
	c.done = true
	var raw strings.Builder
	var trailerSig string
	for i := 0; ; i++ {
		if i > 64 {
			return badChunk("too many trailers")
		}
		line, err := c.readLine()
		if err == io.EOF {
			break // some clients omit the final CRLF
		}
		if err != nil {
			return err
		}
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return badChunk("invalid trailer line")
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if k == "x-amz-trailer-signature" {
			trailerSig = v
			continue
		}
		raw.WriteString(k + ":" + v + "\n")
		c.trailers.Add(k, v)
	}
	if c.o.Signed && trailerSig != "" {
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.o.AmzDate + "\n" + c.o.Scope + "\n" + c.prevSig + "\n" +
			sha256Hex([]byte(raw.String()))
		if !hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(c.o.Key, sts))), []byte(trailerSig)) {
			return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		}
	}
	return nil
}

// Read implements io.Reader over the decoded payload.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if c.done {
			c.err = io.EOF
			return 0, io.EOF
		}
		if err := c.header(); err != nil {
			c.err = err
			return 0, err
		}
		if c.done {
			c.err = io.EOF
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.n += int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && c.left == 0 {
		// The chunk's closing CRLF.
		line, lerr := c.readLine()
		if lerr != nil || line != "" {
			err = badChunk("aws-chunked data not followed by CRLF")
		} else if verr := c.verifyChunk(); verr != nil {
			err = verr
		}
	}
	if err != nil {
		c.err = err
	}
	return n, err
}
