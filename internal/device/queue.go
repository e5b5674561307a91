package device

import (
	"context"
	"encoding/json"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// QueueOptIn is the device property that opts a device into the durable
// offline queue: messages addressed to it while it has no live connection
// are stored and delivered, in order, when it connects.
const QueueOptIn = "offlineQueue"

// OptedIn reports whether d wants its messages queued while offline.
func OptedIn(d Device) bool {
	switch v := d[QueueOptIn].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

type queued struct {
	At  int64  `json:"at"` // unix ms when queued
	Msg Device `json:"msg"`
}

// QueueLen returns the number of messages queued for uuid.
func (r *Registry) QueueLen(ctx context.Context, uuid string) (int, error) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	return r.queueLenLocked(ctx, uuid)
}

func (r *Registry) queueLenLocked(ctx context.Context, uuid string) (int, error) {
	if n, ok := r.qcount[uuid]; ok {
		return n, nil
	}
	n := 0
	err := kv.Scan(ctx, r.st, kv.Prefix([]byte(pQueue+uuid+"/")), func(_, _ []byte) bool { n++; return true })
	if err != nil {
		return 0, errs.E("device.QueueLen", errs.Internal, err)
	}
	r.qcount[uuid] = n
	return n, nil
}

// Enqueue stores msg durably for the offline device uuid. Expired messages
// are dropped first; when the queue still holds OfflineMaxMessages, msg is
// refused with an error of kind Unavailable (the sender is told; nothing is
// dropped silently).
func (r *Registry) Enqueue(ctx context.Context, uuid string, msg Device) error {
	const op = "device.Enqueue"
	if r.cfg.OfflineMaxMessages <= 0 {
		return errs.E(op, errs.Unavailable, "offline queueing is disabled")
	}
	b, err := json.Marshal(queued{At: r.nowMs(), Msg: msg})
	if err != nil {
		return errs.E(op, errs.Invalid, "message is not JSON-encodable", err)
	}
	r.qmu.Lock()
	defer r.qmu.Unlock()
	n, err := r.queueLenLocked(ctx, uuid)
	if err != nil {
		return err
	}
	if n >= r.cfg.OfflineMaxMessages {
		if err := r.expireLocked(ctx, uuid); err != nil {
			return err
		}
		n = r.qcount[uuid]
		if n >= r.cfg.OfflineMaxMessages {
			return errs.E(op, errs.Unavailable, "offline queue of "+uuid+" is full")
		}
	}
	if err := r.st.Write(ctx, kv.Set([]byte(pQueue+uuid+"/"+r.nextSeq()), b)); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	r.qcount[uuid] = n + 1
	return nil
}

func (r *Registry) expired(at int64) bool {
	return r.cfg.OfflineMaxAge > 0 && r.nowMs()-at > r.cfg.OfflineMaxAge.Milliseconds()
}

func (r *Registry) expireLocked(ctx context.Context, uuid string) error {
	var dels []kv.Op
	err := kv.Scan(ctx, r.st, kv.Prefix([]byte(pQueue+uuid+"/")), func(k, v []byte) bool {
		var q queued
		if decodeJSON(v, &q) != nil || r.expired(q.At) {
			dels = append(dels, kv.Del(append([]byte(nil), k...)))
			return true
		}
		return false // queue is in time order: the rest are younger
	})
	if err == nil && len(dels) > 0 {
		err = r.st.Write(ctx, dels...)
	}
	if err != nil {
		return errs.E("device.expire", errs.Internal, err)
	}
	delete(r.qcount, uuid)
	_, err = r.queueLenLocked(ctx, uuid)
	return err
}

// Drain hands every queued, unexpired message of uuid to deliver, oldest
// first, and deletes each one deliver accepted. It stops at the first
// deliver error, leaving that message and the later ones queued. It
// returns how many were delivered.
func (r *Registry) Drain(ctx context.Context, uuid string, deliver func(Device) error) (int, error) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	var done []kv.Op
	delivered := 0
	var derr error
	err := kv.Scan(ctx, r.st, kv.Prefix([]byte(pQueue+uuid+"/")), func(k, v []byte) bool {
		key := append([]byte(nil), k...)
		var q queued
		if decodeJSON(v, &q) != nil || r.expired(q.At) {
			done = append(done, kv.Del(key))
			return true
		}
		if derr = deliver(q.Msg); derr != nil {
			return false
		}
		delivered++
		done = append(done, kv.Del(key))
		return true
	})
	if len(done) > 0 {
		if werr := r.st.Write(ctx, done...); werr != nil && err == nil {
			err = werr
		}
	}
	delete(r.qcount, uuid)
	if err != nil {
		return delivered, errs.E("device.Drain", errs.Internal, err)
	}
	return delivered, derr
}
