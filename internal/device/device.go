// Package device is SkyNet's device registry: devices as arbitrary JSON
// documents keyed by uuid, their tokens (stored only as bcrypt hashes), the
// v1 permission whitelists, the event log with SkyNet's event codes, sensor
// data, and the durable per-device offline message queue. Everything lives
// in a kv.Store under the prefix "skynet/".
//
// Key layout (all under "skynet/"):
//
//	dev/<uuid>                  device record {"device":{...},"hash":"<bcrypt>"}
//	ev/<seq>                    event document (seq = 16 hex digits, increasing)
//	evx/<uuid>/<seq>            index: event <seq> concerns <uuid>
//	data/<uuid>/<seq>           sensor data point
//	q/<uuid>/<seq>              queued message for an offline device
//	sub/<emitter>/<type>/<subscriber>, subby/<subscriber>/<emitter>/<type>
//	                            server-side subscriptions (both directions)
package device

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Device is a device document: arbitrary JSON properties plus the ones the
// registry manages (uuid, timestamp, channel, online, ipAddress, _id).
type Device map[string]any

// UUID returns the device's uuid ("" if none).
func (d Device) UUID() string { s, _ := d["uuid"].(string); return s }

// Clone returns a shallow copy.
func (d Device) Clone() Device {
	c := make(Device, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}

// Event codes of the SkyNet event log (spec 2.3).
const (
	EvConnect     = 100
	EvIdentity    = 101
	EvDisconnect  = 102
	EvStatus      = 200
	EvGetEvents   = 201
	EvSubscribe   = 204
	EvUnsubscribe = 205
	EvMessage     = 300
	EvRegister    = 400
	EvUpdate      = 401
	EvUnregister  = 402
	EvQuery       = 403
	EvWhoAmI      = 500
	EvWriteData   = 700
	EvReadData    = 701
)

// Config configures a Registry.
type Config struct {
	Store kv.Store
	// BcryptCost of token hashes (4..31); 0 means bcrypt.DefaultCost.
	BcryptCost int
	// AuthCacheSize bounds the cache of verified (uuid, token) pairs; 0
	// disables caching.
	AuthCacheSize int
	// OfflineMaxMessages bounds each device's offline queue; 0 disables
	// queueing.
	OfflineMaxMessages int
	// OfflineMaxAge expires queued messages; 0 keeps them forever.
	OfflineMaxAge time.Duration
	// EventLogMax bounds the event log: every trimEvery events, events more
	// than EventLogMax sequence numbers old are deleted (the sequence is
	// shared with data points and queued messages, so at most EventLogMax
	// events are kept). 0 keeps every event.
	EventLogMax int
	// EventBatch, when > 0, turns on the event log's batching writer for
	// LogEventLater with a queue of that many events; the owner must then
	// call Close before closing Store. 0: LogEventLater writes at once,
	// like LogEvent.
	EventBatch int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

const trimEvery = 1024

// Registry is the device registry. It is safe for concurrent use.
type Registry struct {
	cfg   Config
	st    kv.Store
	locks [64]sync.Mutex // per-device read-modify-write, striped by uuid

	seqMu sync.Mutex
	seq   uint64

	cache *authCache

	qmu    sync.Mutex
	qcount map[string]int // known queue lengths

	evb *evBatch // the event log's batching writer (LogEventLater)
	dc  devCache // decoded device records for GetShared
	sc  subCache // Subscribers answers
}

const (
	pfx     = "skynet/"
	pDev    = pfx + "dev/"
	pEv     = pfx + "ev/"
	pEvx    = pfx + "evx/"
	pData   = pfx + "data/"
	pQueue  = pfx + "q/"
	maxUUID = 128
)

// New opens a registry on cfg.Store.
func New(ctx context.Context, cfg Config) (*Registry, error) {
	if cfg.Store == nil {
		return nil, errs.E("device.New", errs.Invalid, "no store")
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Registry{cfg: cfg, st: cfg.Store, cache: newAuthCache(cfg.AuthCacheSize), qcount: map[string]int{}, evb: newEvBatch(cfg.Store, cfg.EventBatch)}
	// The sequence continues after the largest used in any sequenced prefix.
	for _, p := range []string{pEv, pData, pQueue} {
		if err := r.loadSeq(ctx, p); err != nil {
			return nil, errs.E("device.New", errs.Internal, err)
		}
	}
	return r, nil
}

func (r *Registry) loadSeq(ctx context.Context, prefix string) error {
	o := kv.Prefix([]byte(prefix))
	if prefix == pEv {
		o.Reverse = true
		return kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
			r.bumpSeq(k)
			return false
		})
	}
	// data/ and q/ are per device: the last key of each device matters.
	return kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
		r.bumpSeq(k)
		return true
	})
}

