// Package skynet is SkyNet's HTTP wire: the lecture-era REST API (register,
// get, query, update, delete devices; messages; events; HTTP streaming
// subscribe; status; ipaddress; authenticate; claimdevice; mydevices; sensor
// data), with its bugs fixed, every later auth style accepted, and the
// Meshblu HTTP subset (/v2/whoami, /v2/devices, PATCH updates, NDJSON
// /subscribe) that meshblu-http@10.2.0 uses. Errors are rendered once, as
// {"error":{"message","code"}} with HTTP status = code.
//
// The real-time event layer is skynet/events; its transports sit behind
// skynet/realtime.
package skynet

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/httpx"
	"skyhub/internal/hub"
	"skyhub/internal/skynet/events"
)

// Config configures the REST API.
type Config struct {
	Hub *hub.Hub
	// MaxBodyBytes bounds request bodies (413 past it); 0 means 1 MiB.
	MaxBodyBytes int64
	// StreamBuffer bounds each /subscribe stream's backlog of messages; a
	// stream that falls further behind is closed. 0 means 256.
	StreamBuffer int
	Log          *slog.Logger
}

// API is the SkyNet REST API.
type API struct {
	cfg Config
	hub *hub.Hub
	reg *device.Registry
	log *slog.Logger

	// streams are the open /subscribe streams, closed by Close.
	mu      sync.Mutex
	streams map[*stream]struct{}
	closed  bool
}

// New returns the API; mount it with Register.
func New(cfg Config) *API {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.StreamBuffer <= 0 {
		cfg.StreamBuffer = 256
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, hub: cfg.Hub, reg: cfg.Hub.Registry(), log: cfg.Log, streams: map[*stream]struct{}{}}
}

// Register mounts every route on mux.
func (a *API) Register(mux *http.ServeMux) {
	paths := map[string]bool{}
	var order []string
	h := func(pattern string, f httpx.HandlerFunc) {
		mux.Handle(pattern, a.wrap(f))
		_, path, _ := strings.Cut(pattern, " ")
		if !paths[path] {
			paths[path] = true
			order = append(order, path)
		}
	}
	defer func() {
		// CORS preflight for every path, as browsers send before a
		// cross-origin JSON POST or an auth header
		for _, path := range order {
			mux.Handle("OPTIONS "+path, http.HandlerFunc(preflight))
		}
	}()
	h("GET /status", a.status)
	h("GET /ipaddress", a.ipaddress)
	h("POST /devices", a.register)
	h("GET /devices", a.query)
	h("GET /devices/{uuid}", a.getDevice)
	h("PUT /devices/{uuid}", a.update)
	h("DELETE /devices/{uuid}", a.unregister)
	h("POST /devices/{uuid}/token", a.resetToken)
	h("GET /mydevices", a.mydevices)
	h("GET /mydevices/{uuid}", a.mydevices)
	h("GET /events/{uuid}", a.events)
	h("GET /subscribe", a.subscribe)
	h("GET /subscribe/{uuid}", a.subscribe)
	h("GET /subscribe/{uuid}/{type}", a.subscribe)
	h("POST /messages", a.messages)
	h("GET /authenticate/{uuid}", a.authenticateGet)
	h("POST /authenticate", a.authenticatePost)
	h("PUT /claimdevice/{uuid}", a.claim)
	h("POST /claimdevice/{uuid}", a.claim)
	h("POST /data/{uuid}", a.writeData)
	h("GET /data/{uuid}", a.readData)
	h("GET /v2/whoami", a.whoamiV2)
	h("GET /v2/devices", a.searchV2)
	h("GET /v2/devices/{uuid}", a.getV2)
	h("GET /v3/devices/{uuid}", a.getV2)
	h("PATCH /v2/devices/{uuid}", a.patchV2)
	h("PUT /v2/devices/{uuid}", a.putV2)
	h("GET /v2/devices/{uuid}/subscriptions", a.listSubscriptions)
	h("POST /v2/devices/{uuid}/subscriptions/{emitter}/{type}", a.createSubscription)
	h("DELETE /v2/devices/{uuid}/subscriptions/{emitter}/{type}", a.deleteSubscription)
}

