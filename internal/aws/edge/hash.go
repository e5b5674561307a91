package edge

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"

	"skyhub/internal/aws/sigv4"
)

func newSHA256() hash.Hash { return sha256.New() }

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// hashCheck fails the body's final read when its SHA-256 differs from the
// signed x-amz-content-sha256, so a tampered body is never stored.
type hashCheck struct {
	rc   io.ReadCloser
	want string
	h    hash.Hash
}

func (c *hashCheck) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(c.h.Sum(nil)) != c.want {
		return n, &sigv4.Error{Reason: sigv4.PayloadMismatch,
			Msg: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	return n, err
}

func (c *hashCheck) Close() error { return c.rc.Close() }