func (r *Registry) bumpSeq(k []byte) {
	i := bytes.LastIndexByte(k, '/')
	if i < 0 || len(k)-i-1 != 16 {
		return
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], k[i+1:]); err != nil {
		return
	}
	if n := binary.BigEndian.Uint64(b[:]); n > r.seq {
		r.seq = n
	}
}

func (r *Registry) nextSeq() string {
	r.seqMu.Lock()
	r.seq++
	n := r.seq
	r.seqMu.Unlock()
	var b [16]byte // %016x without fmt (once per logged event)
	for i := 15; i >= 0; i-- {
		b[i] = "0123456789abcdef"[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

func (r *Registry) lock(uuid string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(uuid))
	return &r.locks[h.Sum32()%uint32(len(r.locks))]
}

func (r *Registry) nowMs() int64 { return r.cfg.Now().UnixMilli() }

// record is a device as stored.
type record struct {
	Device Device `json:"device"`
	Hash   string `json:"hash"`
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func (r *Registry) load(ctx context.Context, uuid string) (*record, error) {
	if !validUUID(uuid) {
		return nil, errs.E("device.load", errs.NotFound, "Device not found")
	}
	b, err := r.st.Get(ctx, []byte(pDev+uuid))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.E("device.load", errs.NotFound, "Device not found")
		}
		return nil, errs.E("device.load", errs.Internal, err)
	}
	var rec record
	if err := decodeJSON(b, &rec); err != nil {
		return nil, errs.E("device.load", errs.Internal, err)
	}
	if rec.Device == nil {
		rec.Device = Device{}
	}
	return &rec, nil
}

func (r *Registry) store(rec *record) (kv.Op, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return kv.Op{}, errs.E("device.store", errs.Invalid, "device is not JSON-encodable", err)
	}
	return kv.Set([]byte(pDev+rec.Device.UUID()), b), nil
}

// validUUID accepts what can be a key segment: non-empty, bounded, no '/',
// no control characters.
func validUUID(s string) bool {
	if s == "" || len(s) > maxUUID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == '/' || c == 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// NewUUID returns a random (version 4) uuid.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// NewToken returns a random 40-hex-digit token.
func NewToken() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newObjectID(ms int64, seq string) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(ms/1000))
	return hex.EncodeToString(b[:]) + seq
}

// bcrypt takes at most 72 bytes; longer tokens are pre-hashed.
func tokenInput(token string) []byte {
	if len(token) <= 72 {
		return []byte(token)
	}
	s := sha256.Sum256([]byte(token))
	return []byte("sha256:" + hex.EncodeToString(s[:]))
}

// protected fields that a plain update never changes.
var protected = map[string]bool{"uuid": true, "token": true, "_id": true}

// Register creates a device from fields. A proposed uuid is used when it is
// valid and free, else a new one is made; a proposed token is kept, else one
// is made. The result carries the plain token (the only time it is shown).
func (r *Registry) Register(ctx context.Context, fields Device, ip string) (Device, error) {
	const op = "device.Register"
	d := Device{}
	for k, v := range fields {
		if v == nil {
			continue
		}
		d[k] = v
	}
	token, _ := d["token"].(string)
	if token == "" {
		token = NewToken()
	}
	delete(d, "token")
	hash, err := bcrypt.GenerateFromPassword(tokenInput(token), r.cfg.BcryptCost)
	if err != nil {
		return nil, errs.E(op, errs.Internal, "Device not registered", err)
	}
	uuid, _ := d["uuid"].(string)
	for attempt := 0; ; attempt++ {
		if attempt > 0 || !validUUID(uuid) {
			uuid = NewUUID()
		}
		mu := r.lock(uuid)
		mu.Lock()
		_, err := r.st.Get(ctx, []byte(pDev+uuid))
		if err == nil {
			mu.Unlock()
			if attempt > 3 {
				return nil, errs.E(op, errs.Internal, "Device not registered")
			}
			continue
		}
		if !errs.Is(err, errs.NotFound) {
			mu.Unlock()
			return nil, errs.E(op, errs.Internal, "Device not registered", err)
		}
		ms := r.nowMs()
		d["uuid"] = uuid
		d["timestamp"] = ms
		if _, ok := d["channel"]; !ok {
			d["channel"] = "main"
		}
		if _, ok := d["online"]; !ok {
			d["online"] = false
		}
		if ip != "" {
			d["ipAddress"] = ip
		}
		d["_id"] = newObjectID(ms, r.nextSeq())
		setOp, err := r.store(&record{Device: d, Hash: string(hash)})
		if err == nil {
			err = r.st.Write(ctx, setOp)
		}
		mu.Unlock()
		if err != nil {
			return nil, errs.E(op, errs.Internal, "Device not registered", err)
		}
		out := d.Clone()
		out["token"] = token
		return out, nil
	}
}

