package interop

import (
	"encoding/base64"
	"net"
)

var dialer = &net.Dialer{}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
