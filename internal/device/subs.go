package device

import (
	"context"
	"strings"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Server-side subscriptions (Meshblu 1.x/core): the subscriber device gets,
// on its own connections, the emitter's traffic of one type. Stored twice
// so both directions are one prefix scan:
//
//	sub/<emitter>/<type>/<subscriber>
//	subby/<subscriber>/<emitter>/<type>
const (
	pSub   = pfx + "sub/"
	pSubBy = pfx + "subby/"
)

// Subscription types.
var subTypes = map[string]bool{
	"broadcast": true, "broadcast.sent": true, "broadcast.received": true,
	"received": true, "message.received": true,
	"sent": true, "message.sent": true,
}

// CanonicalSubType maps a Meshblu subscription type to the three Skyhub
// routes: "broadcast" (the emitter's broadcasts), "received" (messages to
// the emitter), "sent" (messages from the emitter); ok is false for an
// unknown type.
func CanonicalSubType(t string) (string, bool) {
	if !subTypes[t] {
		return "", false
	}
	switch {
	case strings.HasPrefix(t, "broadcast"):
		return "broadcast", true
	case strings.HasSuffix(t, "received"):
		return "received", true
	}
	return "sent", true
}

// Subscription is one server-side subscription.
type Subscription struct {
	SubscriberUUID string `json:"subscriberUuid"`
	EmitterUUID    string `json:"emitterUuid"`
	Type           string `json:"type"`
}

// AddSubscription stores a subscription (idempotent). typ must be canonical.
func (r *Registry) AddSubscription(ctx context.Context, subscriber, emitter, typ string) error {
	if !validUUID(subscriber) || !validUUID(emitter) {
		return errs.E("device.AddSubscription", errs.NotFound, "Device not found")
	}
	if err := r.st.Write(ctx,
		kv.Set([]byte(pSub+emitter+"/"+typ+"/"+subscriber), nil),
		kv.Set([]byte(pSubBy+subscriber+"/"+emitter+"/"+typ), nil)); err != nil {
		return errs.E("device.AddSubscription", errs.Internal, err)
	}
	return nil
}

// RemoveSubscription deletes a subscription (idempotent).
func (r *Registry) RemoveSubscription(ctx context.Context, subscriber, emitter, typ string) error {
	if err := r.st.Write(ctx,
		kv.Del([]byte(pSub+emitter+"/"+typ+"/"+subscriber)),
		kv.Del([]byte(pSubBy+subscriber+"/"+emitter+"/"+typ))); err != nil {
		return errs.E("device.RemoveSubscription", errs.Internal, err)
	}
	return nil
}

// Subscriptions lists subscriber's subscriptions.
func (r *Registry) Subscriptions(ctx context.Context, subscriber string) ([]Subscription, error) {
	out := []Subscription{}
	if !validUUID(subscriber) {
		return out, nil
	}
	o := kv.Prefix([]byte(pSubBy + subscriber + "/"))
	err := kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
		rest := string(k[len(o.Lower):])
		if i := strings.LastIndexByte(rest, '/'); i > 0 {
			out = append(out, Subscription{SubscriberUUID: subscriber, EmitterUUID: rest[:i], Type: rest[i+1:]})
		}
		return true
	})
	if err != nil {
		return nil, errs.E("device.Subscriptions", errs.Internal, err)
	}
	return out, nil
}

// Subscribers lists the devices subscribed to emitter's traffic of type typ.
func (r *Registry) Subscribers(ctx context.Context, emitter, typ string) ([]string, error) {
	var out []string
	if !validUUID(emitter) {
		return nil, nil
	}
	o := kv.Prefix([]byte(pSub + emitter + "/" + typ + "/"))
	err := kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
		out = append(out, string(k[len(o.Lower):]))
		return true
	})
	if err != nil {
		return nil, errs.E("device.Subscribers", errs.Internal, err)
	}
	return out, nil
}
