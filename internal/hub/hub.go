// Package hub routes SkyNet messages between devices: direct (one uuid or a
// list), broadcast ("*" / "all", to the sender's broadcast subscribers),
// subscriptions with SkyNet's <uuid> and <uuid>_bc semantics, per-device
// token-bucket rate limits, device-status online/offline broadcasts, the
// durable offline queue (delivered in order on connect), and config pushes
// to a device's live connections. Wire layers (REST streams, Socket.IO,
// /ws/v2, a WAMP bridge) attach Endpoints; the hub never sees sockets.
//
// Lock order: devState.mu (one device's delivery order; held while that
// device's messages are delivered or queued, and while Connect drains its
// offline queue) before Hub.mu (a RWMutex over rooms and connections;
// held only to copy endpoint lists — routing takes it shared — never
// during Deliver or storage I/O). The device-state shard locks
// (devShard.mu, 64 by uuid hash) are taken only to find or drop a
// devState, with no other hub lock held, and take Hub.mu shared inside
// (release checks whether the device is still connected): shard.mu before
// Hub.mu, never the reverse. Endpoint.Deliver must not block or call back
// into the hub: it queues and returns.
package hub

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/skynet/jsonv"
	"skyhub/internal/skynet/realtime"
)

// Endpoint is one live consumer of messages: a socket, an HTTP stream, a
// bridge. Deliver must not block: it queues (bounded) and returns; past its
// bound it closes itself with a reason and returns an error.
type Endpoint interface {
	// Deliver pushes event ("message", "config", "unregistered") with
	// payload, a JSON-encodable document (a message comes as a
	// realtime.Encoded to an EncodedEndpoint). reply is non-nil for an RPC message: the endpoint passes the
	// recipient's acknowledgement to it.
	Deliver(event string, payload any, reply func(args ...any)) error
}

// EncodedEndpoint is an Endpoint that takes a live message as the
// realtime.Encoded rendering every recipient shares (the hub encodes a
// message once) rather than as a document it would encode itself. Other
// endpoints get the document (read-only: it is shared too).
type EncodedEndpoint interface {
	Endpoint
	TakesEncoded()
}

// message is a live message on its way to endpoints: the document and its
// JSON rendering.
type message struct {
	doc device.Device
	enc realtime.Encoded
}