// Get returns the device (never with a token).
func (r *Registry) Get(ctx context.Context, uuid string) (Device, error) {
	rec, err := r.load(ctx, uuid)
	if err != nil {
		return nil, err
	}
	return rec.Device, nil
}

// Authenticate returns the device when token is its token, else an error of
// kind Unauthorized (also for an unknown uuid: the two are not told apart).
// Verified pairs are cached so bcrypt is paid once per pair.
func (r *Registry) Authenticate(ctx context.Context, uuid, token string) (Device, error) {
	const op = "device.Authenticate"
	bad := errs.E(op, errs.Unauthorized, "Device not found or token not valid")
	if uuid == "" || token == "" {
		return nil, bad
	}
	rec, err := r.load(ctx, uuid)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, bad
		}
		return nil, err
	}
	if r.cache.ok(uuid, token, rec.Hash) {
		return rec.Device, nil
	}
	// Concurrent first requests with the same credentials share one bcrypt
	// comparison (a burst of 64 would otherwise pay 64).
	if !r.cache.verify(uuid, token, rec.Hash, func() bool {
		return bcrypt.CompareHashAndPassword([]byte(rec.Hash), tokenInput(token)) == nil
	}) {
		return nil, bad
	}
	return rec.Device, nil
}

// Update sets fields on the device; a field set to "" or null is removed;
// uuid, token and _id are never changed here. It returns the new device.
func (r *Registry) Update(ctx context.Context, uuid string, fields Device) (Device, error) {
	const op = "device.Update"
	mu := r.lock(uuid)
	mu.Lock()
	defer mu.Unlock()
	rec, err := r.load(ctx, uuid)
	if err != nil {
		return nil, errs.E(op, err)
	}
	for k, v := range fields {
		if protected[k] {
			continue
		}
		if s, ok := v.(string); v == nil || ok && s == "" {
			delete(rec.Device, k)
			continue
		}
		rec.Device[k] = v
	}
	rec.Device["timestamp"] = r.nowMs()
	setOp, err := r.store(rec)
	if err != nil {
		return nil, errs.E(op, err)
	}
	err = r.st.Write(ctx, setOp)
	r.dc.forget(uuid)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return rec.Device, nil
}

// ResetToken gives the device a new token, returned in plain text once.
func (r *Registry) ResetToken(ctx context.Context, uuid string) (string, error) {
	const op = "device.ResetToken"
	token := NewToken()
	hash, err := bcrypt.GenerateFromPassword(tokenInput(token), r.cfg.BcryptCost)
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	mu := r.lock(uuid)
	mu.Lock()
	defer mu.Unlock()
	rec, err := r.load(ctx, uuid)
	if err != nil {
		return "", errs.E(op, err)
	}
	rec.Hash = string(hash)
	setOp, err := r.store(rec)
	if err != nil {
		return "", errs.E(op, err)
	}
	err = r.st.Write(ctx, setOp)
	r.dc.forget(uuid)
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	r.cache.forget(uuid)
	return token, nil
}

// SetOnline records the connection state of a device.
func (r *Registry) SetOnline(ctx context.Context, uuid string, online bool, ip, protocol string) error {
	f := Device{"online": online}
	if ip != "" {
		f["ipAddress"] = ip
	}
	if protocol != "" {
		f["protocol"] = protocol
	}
	_, err := r.Update(ctx, uuid, f)
	return err
}