func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(204)
}

// Close ends every open /subscribe stream (call before draining the HTTP
// server, or streams hold the drain open).
func (a *API) Close() {
	a.mu.Lock()
	a.closed = true
	ss := make([]*stream, 0, len(a.streams))
	for s := range a.streams {
		ss = append(ss, s)
	}
	a.mu.Unlock()
	for _, s := range ss {
		s.stop("server shutting down")
	}
}

func (a *API) wrap(f httpx.HandlerFunc) http.Handler {
	return httpx.Adapt(a.writeError, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		return f(w, r)
	})
}

// writeError renders err as {"error":{"message","code"}} with status code.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := events.Code(err)
	if code == 500 {
		a.log.Error("skynet request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := errs.Message(err, http.StatusText(code))
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "code": code}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errs.E("skynet.writeJSON", errs.Internal, err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (a *API) params(r *http.Request) (device.Device, error) {
	return params(r, a.cfg.MaxBodyBytes)
}

var errNotFoundOrToken = errs.E("skynet", errs.NotFound, "Device not found or token not valid")

func str(p device.Device, k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// caller authenticates the request's header credentials; ok is false when
// none were sent. Wrong credentials are an Unauthorized error.
func (a *API) caller(ctx context.Context, r *http.Request) (d device.Device, ok bool, err error) {
	c := headerCreds(r)
	if !c.header {
		return nil, false, nil
	}
	d, err = a.authenticate(ctx, r, c.uuid, c.token)
	if err != nil {
		if errs.Is(err, errs.RateLimited) {
			return nil, true, err
		}
		return nil, true, errs.E("skynet.auth", errs.Unauthorized, "unauthorized", err)
	}
	return d, true, nil
}

// authenticate checks credentials; failed checks (each a bcrypt) count
// against the caller's IP, and past the rate limit further attempts are
// refused with 429 before any bcrypt is paid.
func (a *API) authenticate(ctx context.Context, r *http.Request, uuid, token string) (device.Device, error) {
	key := "authfail:" + remoteIP(r)
	if !a.hub.Has(key) {
		return nil, errs.E("skynet.auth", errs.RateLimited, "too many failed authentications")
	}
	d, err := a.reg.Authenticate(ctx, uuid, token)
	if errs.Is(err, errs.Unauthorized) {
		a.hub.Allow(key)
	}
	return d, err
}

// authorize checks that the request may act on device uuid: with its token
// (body/query, as the lecture does) or with header credentials of that
// device, its owner, or a device in its configureWhitelist. Failure is the
// lecture's 404 "Device not found or token not valid" (401 when header
// credentials were wrong).
func (a *API) authorize(ctx context.Context, r *http.Request, uuid string, p device.Device) (device.Device, error) {
	if tok := str(p, "token"); tok != "" {
		d, err := a.authenticate(ctx, r, uuid, tok)
		if err == nil {
			return d, nil
		}
		if errs.Is(err, errs.RateLimited) {
			return nil, err
		}
		return nil, errNotFoundOrToken
	}
	me, ok, err := a.caller(ctx, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFoundOrToken
	}
	if me.UUID() == uuid {
		return me, nil
	}
	d, err := a.reg.Get(ctx, uuid)
	if err != nil {
		return nil, errNotFoundOrToken
	}
	if !device.Allowed(device.Configure, me.UUID(), d) {
		return nil, errs.E("skynet", errs.Forbidden, "not allowed to configure "+uuid)
	}
	return d, nil
}

func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, 200, map[string]any{"skynet": "online", "meshblu": "online",
		"timestamp": time.Now().UnixMilli(), "eventCode": device.EvStatus})
}

func (a *API) ipaddress(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, 200, map[string]any{"ipAddress": remoteIP(r)})
}