// Config configures a Hub.
type Config struct {
	Registry *device.Registry
	// RateLimit is messages per second per sender (token bucket); 0
	// disables the limit.
	RateLimit float64
	// Burst is the bucket size; 0 means max(1, RateLimit).
	Burst float64
	// BroadcastToAll sends broadcasts to every connected device, not only
	// to the sender's subscribers (pre-March-2014 SkyNet).
	BroadcastToAll bool
	Log            *slog.Logger
	// Metrics, when set, receives the hub's counters (skynet_*).
	Metrics prometheus.Registerer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Hub is the message router. It is safe for concurrent use.
type Hub struct {
	cfg Config
	reg *device.Registry
	log *slog.Logger

	mu    sync.RWMutex
	own   map[string]map[Endpoint]struct{} // connections identified as a device
	rooms map[string]map[Endpoint]struct{} // "<uuid>" (all to uuid), "<uuid>_bc" (its broadcasts)
	// devs holds each device's delivery state, sharded by uuid so that
	// taking and releasing it (twice per target per message) does not
	// serialize every sender on one lock.
	devs [devShards]devShard
	obs  map[int]func(Delivery)
	obsN int

	limiter *limiter
	m       *metrics
}

type devState struct {
	mu   sync.Mutex
	live bool // own connections exist and the queue has been drained
	refs int  // users of this state (for cleanup)
}

// Delivery describes one routed message, for observers (a WAMP bridge,
// metrics): From sent Message to Targets (uuids) or as a broadcast.
type Delivery struct {
	From      string
	Targets   []string
	Broadcast bool
	Message   device.Device
}

// Result reports what Send did.
type Result struct {
	Delivered int // endpoints the message was pushed to
	Queued    int // offline devices it was queued for
	// RPC is true when Reply was handed to the recipient; otherwise the
	// caller answers its sender's ack itself.
	RPC bool
}

// New returns a hub routing through cfg.Registry.
func New(cfg Config) *Hub {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Hub{
		cfg:     cfg,
		reg:     cfg.Registry,
		log:     cfg.Log,
		own:     map[string]map[Endpoint]struct{}{},
		rooms:   map[string]map[Endpoint]struct{}{},
		obs:     map[int]func(Delivery){},
		limiter: newLimiter(cfg.RateLimit, cfg.Burst, cfg.Now),
		m:       newMetrics(cfg.Metrics),
	}
}

// Registry returns the device registry the hub routes through.
func (h *Hub) Registry() *device.Registry { return h.reg }

const devShards = 64

type devShard struct {
	mu sync.Mutex
	m  map[string]*devState
}

func (h *Hub) shard(uuid string) *devShard {
	// FNV-1a
	x := uint32(2166136261)
	for i := 0; i < len(uuid); i++ {
		x ^= uint32(uuid[i])
		x *= 16777619
	}
	return &h.devs[x%devShards]
}

func (h *Hub) state(uuid string) *devState {
	sh := h.shard(uuid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[uuid]
	if s == nil {
		if sh.m == nil {
			sh.m = map[string]*devState{}
		}
		s = &devState{}
		sh.m[uuid] = s
	}
	s.refs++
	return s
}

func (h *Hub) release(uuid string, s *devState) {
	sh := h.shard(uuid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.refs--
	if s.refs == 0 {
		h.mu.RLock()
		online := len(h.own[uuid]) > 0
		h.mu.RUnlock()
		if !online {
			delete(sh.m, uuid)
		}
	}
}

// Allow takes one token from key's bucket (keys are sender uuids, or
// "ip:<addr>" for anonymous senders); false means over the limit.
func (h *Hub) Allow(key string) bool { return h.limiter.allow(key) }

// Has reports whether key's bucket has a token left, without taking one
// (to refuse work before paying for it, e.g. a bcrypt after repeated
// failures).
func (h *Hub) Has(key string) bool { return h.limiter.has(key) }

// Connect attaches ep as a live connection of device uuid: queued offline
// messages are delivered to it first, in order; then the device is marked
// online and, on its first connection, a device-status broadcast is sent.
func (h *Hub) Connect(ctx context.Context, uuid string, ep Endpoint, ip, protocol string) error {
	s := h.state(uuid)
	defer h.release(uuid, s)
	s.mu.Lock()
	h.mu.Lock()
	set := h.own[uuid]
	if set == nil {
		set = map[Endpoint]struct{}{}
		h.own[uuid] = set
	}
	first := len(set) == 0
	set[ep] = struct{}{}
	h.mu.Unlock()
	var err error
	if !s.live {
		_, err = h.reg.Drain(ctx, uuid, func(m device.Device) error {
			return ep.Deliver("message", m, nil)
		})
		if err != nil {
			h.log.Warn("offline queue drain stopped", "uuid", uuid, "err", err)
		}
		s.live = true
	}
	s.mu.Unlock()
	if first {
		h.m.devices.Inc()
		if e := h.reg.SetOnline(ctx, uuid, true, ip, protocol); e != nil && !errs.Is(e, errs.NotFound) {
			h.log.Warn("set online", "uuid", uuid, "err", e)
		}
		h.deviceStatus(uuid, true)
	}
	return err
}

// Disconnect detaches ep from device uuid and from every room; when it was
// the device's last connection, the device goes offline and a
// device-status broadcast is sent.
func (h *Hub) Disconnect(ctx context.Context, uuid string, ep Endpoint) {
	h.UnsubscribeAll(ep)
	if uuid == "" {
		return
	}
	s := h.state(uuid)
	defer h.release(uuid, s)
	s.mu.Lock()
	h.mu.Lock()
	set := h.own[uuid]
	_, was := set[ep]
	delete(set, ep)
	last := was && len(set) == 0
	if last {
		delete(h.own, uuid)
		s.live = false
	}
	h.mu.Unlock()
	s.mu.Unlock()
	if last {
		h.m.devices.Dec()
		if e := h.reg.SetOnline(ctx, uuid, false, "", ""); e != nil && !errs.Is(e, errs.NotFound) {
			h.log.Warn("set offline", "uuid", uuid, "err", e)
		}
		h.deviceStatus(uuid, false)
	}
}

// Online reports whether device uuid has a live connection.
func (h *Hub) Online(uuid string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.own[uuid]) > 0
}

func (h *Hub) deviceStatus(uuid string, online bool) {
	msg := device.Device{"devices": "*", "topic": "device-status", "fromUuid": uuid,
		"payload": map[string]any{"online": online}}
	h.fanout(h.broadcastReceivers(uuid), "message", msg, nil)
	h.notify(Delivery{From: uuid, Broadcast: true, Message: msg})
}

// SubKind selects what a subscription receives.
type SubKind int

const (
	// Broadcasts of the emitter (room <uuid>_bc).
	Broadcasts SubKind = iota
	// Received: everything addressed to the emitter (room <uuid>).
	Received
)

func roomName(emitter string, k SubKind) string {
	if k == Broadcasts {
		return emitter + "_bc"
	}
	return emitter
}

// Subscribe adds ep to emitter's room of kind k. Permission checks are the
// caller's (the wire layer knows who asks).
func (h *Hub) Subscribe(ep Endpoint, emitter string, k SubKind) {
	name := roomName(emitter, k)
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[name]
	if r == nil {
		r = map[Endpoint]struct{}{}
		h.rooms[name] = r
	}
	r[ep] = struct{}{}
}

// Unsubscribe removes ep from both of emitter's rooms.
func (h *Hub) Unsubscribe(ep Endpoint, emitter string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range []string{emitter, emitter + "_bc"} {
		if r := h.rooms[name]; r != nil {
			delete(r, ep)
			if len(r) == 0 {
				delete(h.rooms, name)
			}
		}
	}
}

// UnsubscribeAll removes ep from every room.
func (h *Hub) UnsubscribeAll(ep Endpoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, r := range h.rooms {
		delete(r, ep)
		if len(r) == 0 {
			delete(h.rooms, name)
		}
	}
}

// Observe registers fn to see every routed message (after delivery); the
// returned function removes it. fn must not block.
func (h *Hub) Observe(fn func(Delivery)) (cancel func()) {
	h.mu.Lock()
	h.obsN++
	id := h.obsN
	h.obs[id] = fn
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.obs, id)
		h.mu.Unlock()
	}
}