// Unregister deletes the device, its queue and its data points.
func (r *Registry) Unregister(ctx context.Context, uuid string) error {
	const op = "device.Unregister"
	mu := r.lock(uuid)
	mu.Lock()
	defer mu.Unlock()
	if _, err := r.load(ctx, uuid); err != nil {
		return errs.E(op, err)
	}
	q := kv.Prefix([]byte(pQueue + uuid + "/"))
	dp := kv.Prefix([]byte(pData + uuid + "/"))
	// the device's event index goes too; events themselves stay in the
	// log (other devices' views of them) until trimmed
	ex := kv.Prefix([]byte(pEvx + uuid + "/"))
	ops := []kv.Op{kv.Del([]byte(pDev + uuid)), kv.DelRange(q.Lower, q.Upper), kv.DelRange(dp.Lower, dp.Upper), kv.DelRange(ex.Lower, ex.Upper)}
	// its server-side subscriptions, both as subscriber and as emitter
	subs, err := r.Subscriptions(ctx, uuid)
	if err != nil {
		return errs.E(op, err)
	}
	for _, s := range subs {
		ops = append(ops, kv.Del([]byte(pSub+s.EmitterUUID+"/"+s.Type+"/"+uuid)))
	}
	by := kv.Prefix([]byte(pSubBy + uuid + "/"))
	em := kv.Prefix([]byte(pSub + uuid + "/"))
	ops = append(ops, kv.DelRange(by.Lower, by.Upper), kv.DelRange(em.Lower, em.Upper))
	err = r.st.Write(ctx, ops...)
	r.dc.forget(uuid)
	r.sc.invalidate()
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	r.cache.forget(uuid)
	r.qmu.Lock()
	delete(r.qcount, uuid)
	r.qmu.Unlock()
	return nil
}

// Search calls fn with every device matching filter, until fn returns
// false. A filter value matches when it equals the property's string value
// or its JSON encoding (so online=true and count=3 match typed values);
// "" or "null" match an absent property.
func (r *Registry) Search(ctx context.Context, filter map[string]string, fn func(Device) bool) error {
	return kv.Scan(ctx, r.st, kv.Prefix([]byte(pDev)), func(_, v []byte) bool {
		var rec record
		if decodeJSON(v, &rec) != nil || rec.Device == nil {
			return true
		}
		if Matches(rec.Device, filter) {
			return fn(rec.Device)
		}
		return true
	})
}

// Matches reports whether d matches every filter entry (see Search).
func Matches(d Device, filter map[string]string) bool {
	for k, want := range filter {
		v, ok := d[k]
		if want == "" || want == "null" {
			if ok && v != nil {
				return false
			}
			continue
		}
		if !ok {
			return false
		}
		if s, isStr := v.(string); isStr {
			if s != want {
				return false
			}
			continue
		}
		b, _ := json.Marshal(v)
		if string(b) != want {
			return false
		}
	}
	return true
}

// Permission names a v1 whitelist.
type Permission string

// The v1 permissions (spec 2.6). discover, send and receive are open when the
// device has no list; configure is closed (only the device and its owner).
const (
	Discover  Permission = "discover"
	Configure Permission = "configure"
	Send      Permission = "send"
	Receive   Permission = "receive"
)

var legacyNames = map[Permission]string{Discover: "view", Configure: "update", Send: "send", Receive: "read"}

// Allowed reports whether the device from may act on to with permission p:
// the device itself and its owner always may; otherwise the
// "<p>Whitelist" (or the 2014 name) decides, "*" meaning everyone; a
// "<p>Blacklist" excludes; with no list, every permission but configure is
// open.
func Allowed(p Permission, from string, to Device) bool {
	if from != "" && (from == to.UUID() || to["owner"] == from) {
		return true
	}
	for _, name := range []string{string(p), legacyNames[p]} {
		if l, ok := to[name+"Whitelist"]; ok {
			return listHas(l, from)
		}
	}
	for _, name := range []string{string(p), legacyNames[p]} {
		if l, ok := to[name+"Blacklist"]; ok && from != "" && listHas(l, from) {
			return false
		}
	}
	return p != Configure
}

func listHas(l any, uuid string) bool {
	switch v := l.(type) {
	case string:
		return v == "*" || (uuid != "" && v == uuid)
	case []any:
		for _, e := range v {
			switch x := e.(type) {
			case string:
				if x == "*" || (uuid != "" && x == uuid) {
					return true
				}
			case map[string]any:
				if u, _ := x["uuid"].(string); u == "*" || (uuid != "" && u == uuid) {
					return true
				}
			}
		}
	}
	return false
}

