package interop

import (
	"encoding/base64"
	"net"
)

var s3Dialer = &net.Dialer{}

func s3B64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