func (h *Hub) notify(d Delivery) {
	h.mu.RLock()
	fns := make([]func(Delivery), 0, len(h.obs))
	for _, f := range h.obs {
		fns = append(fns, f)
	}
	h.mu.RUnlock()
	for _, f := range fns {
		f(d)
	}
}

func (h *Hub) broadcastReceivers(from string) []Endpoint {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []Endpoint
	seen := map[Endpoint]bool{}
	add := func(set map[Endpoint]struct{}) {
		for ep := range set {
			if !seen[ep] {
				seen[ep] = true
				out = append(out, ep)
			}
		}
	}
	if h.cfg.BroadcastToAll {
		for u, set := range h.own {
			if u != from {
				add(set)
			}
		}
	}
	add(h.rooms[from+"_bc"])
	return out
}

func (h *Hub) fanout(eps []Endpoint, event string, payload any, reply func(...any)) int {
	return h.fanoutOnce(eps, nil, event, payload, reply)
}

// fanoutOnce delivers to each endpoint not yet in seen (nil: no
// de-duplication) and records it there: one message reaches a connection
// once however many routes lead to it.
func (h *Hub) fanoutOnce(eps []Endpoint, seen map[Endpoint]bool, event string, payload any, reply func(...any)) int {
	n := 0
	for _, ep := range eps {
		if seen != nil {
			if seen[ep] {
				continue
			}
			seen[ep] = true
		}
		p := payload
		if msg, ok := payload.(*message); ok {
			if _, enc := ep.(EncodedEndpoint); enc {
				p = msg.enc
			} else {
				p = msg.doc
			}
		}
		if err := ep.Deliver(event, p, reply); err != nil {
			h.m.failures.Inc()
			h.log.Debug("deliver failed", "event", event, "err", err)
			continue
		}
		n++
	}
	h.m.deliveries.Add(float64(n))
	return n
}