func isJSONRequest(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/json")
}

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	// each registration pays a bcrypt hash: registrations share the
	// per-sender rate limit, keyed by the caller's IP
	if !a.hub.Allow("register:" + remoteIP(r)) {
		return errs.E("skynet.register", errs.RateLimited, "rate limit exceeded")
	}
	p, err := a.params(r)
	if err != nil {
		return err
	}
	d, err := a.reg.Register(r.Context(), p, remoteIP(r))
	if err != nil {
		return err
	}
	a.logEvent(r.Context(), device.EvRegister, device.Public(d))
	d["eventCode"] = device.EvRegister
	status := 200 // the lecture's curl
	if isJSONRequest(r) {
		status = 201 // Meshblu clients
	}
	return writeJSON(w, status, d)
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	me, _, err := a.caller(r.Context(), r)
	if err != nil {
		return err
	}
	d, err := a.reg.Get(r.Context(), uuid)
	if err != nil || !device.Allowed(device.Discover, me.UUID(), d) {
		return errs.E("skynet.getDevice", errs.NotFound, "Device not found")
	}
	out := device.Public(d)
	a.logEventLater(r.Context(), device.EvWhoAmI, out)
	out["eventCode"] = device.EvWhoAmI
	return writeJSON(w, 200, out)
}

func (a *API) search(ctx context.Context, me string, f map[string]string) ([]device.Device, error) {
	var out []device.Device
	err := a.reg.Search(ctx, f, func(d device.Device) bool {
		if device.Allowed(device.Discover, me, d) {
			out = append(out, device.Public(d))
		}
		return len(out) < 1000
	})
	return out, err
}

func (a *API) query(w http.ResponseWriter, r *http.Request) error {
	me, _, err := a.caller(r.Context(), r)
	if err != nil {
		return err
	}
	ds, err := a.search(r.Context(), me.UUID(), queryFilter(r))
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return errs.E("skynet.query", errs.NotFound, "Devices not found")
	}
	uuids := make([]string, len(ds))
	for i, d := range ds {
		uuids[i] = d.UUID()
	}
	return writeJSON(w, 200, map[string]any{"devices": uuids})
}

func (a *API) update(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	if _, err := a.authorize(r.Context(), r, uuid, p); err != nil {
		return err
	}
	f := p.Clone()
	for _, k := range []string{"uuid", "token", "action"} {
		delete(f, k)
	}
	d, err := a.reg.Update(r.Context(), uuid, f)
	if err != nil {
		return err
	}
	a.hub.PushConfig(uuid, d)
	out := device.Device{"uuid": uuid}
	for k := range f {
		if v, ok := d[k]; ok {
			out[k] = v
		}
	}
	out["timestamp"] = d["timestamp"]
	a.logEvent(r.Context(), device.EvUpdate, out)
	out["eventCode"] = device.EvUpdate
	return writeJSON(w, 200, out)
}

func (a *API) unregister(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	if _, err := a.authorize(r.Context(), r, uuid, p); err != nil {
		return err
	}
	a.hub.NotifyUnregistered(uuid)
	if err := a.reg.Unregister(r.Context(), uuid); err != nil {
		return err
	}
	out := device.Device{"uuid": uuid, "timestamp": time.Now().UnixMilli()}
	a.logEvent(r.Context(), device.EvUnregister, out)
	out["eventCode"] = device.EvUnregister
	return writeJSON(w, 200, out)
}

func (a *API) resetToken(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	if _, err := a.authorize(r.Context(), r, uuid, p); err != nil {
		return err
	}
	tok, err := a.reg.ResetToken(r.Context(), uuid)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]any{"uuid": uuid, "token": tok})
}

// self authenticates the device a request acts as: path uuid + token
// (query/body), or header credentials.
func (a *API) self(r *http.Request, p device.Device) (device.Device, error) {
	if uuid := r.PathValue("uuid"); uuid != "" && str(p, "token") != "" {
		d, err := a.authenticate(r.Context(), r, uuid, str(p, "token"))
		if errs.Is(err, errs.RateLimited) {
			return nil, err
		}
		if err != nil {
			return nil, errNotFoundOrToken
		}
		return d, nil
	}
	me, ok, err := a.caller(r.Context(), r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.E("skynet", errs.Unauthorized, "unauthorized")
	}
	if uuid := r.PathValue("uuid"); uuid != "" && uuid != me.UUID() {
		return nil, errNotFoundOrToken
	}
	return me, nil
}

