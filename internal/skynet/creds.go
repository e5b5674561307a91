package skynet

import "net/http"

// HeaderCredentials returns the device credentials a request carries in
// its headers (HTTP Basic uuid:token, Bearer, meshblu_auth_*, skynet_auth_*,
// X-Meshblu-*), for other Skyhub HTTP APIs that act on behalf of a device.
// ok is false when there are none; the caller still has to authenticate
// them against the registry.
func HeaderCredentials(r *http.Request) (uuid, token string, ok bool) {
	c := headerCreds(r)
	return c.uuid, c.token, c.present()
}