// Public returns the device without secret or internal fields (for
// non-owners).
func Public(d Device) Device {
	c := d.Clone()
	delete(c, "token")
	return c
}

// splitTargets is used by event indexing: the uuids an event concerns.
func eventUUIDs(ev Device) []string {
	var out []string
	var big map[string]bool // past a few uuids a map, below a scan
	seen := func(s string) bool {
		if big != nil {
			if big[s] {
				return true
			}
			big[s] = true
			return false
		}
		for _, o := range out {
			if o == s {
				return true
			}
		}
		if len(out) >= 16 {
			big = make(map[string]bool, 2*len(out))
			for _, o := range out {
				big[o] = true
			}
			big[s] = true
		}
		return false
	}
	add := func(v any) {
		switch x := v.(type) {
		case string:
			if x != "" && x != "*" && x != "all" && validUUID(x) && !seen(x) {
				out = append(out, x)
			}
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok && s != "*" && s != "all" && validUUID(s) && !seen(s) {
					out = append(out, s)
				}
			}
		}
	}
	add(ev["fromUuid"])
	add(ev["uuid"])
	add(ev["devices"])
	add(ev["toUuid"])
	return out
}

// LogEvent appends ev (with eventCode set) to the event log, durably,
// indexed under every uuid it concerns; it stamps timestamp (when absent)
// and returns the event's id. A "token" field is never logged.
func (r *Registry) LogEvent(ctx context.Context, code int, ev Device) (string, error) {
	return r.LogEventEncoded(ctx, code, ev, nil)
}

// LogEventEncoded is LogEvent for a caller that already rendered ev with
// json.Marshal (enc; nil: LogEvent).
func (r *Registry) LogEventEncoded(ctx context.Context, code int, ev Device, enc []byte) (string, error) {
	ops, id, err := r.eventOps(code, ev, enc)
	if err != nil {
		return "", err
	}
	if err := r.st.Write(ctx, ops...); err != nil {
		return "", errs.E("device.LogEvent", errs.Internal, err)
	}
	return id, nil
}

// EventOps returns the writes that log ev, for callers that commit them
// atomically with other writes.
func (r *Registry) EventOps(code int, ev Device) ([]kv.Op, string, error) {
	return r.eventOps(code, ev, nil)
}

// eventOps is EventOps; enc, when not nil, is ev rendered by json.Marshal:
// the entry is then that rendering with eventCode, id (and timestamp when
// absent) appended, without decoding or encoding ev again. Documents that
// carry a field the entry sets or drops (eventCode, id, token, _id) take
// the general path.
func (r *Registry) eventOps(code int, ev Device, enc []byte) ([]kv.Op, string, error) {
	if len(enc) >= 2 && enc[0] == '{' && enc[len(enc)-1] == '}' {
		if _, ok := ev["eventCode"]; !ok {
			if _, ok := ev["id"]; !ok {
				if _, ok := ev["token"]; !ok {
					if _, ok := ev["_id"]; !ok {
						return r.spliceEventOps(code, ev, enc)
					}
				}
			}
		}
	}
	e := ev.Clone()
	delete(e, "token")
	delete(e, "_id")
	e["eventCode"] = code
	ms := r.nowMs()
	if _, ok := e["timestamp"]; !ok {
		e["timestamp"] = ms
	}
	seq := r.nextSeq()
	id := newObjectID(ms, seq)
	e["id"] = id
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", errs.E("device.LogEvent", errs.Invalid, "event is not JSON-encodable", err)
	}
	return r.indexOps(seq, b, e), id, nil
}

func (r *Registry) spliceEventOps(code int, ev Device, enc []byte) ([]kv.Op, string, error) {
	ms := r.nowMs()
	seq := r.nextSeq()
	id := newObjectID(ms, seq)
	b := make([]byte, 0, len(enc)+80)
	b = append(b, enc[:len(enc)-1]...)
	if len(enc) > 2 {
		b = append(b, ',')
	}
	b = append(b, `"eventCode":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"id":"`...)
	b = append(b, id...)
	b = append(b, '"')
	if _, ok := ev["timestamp"]; !ok {
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, ms, 10)
	}
	b = append(b, '}')
	return r.indexOps(seq, b, ev), id, nil
}