// SendOptions tune one Send.
type SendOptions struct {
	// Reply, when set and the message has exactly one target that is
	// online, makes the message an RPC: the first live connection of the
	// target gets it with an acknowledgement that Reply receives.
	Reply func(args ...any)
	// RateKey is the rate-limit bucket; default the sender's uuid.
	RateKey string
	// NoLog skips the event-log entry (300).
	NoLog bool
}

// Targets parses a message's "devices" field: a uuid, a list of uuids, "*"
// or "all". broadcast is true when "*" or "all" is among them.
func Targets(v any) (uuids []string, broadcast bool, err error) {
	add := func(s string) {
		switch s {
		case "":
		case "*", "all":
			broadcast = true
		default:
			for _, u := range uuids {
				if u == s {
					return
				}
			}
			uuids = append(uuids, s)
		}
	}
	switch x := v.(type) {
	case string:
		add(x)
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false, errs.E("hub.Targets", errs.Invalid, "Invalid Message Format: devices must be uuid strings")
			}
			add(s)
		}
	case []string:
		for _, s := range x {
			add(s)
		}
	}
	if len(uuids) == 0 && !broadcast {
		return nil, false, errs.E("hub.Targets", errs.Invalid, "Invalid Message Format: no devices")
	}
	return uuids, broadcast, nil
}

// Send routes msg from device from ("" for an anonymous HTTP sender) to its
// "devices". Every direct target must exist and allow from to send
// (sendWhitelist), or the whole message is refused with an error naming the
// target; over the rate limit it is refused with kind RateLimited. The
// message gets fromUuid and loses any token; offline opted-in targets get
// it queued durably; it is logged as event 300: durably before Send
// returns when it was queued for someone, else through the registry's
// batching writer (LogEventLater).
func (h *Hub) Send(ctx context.Context, from string, msg device.Device, opt SendOptions) (Result, error) {
	res, err := h.send(ctx, from, msg, opt)
	if err != nil {
		h.m.refused(err)
	} else {
		h.m.messages.WithLabelValues("routed").Inc()
		h.m.queued.Add(float64(res.Queued))
	}
	return res, err
}

func (h *Hub) send(ctx context.Context, from string, msg device.Device, opt SendOptions) (Result, error) {
	const op = "hub.Send"
	var res Result
	key := opt.RateKey
	if key == "" {
		key = from
	}
	if !h.limiter.allow(key) {
		return res, errs.E(op, errs.RateLimited, "rate limit exceeded")
	}
	targets, broadcast, err := Targets(msg["devices"])
	if err != nil {
		return res, err
	}
	m := msg.Clone()
	delete(m, "token")
	if from != "" {
		m["fromUuid"] = from
	}
	devs := make([]device.Device, len(targets))
	for i, t := range targets {
		d, err := h.reg.GetShared(ctx, t)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return res, errs.E(op, errs.NotFound, "device "+t+" not found")
			}
			return res, errs.E(op, err)
		}
		if !device.Allowed(device.Send, from, d) {
			return res, errs.E(op, errs.Forbidden, "device "+t+" does not accept messages from "+senderName(from))
		}
		devs[i] = d
	}
	// rendered once: every recipient's transport and the event log copy
	// these bytes instead of encoding the document again
	enc, err := jsonv.Append(make([]byte, 0, 256), map[string]any(m))
	if err != nil {
		return res, errs.E(op, errs.Invalid, "message is not JSON-encodable", err)
	}
	payload := &message{doc: m, enc: enc}
	seen := map[Endpoint]bool{}
	if broadcast {
		res.Delivered += h.fanoutOnce(h.broadcastReceivers(from), seen, "message", payload, nil)
	}
	rpc := opt.Reply != nil && len(targets) == 1 && !broadcast
	for i, t := range targets {
		n, q, usedRPC, err := h.deliverTo(ctx, t, devs[i], m, payload, rpc, opt.Reply, seen)
		if err != nil {
			return res, errs.E(op, err)
		}
		res.RPC = res.RPC || usedRPC
		res.Delivered += n
		res.Queued += q
	}
	// server-side subscriptions (device.AddSubscription): the subscribers'
	// own connections get the emitter's broadcasts, what it sent, and what
	// its targets received
	if broadcast {
		res.Delivered += h.deliverToSubscribers(ctx, from, "broadcast", payload, seen)
	}
	if len(targets) > 0 {
		res.Delivered += h.deliverToSubscribers(ctx, from, "sent", payload, seen)
	}
	for _, t := range targets {
		res.Delivered += h.deliverToSubscribers(ctx, t, "received", payload, seen)
	}
	if !opt.NoLog {
		// Durable when: a message queued for an offline device is an
		// acknowledged write, so its entry is committed before Send
		// returns (the queue entry already is); a message delivered live
		// (or dropped) goes through the batching writer, off the sender's
		// path: a crash may lose its last entries, never a queued message.
		if res.Queued > 0 {
			_, err = h.reg.LogEventEncoded(ctx, device.EvMessage, m, enc)
		} else {
			err = h.reg.LogEventLaterEncoded(ctx, device.EvMessage, m, enc)
		}
		if err != nil {
			return res, errs.E(op, err)
		}
	}
	h.notify(Delivery{From: from, Targets: targets, Broadcast: broadcast, Message: m})
	return res, nil
}