func (a *API) mydevices(w http.ResponseWriter, r *http.Request) error {
	p, err := a.params(r)
	if err != nil {
		return err
	}
	me, err := a.self(r, p)
	if err != nil {
		return err
	}
	f := queryFilter(r)
	delete(f, "uuid")
	f["owner"] = me.UUID()
	ds, err := a.search(r.Context(), me.UUID(), f)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return errs.E("skynet.mydevices", errs.NotFound, "Devices not found")
	}
	return writeJSON(w, 200, map[string]any{"devices": ds})
}

func (a *API) events(w http.ResponseWriter, r *http.Request) error {
	p, err := a.params(r)
	if err != nil {
		return err
	}
	me, err := a.self(r, p)
	if err != nil {
		return err
	}
	evs, err := a.reg.Events(r.Context(), me.UUID(), 10)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return errs.E("skynet.events", errs.NotFound, "Events not found")
	}
	return writeJSON(w, 200, map[string]any{"events": evs})
}

func (a *API) messages(w http.ResponseWriter, r *http.Request) error {
	p, err := a.params(r)
	if err != nil {
		return err
	}
	from := ""
	rateKey := "ip:" + remoteIP(r)
	me, ok, err := a.caller(r.Context(), r)
	if err != nil {
		return err
	}
	if ok {
		from, rateKey = me.UUID(), ""
	} else if u, t := str(p, "uuid"), str(p, "token"); u != "" && t != "" {
		// the 2014 style: sender's uuid and token in the body
		d, err := a.authenticate(r.Context(), r, u, t)
		if errs.Is(err, errs.RateLimited) {
			return err
		}
		if err != nil {
			return errs.E("skynet.messages", errs.Unauthorized, "unauthorized", err)
		}
		from, rateKey = d.UUID(), ""
		delete(p, "uuid")
	}
	delete(p, "token")
	if _, err := a.hub.Send(r.Context(), from, p, hub.SendOptions{RateKey: rateKey}); err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (a *API) authenticateGet(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	if _, err := a.authenticate(r.Context(), r, uuid, str(p, "token")); err != nil {
		if errs.Is(err, errs.RateLimited) {
			return err
		}
		return writeJSON(w, 404, map[string]any{"uuid": uuid, "authentication": false})
	}
	return writeJSON(w, 200, map[string]any{"uuid": uuid, "authentication": true})
}

func (a *API) authenticatePost(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := a.caller(r.Context(), r); err != nil || !ok {
		return errs.E("skynet.authenticate", errs.Unauthorized, "unauthorized")
	}
	w.WriteHeader(204)
	return nil
}

// sameLAN is the 2014 claim rule for unowned devices: same IP, or both in
// 10/8, or both in 192.168/16 (loopback counts as one LAN).
func sameLAN(a, b string) bool {
	if a == b {
		return true
	}
	ia, ib := net.ParseIP(a), net.ParseIP(b)
	if ia == nil || ib == nil {
		return false
	}
	for _, cidr := range []string{"10.0.0.0/8", "192.168.0.0/16", "127.0.0.0/8"} {
		_, n, _ := net.ParseCIDR(cidr)
		if n.Contains(ia) && n.Contains(ib) {
			return true
		}
	}
	return false
}

func (a *API) claim(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	me, ok, err := a.caller(r.Context(), r)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E("skynet.claim", errs.Unauthorized, "unauthorized")
	}
	d, err := a.reg.Get(r.Context(), uuid)
	if err != nil {
		return err
	}
	owner, _ := d["owner"].(string)
	ip, _ := d["ipAddress"].(string)
	allowed := device.Allowed(device.Configure, me.UUID(), d) ||
		(owner == "" && sameLAN(ip, remoteIP(r)))
	if tok := str(p, "token"); !allowed && tok != "" {
		_, err := a.authenticate(r.Context(), r, uuid, tok)
		allowed = err == nil
	}
	if !allowed {
		return errs.E("skynet.claim", errs.Forbidden, "not allowed to claim "+uuid)
	}
	f := device.Device{"owner": me.UUID()}
	if n := str(p, "name"); n != "" {
		f["name"] = n
	}
	nd, err := a.reg.Update(r.Context(), uuid, f)
	if err != nil {
		return err
	}
	a.logEvent(r.Context(), device.EvUpdate, device.Public(nd))
	a.hub.PushConfig(uuid, nd)
	return writeJSON(w, 200, device.Public(nd))
}