// indexOps returns the writes of one event entry: the entry under seq, the
// periodic trim, and an index key under every uuid it concerns.
func (r *Registry) indexOps(seq string, b []byte, e Device) []kv.Op {
	uuids := eventUUIDs(e)
	ops := make([]kv.Op, 0, 2+len(uuids))
	// every key of the entry in one allocation
	n := len(pEv) + len(seq)
	for _, u := range uuids {
		n += len(pEvx) + len(u) + 1 + len(seq)
	}
	keys := make([]byte, 0, n)
	keys = append(append(keys, pEv...), seq...)
	ops = append(ops, kv.Set(keys[:len(keys):len(keys)], b))
	if max := uint64(r.cfg.EventLogMax); max > 0 {
		if n, _ := strconv.ParseUint(seq, 16, 64); n%trimEvery == 0 && n > max {
			// a range tombstone: cheap however many events it covers;
			// index entries left behind are dropped when Events meets them
			ops = append(ops, kv.DelRange([]byte(pEv), []byte(fmt.Sprintf("%s%016x", pEv, n-max))))
		}
	}
	for _, u := range uuids {
		start := len(keys)
		keys = append(append(append(append(keys, pEvx...), u...), '/'), seq...)
		ops = append(ops, kv.Set(keys[start:len(keys):len(keys)], nil))
	}
	return ops
}

// Events returns up to n of the newest events concerning uuid, newest first.
func (r *Registry) Events(ctx context.Context, uuid string, n int) ([]Device, error) {
	var seqs []string
	if !validUUID(uuid) {
		return nil, nil
	}
	// read your writes: events still in the batching writer's queue first
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	o := kv.Prefix([]byte(pEvx + uuid + "/"))
	o.Reverse = true
	err := kv.Scan(ctx, r.st, o, func(k, _ []byte) bool {
		seqs = append(seqs, string(k[len(o.Lower):]))
		return len(seqs) < n
	})
	if err != nil {
		return nil, errs.E("device.Events", errs.Internal, err)
	}
	out := make([]Device, 0, len(seqs))
	var stale []kv.Op
	for _, s := range seqs {
		b, err := r.st.Get(ctx, []byte(pEv+s))
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				// trimmed: this and every older index entry are stale
				stale = append(stale, kv.DelRange(o.Lower, []byte(pEvx+uuid+"/"+s+"\x00")))
				break
			}
			continue
		}
		var e Device
		if decodeJSON(b, &e) == nil {
			out = append(out, e)
		}
	}
	if len(stale) > 0 {
		if err := r.st.Write(ctx, stale...); err != nil {
			return nil, errs.E("device.Events", errs.Internal, err)
		}
	}
	return out, nil
}

// WriteData stores a sensor data point for uuid (stamped with timestamp,
// as an ISO string like the original) and logs event 700.
func (r *Registry) WriteData(ctx context.Context, uuid string, point Device) (Device, error) {
	const op = "device.WriteData"
	p := point.Clone()
	delete(p, "token")
	p["uuid"] = uuid
	now := r.cfg.Now().UTC()
	p["timestamp"] = now.Format("2006-01-02T15:04:05.000Z")
	b, err := json.Marshal(p)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "data is not JSON-encodable", err)
	}
	seq := r.nextSeq()
	evOps, _, err := r.EventOps(EvWriteData, p)
	if err != nil {
		return nil, err
	}
	ops := append([]kv.Op{kv.Set([]byte(pData+uuid+"/"+seq), b)}, evOps...)
	if err := r.st.Write(ctx, ops...); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return p, nil
}

// ReadData returns up to limit data points of uuid whose timestamps lie in
// [start, finish] (zero times are open ends), newest first.
func (r *Registry) ReadData(ctx context.Context, uuid string, start, finish time.Time, limit int) ([]Device, error) {
	var out []Device
	o := kv.Prefix([]byte(pData + uuid + "/"))
	o.Reverse = true
	err := kv.Scan(ctx, r.st, o, func(_, v []byte) bool {
		var p Device
		if decodeJSON(v, &p) != nil {
			return true
		}
		ts, _ := p["timestamp"].(string)
		t, err := time.Parse("2006-01-02T15:04:05.000Z", ts)
		if err == nil {
			if !finish.IsZero() && t.After(finish) {
				return true
			}
			if !start.IsZero() && t.Before(start) {
				return false
			}
		}
		out = append(out, p)
		return len(out) < limit
	})
	if err != nil {
		return nil, errs.E("device.ReadData", errs.Internal, err)
	}
	return out, nil
}
