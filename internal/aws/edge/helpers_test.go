package edge

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
)

type httpDialer struct{}

func (httpDialer) dial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func validMethod(m string) bool {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}
