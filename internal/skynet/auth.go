package skynet

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// creds are the caller's claimed uuid and token, and whether they came from
// headers (Basic/Bearer/skynet_auth_*/meshblu_auth_*/X-Meshblu-*) rather
// than from the body or query string.
type creds struct {
	uuid, token string
	header      bool
}

func (c creds) present() bool { return c.uuid != "" && c.token != "" }

// headerCreds finds credentials in the request headers, in Meshblu 1.x's
// order: HTTP Basic uuid:token, Bearer base64(uuid:token), then the
// meshblu_auth_*, skynet_auth_* and X-Meshblu-* header pairs.
func headerCreds(r *http.Request) creds {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(scheme) {
		case "basic", "bearer":
			if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
				if u, t, ok := strings.Cut(string(b), ":"); ok {
					return creds{strings.TrimSpace(u), strings.TrimSpace(t), true}
				}
			}
			if strings.EqualFold(scheme, "bearer") {
				// a bare bearer token with the uuid in a header
				if u := firstHeader(r, "meshblu_auth_uuid", "skynet_auth_uuid", "X-Meshblu-UUID"); u != "" {
					return creds{u, rest, true}
				}
			}
		}
	}
	for _, pair := range [][2]string{
		{"meshblu_auth_uuid", "meshblu_auth_token"},
		{"skynet_auth_uuid", "skynet_auth_token"},
		{"X-Meshblu-UUID", "X-Meshblu-Token"},
	} {
		u, t := strings.TrimSpace(r.Header.Get(pair[0])), strings.TrimSpace(r.Header.Get(pair[1]))
		if u != "" || t != "" {
			return creds{u, t, true}
		}
	}
	return creds{}
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(r.Header.Get(n)); v != "" {
			return v
		}
	}
	return ""
}
