// Package events is SkyNet's real-time event layer: the event vocabulary of
// the original SkyNet/Meshblu sockets (identify/identity/ready/notReady,
// whoami, device, devices, mydevices, register, update, unregister,
// subscribe/unsubscribe, message with RPC ack, status, authenticate,
// events, data/getdata) on top of the device registry and the hub. It
// implements realtime.Handler, so every real-time transport (Socket.IO EIO3,
// Socket.IO 0.9, /ws/v2) speaks the same vocabulary; transports only frame.
package events

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/hub"
	"skyhub/internal/skynet/jsonv"
	"skyhub/internal/skynet/realtime"
)

// Config configures the event layer.
type Config struct {
	Hub *hub.Hub
	Log *slog.Logger
}

// Handler is the realtime.Handler of SkyNet.
type Handler struct {
	hub *hub.Hub
	reg *device.Registry
	log *slog.Logger
}

var _ realtime.Handler = (*Handler)(nil)

// New returns the event layer.
func New(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{hub: cfg.Hub, reg: cfg.Hub.Registry(), log: cfg.Log}
}

// Connect starts a session: it emits identify {socketid} and waits for
// identity.
func (h *Handler) Connect(ctx context.Context, c realtime.Conn, query, headers map[string]string) realtime.Session {
	var b [10]byte
	rand.Read(b[:])
	s := &session{h: h, c: c, id: hex.EncodeToString(b[:]), verified: map[string]string{}}
	c.Emit("identify", map[string]any{"socketid": s.id})
	return s
}

type session struct {
	h *Handler
	c realtime.Conn
	// id is the socket id reported to the client.
	id string

	mu       sync.Mutex
	uuid     string            // identified device, "" before identity
	verified map[string]string // uuid -> token verified on this connection
	closed   bool
}

// TakesEncoded implements hub.EncodedEndpoint: messages come rendered once
// for all recipients, and the transports copy the bytes.
func (s *session) TakesEncoded() {}

// Deliver implements hub.Endpoint.
func (s *session) Deliver(event string, payload any, reply func(args ...any)) error {
	if reply != nil {
		return s.c.Emit(event, payload, realtime.Ack(reply))
	}
	return s.c.Emit(event, payload)
}

func (s *session) me() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uuid
}

func (s *session) ws() bool { return s.c.Transport() == "ws" }

// errBody renders err as SkyNet's {"error":{"message","code"}}.
func errBody(err error) map[string]any {
	code := Code(err)
	return map[string]any{"error": map[string]any{"message": errs.Message(err, defaultMessage(code)), "code": code}}
}

// Code maps an error kind to SkyNet's numeric code (also the HTTP status).
func Code(err error) int {
	switch errs.KindOf(err) {
	case errs.Invalid:
		return 422
	case errs.NotFound:
		return 404
	case errs.Exists, errs.Conflict:
		return 409
	case errs.Unauthorized:
		return 401
	case errs.Forbidden:
		return 403
	case errs.RateLimited:
		return 429
	case errs.TooLarge:
		return 413
	case errs.Unavailable:
		return 503
	}
	return 500
}

func defaultMessage(code int) string {
	switch code {
	case 401:
		return "unauthorized"
	case 404:
		return "not found"
	case 429:
		return "Too Many Requests"
	}
	return "internal error"
}

func decodeArg(args []json.RawMessage) device.Device {
	d := device.Device{}
	if len(args) == 0 {
		return d
	}
	raw := bytes.TrimSpace(args[0])
	if len(raw) > 0 && raw[0] == '"' {
		// a bare uuid string (meshblu's subscribe('uuid') shorthand)
		var u string
		if json.Unmarshal(raw, &u) == nil {
			d["uuid"] = u
		}
		return d
	}
	// jsonv decodes as encoding/json with UseNumber does, at half the cost
	if v, err := jsonv.Decode(raw); err == nil {
		if m, ok := v.(map[string]any); ok {
			return device.Device(m)
		}
	}
	return d
}