func (a *API) writeData(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	if _, err := a.authorize(r.Context(), r, uuid, p); err != nil {
		return err
	}
	delete(p, "uuid")
	pt, err := a.reg.WriteData(r.Context(), uuid, p)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, pt)
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (a *API) readData(w http.ResponseWriter, r *http.Request) error {
	uuid := r.PathValue("uuid")
	p, err := a.params(r)
	if err != nil {
		return err
	}
	if _, err := a.authorize(r.Context(), r, uuid, p); err != nil {
		return err
	}
	start, ok1 := parseTime(str(p, "start"))
	finish, ok2 := parseTime(str(p, "finish"))
	if !ok1 || !ok2 {
		return errs.E("skynet.readData", errs.Invalid, "start and finish must be ISO times or epoch milliseconds")
	}
	limit := 10
	if s := str(p, "limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 1000 {
			return errs.E("skynet.readData", errs.Invalid, "limit must be 1..1000")
		}
		limit = n
	}
	pts, err := a.reg.ReadData(r.Context(), uuid, start, finish, limit)
	if err != nil {
		return err
	}
	if pts == nil {
		pts = []device.Device{}
	}
	a.logEventLater(r.Context(), device.EvReadData, device.Device{"uuid": uuid})
	return writeJSON(w, 200, map[string]any{"data": pts})
}

// --- Meshblu HTTP subset (spec 7.4) ---

func (a *API) mustCaller(r *http.Request) (device.Device, error) {
	me, ok, err := a.caller(r.Context(), r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.E("skynet", errs.Unauthorized, "unauthorized")
	}
	return me, nil
}

func (a *API) whoamiV2(w http.ResponseWriter, r *http.Request) error {
	me, err := a.mustCaller(r)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, device.Public(me))
}

func (a *API) getV2(w http.ResponseWriter, r *http.Request) error {
	me, _, err := a.caller(r.Context(), r)
	if err != nil {
		return err
	}
	d, err := a.reg.Get(r.Context(), r.PathValue("uuid"))
	if err != nil || !device.Allowed(device.Discover, me.UUID(), d) {
		return errs.E("skynet.getV2", errs.NotFound, "Device not found")
	}
	return writeJSON(w, 200, device.Public(d))
}

func (a *API) searchV2(w http.ResponseWriter, r *http.Request) error {
	me, _, err := a.caller(r.Context(), r)
	if err != nil {
		return err
	}
	ds, err := a.search(r.Context(), me.UUID(), queryFilter(r))
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []device.Device{}
	}
	return writeJSON(w, 200, ds)
}

func (a *API) configure(r *http.Request) (string, error) {
	me, err := a.mustCaller(r)
	if err != nil {
		return "", err
	}
	uuid := r.PathValue("uuid")
	if me.UUID() == uuid {
		return uuid, nil
	}
	d, err := a.reg.Get(r.Context(), uuid)
	if err != nil {
		return "", errs.E("skynet", errs.NotFound, "Device not found")
	}
	if !device.Allowed(device.Configure, me.UUID(), d) {
		return "", errs.E("skynet", errs.Forbidden, "not allowed to configure "+uuid)
	}
	return uuid, nil
}

func (a *API) applyUpdate(w http.ResponseWriter, r *http.Request, uuid string, set device.Device, unset []string) error {
	for _, k := range unset {
		set[k] = nil
	}
	d, err := a.reg.Update(r.Context(), uuid, set)
	if err != nil {
		return err
	}
	a.logEvent(r.Context(), device.EvUpdate, device.Public(d))
	a.hub.PushConfig(uuid, d)
	w.WriteHeader(204)
	return nil
}

func (a *API) patchV2(w http.ResponseWriter, r *http.Request) error {
	uuid, err := a.configure(r)
	if err != nil {
		return err
	}
	p, err := a.params(r)
	if err != nil {
		return err
	}
	for k := range p {
		if strings.HasPrefix(k, "$") {
			return errs.E("skynet.patch", errs.Invalid, "PATCH takes plain fields; use PUT for $ operators")
		}
	}
	return a.applyUpdate(w, r, uuid, p, nil)
}

