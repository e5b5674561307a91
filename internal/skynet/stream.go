package skynet

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"skyhub/internal/device"
	"skyhub/internal/errs"
	"skyhub/internal/hub"
)

// stream is one /subscribe HTTP stream, a hub.Endpoint. Deliver queues
// (bounded); the handler goroutine writes. A stream that falls behind by
// more than its buffer is closed with a reason rather than losing messages
// silently.
type stream struct {
	ch   chan any
	done chan struct{}

	mu      sync.Mutex // orders Deliver against stop: nothing enters ch after done
	stopped bool
	reason  string
}

// TakesEncoded implements hub.EncodedEndpoint (the stream writes messages
// with json.Marshal, which copies an Encoded rendering).
func (s *stream) TakesEncoded() {}

func (s *stream) Deliver(event string, payload any, reply func(args ...any)) error {
	if event != "message" {
		return nil // config/unregistered pushes are for sockets
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errs.E("skynet.stream", errs.Unavailable, "stream closed")
	}
	select {
	case s.ch <- payload:
		return nil
	default:
		s.stopLocked("subscriber too slow: stream buffer full")
		return errs.E("skynet.stream", errs.Unavailable, "subscriber too slow")
	}
}

func (s *stream) stop(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(reason)
}

func (s *stream) stopLocked(reason string) {
	if !s.stopped {
		s.stopped = true
		s.reason = reason
		close(s.done)
	}
}

// subscribe serves GET /subscribe[/:uuid[/:type]]. The lecture's style
// (token in the query) streams a JSON array that is never closed: "[" then
// each message followed by ",\n". With header credentials it streams
// NDJSON, one message per line, as Meshblu does.
//
// What is streamed: with the device's own token or credentials (or as its
// owner), every message addressed to it and its broadcasts; such a stream
// also counts as a live connection of the device (it goes online and gets
// its offline queue). Otherwise the device's broadcasts, if its
// receiveWhitelist allows the caller. type "broadcast" or "received"
// narrows it.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := a.params(r)
	if err != nil {
		return err
	}
	uuid := r.PathValue("uuid")
	typ := r.PathValue("type")
	switch typ {
	case "", "broadcast", "received":
	default:
		return errs.E("skynet.subscribe", errs.Invalid, "subscription type must be broadcast or received")
	}
	hc := headerCreds(r)
	ndjson := hc.header
	var me device.Device
	var full bool
	if tok := str(p, "token"); uuid != "" && tok != "" && !hc.header {
		d, err := a.authenticate(ctx, r, uuid, tok)
		if errs.Is(err, errs.RateLimited) {
			return err
		}
		if err != nil {
			return errNotFoundOrToken
		}
		me, full = d, true
	} else {
		m, err := a.mustCaller(r)
		if err != nil {
			return err
		}
		me = m
		if uuid == "" {
			uuid = me.UUID()
		}
		target := me
		if uuid != me.UUID() {
			target, err = a.reg.Get(ctx, uuid)
			if err != nil {
				return errs.E("skynet.subscribe", errs.NotFound, "Device not found")
			}
		}
		full = uuid == me.UUID() || target["owner"] == me.UUID()
		if !full && !device.Allowed(device.Receive, me.UUID(), target) {
			return errs.E("skynet.subscribe", errs.Forbidden, "not allowed to receive "+uuid+"'s broadcasts")
		}
	}
	if !full && typ == "received" {
		return errs.E("skynet.subscribe", errs.Forbidden, "only the device or its owner may subscribe to received messages")
	}

	s := &stream{ch: make(chan any, a.cfg.StreamBuffer), done: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errs.E("skynet.subscribe", errs.Unavailable, "server shutting down")
	}
	a.streams[s] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.streams, s)
		a.mu.Unlock()
	}()

	flusher, _ := w.(http.Flusher)
	if ndjson {
		w.Header().Set("Content-Type", "application/x-ndjson")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Connection", "keep-alive")
	w.WriteHeader(200)
	if !ndjson {
		w.Write([]byte("[\n"))
	}
	// The headers reach the client only once the stream is attached to
	// the hub (flushed below), so a client that sends a message as soon
	// as its stream answers cannot lose it to the gap before attaching.

	// attached is closed once the stream is attached to the hub.
	var attached <-chan struct{}
	own := full && uuid == me.UUID() && typ == ""
	switch {
	case own:
		// Connect drains the offline queue into the stream: run it beside
		// the writer loop below so a long queue flows instead of
		// overflowing the buffer (which would end the stream early; nothing
		// is lost then, the rest stays queued for the next connection).
		connected := make(chan struct{})
		attached = connected
		go func() {
			defer close(connected)
			if err := a.hub.Connect(ctx, uuid, s, remoteIP(r), "http"); err != nil {
				a.log.Warn("subscribe connect", "uuid", uuid, "err", err)
			}
		}()
		defer func() {
			<-connected
			a.hub.Disconnect(context.WithoutCancel(ctx), uuid, s)
		}()
	default:
		if typ != "broadcast" && full {
			a.hub.Subscribe(s, uuid, hub.Received)
		}
		if typ != "received" {
			a.hub.Subscribe(s, uuid, hub.Broadcasts)
		}
		defer a.hub.UnsubscribeAll(s)
		if flusher != nil {
			flusher.Flush()
		}
	}

	sep := []byte(",\n")
	if ndjson {
		sep = []byte("\n")
	}
	for {
		select {
		case <-attached:
			// Connect has attached the stream and drained the offline
			// queue (whatever it drained was written and flushed below).
			attached = nil
			if flusher != nil {
				flusher.Flush()
			}
		case <-ctx.Done():
			return nil
		case <-s.done:
			// what was accepted before the stop is written out: it may have
			// come from the durable offline queue, which no longer has it
			for more := true; more; {
				select {
				case m := <-s.ch:
					if b, err := json.Marshal(m); err == nil {
						w.Write(append(b, sep...))
					}
				default:
					more = false
				}
			}
			a.log.Debug("subscribe stream closed", "uuid", uuid, "reason", s.reason)
			return nil
		case m := <-s.ch:
			b, err := json.Marshal(m)
			if err != nil {
				continue
			}
			if _, err := w.Write(append(b, sep...)); err != nil {
				return nil
			}
			// write what is queued too before flushing
			for more := true; more; {
				select {
				case m := <-s.ch:
					if b, err := json.Marshal(m); err == nil {
						w.Write(append(b, sep...))
					}
				default:
					more = false
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}
