// Package bridge joins the SkyNet device hub to a WAMP realm: every
// message the hub routes is published as WAMP events, and WAMP clients
// message devices through a procedure.
//
// Events (Prefix defaults to "skynet"):
//
//	<prefix>.message                every routed message
//	<prefix>.device.<uuid>.message  a message addressed to device uuid
//	<prefix>.device.<uuid>.sent     a message device uuid sent (broadcasts too)
//
// each with ArgumentsKw = the message (fromUuid, devices, payload, ...)
// and Arguments = [] . The procedure <prefix>.message takes the message as
// ArgumentsKw (devices required; uuid and token, when given, authenticate
// the sender as that device, else it is anonymous) and returns
// {delivered, queued}.
package bridge

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/hub"
	"skyhub/internal/wamp"
)

// Router is what the bridge needs of the WAMP router.
type Router interface {
	LocalSession(realm, authid, authrole string) (wamp.Peer, wamp.ID, error)
	// Wanted says whether a publication to topic would reach anyone.
	Wanted(realm string, topic wamp.URI) bool
}

// Config configures a Bridge.
type Config struct {
	Hub    *hub.Hub
	Router Router
	// Realm the bridge joins (default "realm1").
	Realm string
	// Prefix of every URI (default "skynet").
	Prefix string
	Log    *slog.Logger
	// CallTimeout bounds one hub.Send made for a WAMP caller (default 10s).
	CallTimeout time.Duration
}

// Bridge is a running bridge; Close stops it.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	peer   wamp.Peer
	cancel func()
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup

	mu  sync.Mutex // request ids and their order on the wire
	req wamp.ID
}

// Start joins the realm, registers the procedure and starts observing the
// hub.
func Start(ctx context.Context, cfg Config) (*Bridge, error) {
	const op = "wamp/bridge.Start"
	if cfg.Hub == nil || cfg.Router == nil {
		return nil, errs.E(op, errs.Invalid, "hub and router are required")
	}
	if cfg.Realm == "" {
		cfg.Realm = "realm1"
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "skynet"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	p, _, err := cfg.Router.LocalSession(cfg.Realm, "skynet-bridge", "skynet-bridge")
	if err != nil {
		return nil, errs.E(op, err)
	}
	b := &Bridge{cfg: cfg, log: cfg.Log, peer: p}
	b.ctx, b.stop = context.WithCancel(context.Background())
	proc := wamp.URI(cfg.Prefix + ".message")
	b.send(func(id wamp.ID) wamp.Message {
		return &wamp.Register{Request: id, Options: wamp.Dict{}, Procedure: proc}
	})
	select {
	case m, ok := <-p.Recv():
		if _, reg := m.(*wamp.Registered); !ok || !reg {
			p.Close()
			return nil, errs.E(op, errs.Conflict, "cannot register "+string(proc))
		}
	case <-time.After(5 * time.Second):
		p.Close()
		return nil, errs.E(op, errs.Unavailable, "router did not answer REGISTER")
	case <-ctx.Done():
		p.Close()
		return nil, errs.E(op, ctx.Err())
	}
	b.wg.Add(1)
	go b.serve()
	b.cancel = cfg.Hub.Observe(b.observe)
	return b, nil
}

// send builds a message with the next request id and queues it, both
// under one lock so ids reach the router in order.
func (b *Bridge) send(build func(id wamp.ID) wamp.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.req = wamp.NextID(b.req)
	if err := b.peer.Send(build(b.req)); err != nil {
		b.log.Warn("wamp bridge: send failed", "err", err)
	}
}

// observe publishes one hub delivery. It runs on the hub's goroutine and
// does not block (Peer.Send queues).
//
// Topics nobody subscribes to (and no event history keeps) are skipped:
// without WAMP clients the bridge costs the device hub next to nothing.
func (b *Bridge) observe(d hub.Delivery) {
	kw := wamp.Dict(toDict(d.Message))
	pre := b.cfg.Prefix
	topics := []string{pre + ".message"}
	for _, t := range d.Targets {
		if validComponent(t) {
			topics = append(topics, pre+".device."+t+".message")
		}
	}
	if d.From != "" && validComponent(d.From) {
		topics = append(topics, pre+".device."+d.From+".sent")
	}
	for _, t := range topics {
		if !b.cfg.Router.Wanted(b.cfg.Realm, wamp.URI(t)) {
			continue // no subscriber, no history: nothing to build
		}
		b.send(func(id wamp.ID) wamp.Message {
			return &wamp.Publish{Request: id, Options: wamp.Dict{}, Topic: wamp.URI(t), ArgumentsKw: kw}
		})
	}
}

func validComponent(s string) bool {
	return s != "" && !strings.ContainsAny(s, ". \t\n#")
}

// toDict converts a device document to a WAMP dict (it is one already).
func toDict(d device.Device) map[string]any { return map[string]any(d) }

// serve answers the router's invocations of <prefix>.message.
func (b *Bridge) serve() {
	defer b.wg.Done()
	for m := range b.peer.Recv() {
		inv, ok := m.(*wamp.Invocation)
		if !ok {
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			_ = b.peer.Send(b.invoke(inv)) // a closed session has nobody to answer
		}()
	}
}

func (b *Bridge) invoke(inv *wamp.Invocation) wamp.Message {
	fail := func(uri wamp.URI, msg string) wamp.Message {
		return &wamp.Error{Type: wamp.INVOCATION, Request: inv.Request, Details: wamp.Dict{}, Error: uri, Arguments: wamp.List{msg}}
	}
	msg := device.Device{}
	for k, v := range inv.ArgumentsKw {
		msg[k] = v
	}
	if len(inv.Arguments) > 0 && len(msg) == 0 {
		if d, ok := inv.Arguments[0].(wamp.Dict); ok {
			for k, v := range d {
				msg[k] = v
			}
		}
	}
	if _, ok := msg["devices"]; !ok {
		return fail(wamp.ErrInvalidArgument, "devices is required")
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CallTimeout)
	defer cancel()
	from := ""
	uuid, _ := msg["uuid"].(string)
	token, _ := msg["token"].(string)
	if uuid != "" || token != "" {
		if _, err := b.cfg.Hub.Registry().Authenticate(ctx, uuid, token); err != nil {
			return fail(wamp.ErrNotAuthorized, "device authentication failed")
		}
		from = uuid
	}
	delete(msg, "uuid")
	delete(msg, "token")
	res, err := b.cfg.Hub.Send(ctx, from, msg, hub.SendOptions{})
	if err != nil {
		uri := wamp.URI("skynet.error.failed")
		switch errs.KindOf(err) {
		case errs.Invalid:
			uri = wamp.ErrInvalidArgument
		case errs.NotFound:
			uri = "skynet.error.no_such_device"
		case errs.Forbidden, errs.Unauthorized:
			uri = wamp.ErrNotAuthorized
		case errs.RateLimited:
			uri = "skynet.error.rate_limited"
		}
		return fail(uri, errs.Message(err, "message not delivered"))
	}
	return &wamp.Yield{Request: inv.Request, Options: wamp.Dict{},
		ArgumentsKw: wamp.Dict{"delivered": res.Delivered, "queued": res.Queued}}
}

// Close stops observing, leaves the realm and waits for in-flight calls.
func (b *Bridge) Close() {
	if b.cancel != nil {
		b.cancel()
	}
	b.stop()
	_ = b.peer.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal})
	b.peer.Close()
	b.wg.Wait()
}