// putV2 takes update operators; $set and $unset are supported.
func (a *API) putV2(w http.ResponseWriter, r *http.Request) error {
	uuid, err := a.configure(r)
	if err != nil {
		return err
	}
	p, err := a.params(r)
	if err != nil {
		return err
	}
	set := device.Device{}
	var unset []string
	for k, v := range p {
		switch k {
		case "$set":
			m, ok := v.(map[string]any)
			if !ok {
				return errs.E("skynet.put", errs.Invalid, "$set takes an object")
			}
			for f, x := range m {
				set[f] = x
			}
		case "$unset":
			m, ok := v.(map[string]any)
			if !ok {
				return errs.E("skynet.put", errs.Invalid, "$unset takes an object")
			}
			for f := range m {
				unset = append(unset, f)
			}
		default:
			return errs.E("skynet.put", errs.Invalid, "unsupported update operator "+strconv.Quote(k)+" (only $set and $unset)")
		}
	}
	return a.applyUpdate(w, r, uuid, set, unset)
}

// --- server-side subscriptions (Meshblu 1.x /v2/devices/:s/subscriptions) ---

func (a *API) subscriptionParams(r *http.Request) (subscriber, emitter, typ string, err error) {
	subscriber, err = a.configure(r) // the caller may configure the subscriber
	if err != nil {
		return "", "", "", err
	}
	typ, ok := device.CanonicalSubType(r.PathValue("type"))
	if !ok {
		return "", "", "", errs.E("skynet.subscription", errs.Invalid, "unknown subscription type "+strconv.Quote(r.PathValue("type")))
	}
	return subscriber, r.PathValue("emitter"), typ, nil
}

func (a *API) createSubscription(w http.ResponseWriter, r *http.Request) error {
	subscriber, emitter, typ, err := a.subscriptionParams(r)
	if err != nil {
		return err
	}
	e, err := a.reg.Get(r.Context(), emitter)
	if err != nil {
		return errs.E("skynet.subscription", errs.NotFound, "emitter device not found")
	}
	// broadcasts: the emitter's receiveWhitelist decides; what it sends or
	// receives: only the emitter itself, its owner or configure list
	allowed := device.Allowed(device.Receive, subscriber, e)
	if typ != "broadcast" {
		allowed = device.Allowed(device.Configure, subscriber, e)
	}
	if !allowed {
		return errs.E("skynet.subscription", errs.Forbidden, "not allowed to subscribe to "+emitter+"'s "+typ+" messages")
	}
	if err := a.reg.AddSubscription(r.Context(), subscriber, emitter, typ); err != nil {
		return err
	}
	return writeJSON(w, 201, device.Subscription{SubscriberUUID: subscriber, EmitterUUID: emitter, Type: typ})
}

func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	subscriber, emitter, typ, err := a.subscriptionParams(r)
	if err != nil {
		return err
	}
	if err := a.reg.RemoveSubscription(r.Context(), subscriber, emitter, typ); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subscriber, err := a.configure(r)
	if err != nil {
		return err
	}
	subs, err := a.reg.Subscriptions(r.Context(), subscriber)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, subs)
}

// logEvent records an action that already succeeded in the event log,
// durably. A failure is logged: the client's action succeeded, so it is not
// an error of the request.
func (a *API) logEvent(ctx context.Context, code int, ev device.Device) {
	if _, err := a.reg.LogEvent(ctx, code, ev); err != nil {
		a.log.Warn("event log write failed", "eventCode", code, "err", err)
	}
}

// logEventLater records a read (whoami 500, data read 701) in the event log
// through the registry's batching writer: nothing the answer promises
// depends on the entry, so a GET pays no fsync of its own (Events still
// reads every entry queued before it asks).
func (a *API) logEventLater(ctx context.Context, code int, ev device.Device) {
	if err := a.reg.LogEventLater(ctx, code, ev); err != nil {
		a.log.Warn("event log write failed", "eventCode", code, "err", err)
	}
}