func str(d device.Device, k string) string {
	switch v := d[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// Event implements realtime.Session.
func (s *session) Event(ctx context.Context, event string, args []json.RawMessage, ack realtime.Ack) {
	reply := func(v any) {
		if ack != nil {
			ack(v)
		} else if s.ws() && wsReplies[event] {
			s.wsReply(event, args, v)
		}
	}
	var data device.Device
	var badArg error
	if event == "update" && s.ws() {
		data, badArg = decodeWSUpdate(args)
	} else {
		data = decodeArg(args)
	}
	switch event {
	case "identity":
		s.identity(ctx, data)
		return
	case "message":
		s.message(ctx, data, ack)
		return
	}
	if !s.h.hub.Allow("sock:" + s.id) {
		s.c.Emit("ratelimited", map[string]any{"code": 429, "message": "Too Many Requests"})
		reply(errBody(errs.E("events", errs.RateLimited, "Too Many Requests")))
		return
	}
	switch event {
	case "status":
		reply(map[string]any{"skynet": "online", "meshblu": "online"})
	case "authenticate":
		reply(s.authenticate(ctx, data))
	case "whoami":
		reply(s.whoami(ctx))
	case "device":
		reply(s.device(ctx, data))
	case "devices":
		reply(s.devices(ctx, data, false))
	case "mydevices":
		reply(s.devices(ctx, data, true))
	case "register":
		reply(s.register(ctx, data))
	case "update":
		if badArg != nil {
			reply(errBody(badArg))
			return
		}
		reply(s.update(ctx, data))
	case "unregister":
		reply(s.unregister(ctx, data))
	case "subscribe":
		reply(s.subscribe(ctx, data))
	case "unsubscribe":
		u := str(data, "uuid")
		s.h.hub.Unsubscribe(s, u)
		reply(map[string]any{"api": "unsubscribe", "socketid": s.id, "uuid": u})
	case "events":
		reply(s.events(ctx, data))
	case "data":
		reply(s.writeData(ctx, data))
	case "getdata":
		reply(s.readData(ctx, data))
	default:
		reply(errBody(errs.E("events", errs.Invalid, "unknown event "+strconv.Quote(event))))
	}
}

// wsReplies are the requests a /ws/v2 session answers with a frame named
// after the request (Meshblu's websocket API has no acks): ["whoami",
// device], ["devices", {...}], ["update", device], ... A failure is an
// ["error", {message, status, frame}] frame naming the request. message,
// subscribe and unsubscribe are not answered, as in Meshblu.
var wsReplies = map[string]bool{
	"status": true, "whoami": true, "device": true, "devices": true, "mydevices": true,
	"register": true, "update": true, "unregister": true,
	"authenticate": true, "events": true, "data": true, "getdata": true,
}

func (s *session) wsReply(event string, args []json.RawMessage, v any) {
	if m, ok := v.(map[string]any); ok {
		if e, ok := m["error"].(map[string]any); ok {
			frame := []any{event}
			if len(args) > 0 {
				frame = append(frame, args[0])
			}
			s.c.Emit("error", map[string]any{"message": e["message"], "status": e["code"], "frame": frame})
			return
		}
	}
	s.c.Emit(event, v)
}

// decodeWSUpdate reads /ws/v2's update: the client's form [query,
// {"$set": {...}}] (meshblu-websocket's update(query, params)), [query,
// {...fields}] (updateDangerously without operators), or SkyNet's flat
// {uuid, token, ...fields}. Other Mongo operators are refused.
func decodeWSUpdate(args []json.RawMessage) (device.Device, error) {
	if len(args) == 0 {
		return device.Device{}, nil
	}
	raw := bytes.TrimSpace(args[0])
	if len(raw) == 0 || raw[0] != '[' {
		return decodeArg(args), nil
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return nil, errs.E("events.update", errs.Invalid, "update expects [query, params]", err)
	}
	query, params := decodeArg(pair[:1]), decodeArg(pair[1:])
	fields := params
	if set, ok := params["$set"]; ok {
		m, ok := set.(map[string]any)
		if !ok || len(params) != 1 {
			return nil, errs.E("events.update", errs.Invalid, "update supports only $set")
		}
		fields = device.Device(m)
	}
	out := device.Device{}
	for k, v := range fields {
		if len(k) > 0 && k[0] == '$' {
			return nil, errs.E("events.update", errs.Invalid, "update supports only $set")
		}
		out[k] = v
	}
	delete(out, "uuid")
	delete(out, "token")
	if u := str(query, "uuid"); u != "" {
		out["uuid"] = u
	}
	if t := str(query, "token"); t != "" {
		out["token"] = t
	}
	return out, nil
}

// Closed implements realtime.Session.
func (s *session) Closed() {
	s.mu.Lock()
	u := s.uuid
	s.closed = true
	s.uuid = ""
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.h.hub.Disconnect(ctx, u, s)
}

// auth checks (uuid, token) once per connection.
func (s *session) auth(ctx context.Context, uuid, token string) (device.Device, error) {
	s.mu.Lock()
	t, ok := s.verified[uuid]
	s.mu.Unlock()
	if ok && t == token {
		return s.h.reg.Get(ctx, uuid)
	}
	// failed checks (a bcrypt each) count against the client's IP, shared
	// with the REST API; past the limit no more bcrypt is paid
	key := "authfail:" + s.c.RemoteAddr()
	if !s.h.hub.Has(key) {
		return nil, errs.E("events.auth", errs.RateLimited, "too many failed authentications")
	}
	d, err := s.h.reg.Authenticate(ctx, uuid, token)
	if err != nil {
		if errs.Is(err, errs.Unauthorized) {
			s.h.hub.Allow(key)
		}
		return nil, err
	}
	s.mu.Lock()
	if len(s.verified) < 64 {
		s.verified[uuid] = token
	}
	s.mu.Unlock()
	return d, nil
}

func (s *session) identity(ctx context.Context, data device.Device) {
	uuid, token := str(data, "uuid"), str(data, "token")
	if !s.h.hub.Allow("sock:" + s.id) {
		s.c.Emit("ratelimited", map[string]any{"code": 429, "message": "Too Many Requests"})
		s.notReady(uuid, 429, "Too Many Requests")
		return
	}
	if uuid == "" {
		// Auto-register: the identity's fields (minus protocol noise)
		// become the new device; a given token is kept.
		f := data.Clone()
		delete(f, "uuid")
		delete(f, "auto_set_online")
		delete(f, "socketid")
		delete(f, "protocol")
		f["autoRegister"] = true
		d, err := s.h.reg.Register(ctx, f, s.c.RemoteAddr())
		if err != nil {
			s.notReady("", Code(err), errs.Message(err, "Device not registered"))
			return
		}
		s.h.logEvent(ctx, device.EvRegister, device.Public(d))
		uuid, token = d.UUID(), d["token"].(string)
	} else if _, err := s.auth(ctx, uuid, token); err != nil {
		s.notReady(uuid, Code(err), "unauthorized")
		return
	}
	s.mu.Lock()
	s.verified[uuid] = token
	prev := s.uuid
	s.uuid = uuid
	s.mu.Unlock()
	if s.ws() {
		s.c.Emit("ready", map[string]any{"uuid": uuid, "token": token, "status": 200})
	} else {
		s.c.Emit("ready", map[string]any{"api": "connect", "status": 201, "socketid": s.id, "uuid": uuid, "token": token})
	}
	if prev == uuid {
		return
	}
	if prev != "" {
		s.h.hub.Disconnect(ctx, prev, s)
	}
	if err := s.h.hub.Connect(ctx, uuid, s, s.c.RemoteAddr(), s.c.Transport()); err != nil {
		s.h.log.Warn("connect", "uuid", uuid, "err", err)
	}
}

func (s *session) notReady(uuid string, status int, msg string) {
	if s.ws() {
		s.c.Emit("notReady", map[string]any{"message": msg, "status": status})
		return
	}
	s.c.Emit("notReady", map[string]any{"api": "connect", "status": status, "socketid": s.id, "uuid": uuid, "message": msg})
}

func (s *session) authenticate(ctx context.Context, data device.Device) any {
	uuid, token := str(data, "uuid"), str(data, "token")
	if _, err := s.auth(ctx, uuid, token); err != nil {
		return map[string]any{"uuid": uuid, "authentication": false}
	}
	if s.me() == "" {
		s.identity(ctx, device.Device{"uuid": uuid, "token": token})
	}
	return map[string]any{"uuid": uuid, "authentication": true}
}

var errUnidentified = errs.E("events", errs.Unauthorized, "unauthorized: send identity first")

func (s *session) whoami(ctx context.Context) any {
	me := s.me()
	if me == "" {
		return errBody(errUnidentified)
	}
	d, err := s.h.reg.Get(ctx, me)
	if err != nil {
		return errBody(err)
	}
	return device.Public(d)
}

func (s *session) device(ctx context.Context, data device.Device) any {
	d, err := s.h.reg.Get(ctx, str(data, "uuid"))
	if err != nil {
		return errBody(err)
	}
	if !device.Allowed(device.Discover, s.me(), d) {
		return errBody(errs.E("events.device", errs.NotFound, "Device not found"))
	}
	return map[string]any{"device": device.Public(d)}
}

// Filter turns request fields into a registry filter (values as strings
// or JSON), leaving out auth fields.
func Filter(data device.Device) map[string]string {
	f := map[string]string{}
	for k, v := range data {
		if k == "token" {
			continue
		}
		switch x := v.(type) {
		case string:
			f[k] = x
		case nil:
			f[k] = "null"
		default:
			b, _ := json.Marshal(x)
			f[k] = string(b)
		}
	}
	return f
}

func (s *session) devices(ctx context.Context, data device.Device, mine bool) any {
	me := s.me()
	f := Filter(data)
	if mine {
		if me == "" {
			return errBody(errUnidentified)
		}
		f["owner"] = me
	}
	out := []any{}
	err := s.h.reg.Search(ctx, f, func(d device.Device) bool {
		if device.Allowed(device.Discover, me, d) {
			out = append(out, device.Public(d))
		}
		return len(out) < 1000
	})
	if err != nil {
		return errBody(err)
	}
	if len(out) == 0 {
		return errBody(errs.E("events.devices", errs.NotFound, "Devices not found"))
	}
	return map[string]any{"devices": out}
}

func (s *session) register(ctx context.Context, data device.Device) any {
	d, err := s.h.reg.Register(ctx, data, s.c.RemoteAddr())
	if err != nil {
		return errBody(err)
	}
	s.h.logEvent(ctx, device.EvRegister, device.Public(d))
	return d
}

// mayConfigure reports whether this connection may change uuid: it is that
// device, or knows its token, or is allowed by configureWhitelist/owner.
func (s *session) mayConfigure(ctx context.Context, uuid, token string) (device.Device, error) {
	me := s.me()
	if token != "" {
		if d, err := s.auth(ctx, uuid, token); err == nil {
			return d, nil
		}
	}
	d, err := s.h.reg.Get(ctx, uuid)
	if err != nil {
		return nil, errs.E("events", errs.NotFound, "Device not found or token not valid")
	}
	if me != "" && device.Allowed(device.Configure, me, d) {
		return d, nil
	}
	return nil, errs.E("events", errs.Unauthorized, "Device not found or token not valid")
}

func (s *session) update(ctx context.Context, data device.Device) any {
	uuid := str(data, "uuid")
	if uuid == "" {
		uuid = s.me()
	}
	if _, err := s.mayConfigure(ctx, uuid, str(data, "token")); err != nil {
		return errBody(err)
	}
	f := data.Clone()
	delete(f, "uuid")
	delete(f, "token")
	d, err := s.h.reg.Update(ctx, uuid, f)
	if err != nil {
		return errBody(err)
	}
	s.h.logEvent(ctx, device.EvUpdate, device.Public(d))
	s.h.hub.PushConfig(uuid, d)
	return device.Public(d)
}

func (s *session) unregister(ctx context.Context, data device.Device) any {
	uuid := str(data, "uuid")
	if uuid == "" {
		uuid = s.me()
	}
	if _, err := s.mayConfigure(ctx, uuid, str(data, "token")); err != nil {
		return errBody(err)
	}
	s.h.hub.NotifyUnregistered(uuid)
	if err := s.h.reg.Unregister(ctx, uuid); err != nil {
		return errBody(err)
	}
	ts := time.Now().UnixMilli()
	s.h.logEvent(ctx, device.EvUnregister, device.Device{"uuid": uuid, "fromUuid": s.me()})
	return map[string]any{"uuid": uuid, "timestamp": ts}
}

func (s *session) subscribe(ctx context.Context, data device.Device) any {
	uuid, token := str(data, "uuid"), str(data, "token")
	me := s.me()
	fail := map[string]any{"api": "subscribe", "uuid": uuid, "result": false}
	d, err := s.h.reg.Get(ctx, uuid)
	if err != nil {
		return fail
	}
	full := me == uuid || (me != "" && d["owner"] == me)
	if !full && token != "" {
		if _, err := s.auth(ctx, uuid, token); err == nil {
			full = true
		}
	}
	// meshblu's optional types narrow it: "broadcast", "received" ("sent"
	// is not offered)
	wantB, wantR := true, true
	if ts, ok := data["types"].([]any); ok && len(ts) > 0 {
		wantB, wantR = false, false
		for _, t := range ts {
			switch t {
			case "broadcast":
				wantB = true
			case "received":
				wantR = true
			}
		}
		if !wantB && !wantR {
			return fail
		}
	}
	if full {
		if wantR {
			s.h.hub.Subscribe(s, uuid, hub.Received)
		}
		if wantB && me != uuid {
			s.h.hub.Subscribe(s, uuid, hub.Broadcasts)
		}
		return map[string]any{"api": "subscribe", "socketid": s.id, "fromUuid": me, "toUuid": uuid}
	}
	if token != "" || !wantB {
		return fail
	}
	if !device.Allowed(device.Receive, me, d) {
		return fail
	}
	s.h.hub.Subscribe(s, uuid, hub.Broadcasts)
	return map[string]any{"api": "subscribe", "result": true}
}

func (s *session) events(ctx context.Context, data device.Device) any {
	uuid, token := str(data, "uuid"), str(data, "token")
	if uuid == "" {
		uuid = s.me()
	}
	if uuid != s.me() || token != "" {
		if _, err := s.auth(ctx, uuid, token); err != nil {
			return map[string]any{"api": "events", "result": false}
		}
	}
	evs, err := s.h.reg.Events(ctx, uuid, 10)
	if err != nil || len(evs) == 0 {
		return map[string]any{"api": "events", "result": false}
	}
	return map[string]any{"events": evs}
}

func (s *session) message(ctx context.Context, data device.Device, ack realtime.Ack) {
	me := s.me()
	if me == "" {
		s.refuse(errUnidentified, ack)
		return
	}
	opt := hub.SendOptions{}
	if ack != nil {
		opt.Reply = func(args ...any) { ack(args...) }
	}
	delete(data, "protocol")
	delete(data, "api")
	res, err := s.h.hub.Send(ctx, me, data, opt)
	if err != nil {
		if errs.Is(err, errs.RateLimited) {
			s.c.Emit("ratelimited", map[string]any{"code": 429, "message": "Too Many Requests"})
		}
		s.refuse(err, ack)
		return
	}
	if ack != nil && !res.RPC {
		// no recipient to answer (offline, several, broadcast): the
		// sender's callback still runs, with null as meshblu-core did
		ack(nil)
	}
}

// refuse tells the sender a message was not accepted: through its ack
// when it asked for one, else as a "messageError" event ("error" on
// /ws/v2). Socket.IO's reserved "error" name is avoided: Node clients
// throw on an unhandled "error".
func (s *session) refuse(err error, ack realtime.Ack) {
	if ack != nil {
		ack(errBody(err))
		return
	}
	body := map[string]any{"message": errs.Message(err, "message refused"), "code": Code(err), "status": Code(err)}
	if s.ws() {
		s.c.Emit("error", body)
		return
	}
	s.c.Emit("messageError", body)
}

func (s *session) writeData(ctx context.Context, data device.Device) any {
	uuid := str(data, "uuid")
	if uuid == "" {
		uuid = s.me()
	}
	if _, err := s.mayConfigure(ctx, uuid, str(data, "token")); err != nil {
		return errBody(err)
	}
	f := data.Clone()
	delete(f, "token")
	p, err := s.h.reg.WriteData(ctx, uuid, f)
	if err != nil {
		return errBody(err)
	}
	return p
}

func (s *session) readData(ctx context.Context, data device.Device) any {
	uuid := str(data, "uuid")
	if uuid == "" {
		uuid = s.me()
	}
	if _, err := s.mayConfigure(ctx, uuid, str(data, "token")); err != nil {
		return errBody(err)
	}
	limit := 10
	if n, err := strconv.Atoi(str(data, "limit")); err == nil && n > 0 && n <= 1000 {
		limit = n
	}
	var start, finish time.Time
	if t, err := time.Parse(time.RFC3339, str(data, "start")); err == nil {
		start = t
	}
	if t, err := time.Parse(time.RFC3339, str(data, "finish")); err == nil {
		finish = t
	}
	pts, err := s.h.reg.ReadData(ctx, uuid, start, finish, limit)
	if err != nil {
		return errBody(err)
	}
	if pts == nil {
		pts = []device.Device{}
	}
	return map[string]any{"data": pts}
}

// logEvent records an action that already succeeded in the event log,
// durably; a failure is logged, since the client's action succeeded.
func (h *Handler) logEvent(ctx context.Context, code int, ev device.Device) {
	if _, err := h.reg.LogEvent(ctx, code, ev); err != nil {
		h.log.Warn("event log write failed", "eventCode", code, "err", err)
	}
}