func senderName(from string) string {
	if from == "" {
		return "anonymous senders"
	}
	return from
}

// deliverTo pushes m to device t's live connections and its <t> room, or
// queues it when t is offline and opted in. Holding t's devState keeps
// delivery in order with a concurrent Connect draining the queue.
func (h *Hub) deliverTo(ctx context.Context, t string, d device.Device, m device.Device, payload *message, rpc bool, reply func(...any), seen map[Endpoint]bool) (delivered, queued int, usedRPC bool, err error) {
	s := h.state(t)
	defer h.release(t, s)
	s.mu.Lock()
	defer s.mu.Unlock()
	h.mu.RLock()
	var own, subs []Endpoint
	for ep := range h.own[t] {
		own = append(own, ep)
	}
	for ep := range h.rooms[t] {
		if _, dup := h.own[t][ep]; !dup {
			subs = append(subs, ep)
		}
	}
	h.mu.RUnlock()
	if s.live && len(own) > 0 {
		if rpc {
			usedRPC = true
			delivered += h.fanoutOnce(own[:1], seen, "message", payload, reply)
			delivered += h.fanoutOnce(own[1:], seen, "message", payload, nil)
		} else {
			delivered += h.fanoutOnce(own, seen, "message", payload, nil)
		}
	} else if device.OptedIn(d) {
		if err := h.reg.Enqueue(ctx, t, m); err != nil {
			return delivered, 0, false, err
		}
		queued = 1
	}
	delivered += h.fanoutOnce(subs, seen, "message", payload, nil)
	return delivered, queued, usedRPC, nil
}

// deliverToSubscribers pushes m to the live connections of every device
// with a server-side subscription to emitter's traffic of type typ.
func (h *Hub) deliverToSubscribers(ctx context.Context, emitter, typ string, payload *message, seen map[Endpoint]bool) int {
	if emitter == "" {
		return 0
	}
	subs, err := h.reg.Subscribers(ctx, emitter, typ)
	if err != nil {
		h.log.Warn("subscribers", "emitter", emitter, "err", err)
		return 0
	}
	if len(subs) == 0 {
		return 0
	}
	var eps []Endpoint
	h.mu.RLock()
	for _, u := range subs {
		for ep := range h.own[u] {
			eps = append(eps, ep)
		}
	}
	h.mu.RUnlock()
	return h.fanoutOnce(eps, seen, "message", payload, nil)
}

// PushConfig sends the device document (without token) as a "config" event
// to device uuid's live connections and its <uuid> subscribers.
func (h *Hub) PushConfig(uuid string, d device.Device) {
	h.fanout(h.ownAndRoom(uuid), "config", device.Public(d), nil)
}

// NotifyUnregistered tells device uuid's live connections it is gone.
func (h *Hub) NotifyUnregistered(uuid string) {
	h.fanout(h.ownAndRoom(uuid), "unregistered", map[string]any{"uuid": uuid}, nil)
}

func (h *Hub) ownAndRoom(uuid string) []Endpoint {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []Endpoint
	seen := map[Endpoint]bool{}
	for _, set := range []map[Endpoint]struct{}{h.own[uuid], h.rooms[uuid]} {
		for ep := range set {
			if !seen[ep] {
				seen[ep] = true
				out = append(out, ep)
			}
		}
	}
	return out
}
