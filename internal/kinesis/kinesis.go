// Package kinesis is Skyhub's Kinesis Data Streams service: streams split
// into shards over the 128-bit hash-key space, durable records with
// per-shard increasing sequence numbers, shard iterators, resharding,
// retention, tags, stream consumers and per-shard throughput limits. Records
// live in internal/kv under "kinesis/" keyed by stream, shard and sequence
// counter, so reading a shard is an ordered range scan. The wire protocol
// lives in kinesis/kinesisapi.
package kinesis

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Errors whose AWS code is not implied by the errs Kind; wire layers test
// them with errors.Is.
var (
	ErrExpiredIterator  = errors.New("ExpiredIteratorException")
	ErrLimitExceeded    = errors.New("LimitExceededException")
	ErrExpiredNextToken = errors.New("ExpiredNextTokenException")
	ErrValidation       = errors.New("ValidationException")
)

// Stream statuses.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusUpdating = "UPDATING"
	StatusDeleting = "DELETING"
)

// Limits per shard (AWS quotas).
const (
	WriteBytesPerSec   = 1 << 20
	WriteRecordsPerSec = 1000
	ReadCallsPerSec    = 5
	ReadBytesPerSec    = 2 << 20
	MaxGetRecordsBytes = 10 << 20
	IteratorTTL        = 5 * time.Minute
	DefaultRetention   = 24
	MaxRetention       = 8760
	MaxConsumers       = 20
	MaxTags            = 50
	onDemandShards     = 4
)

// Config configures the service; zero values are usable.
type Config struct {
	Store     kv.Store
	Region    string
	AccountID string
	// Unlimited lifts the per-shard throughput limits.
	Unlimited bool
	// StatusDelay is how long CREATING/UPDATING/DELETING last.
	StatusDelay time.Duration
	// ShardLimit is the account's open-shard quota (default 500).
	ShardLimit int
	// TrimInterval is how often expired records are deleted (default 1m).
	TrimInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Service is the Kinesis domain service.
type Service struct {
	cfg    Config
	store  kv.Store
	secret []byte
	macs   sync.Pool // HMAC-SHA256 keyed with secret (iterators), reused with Reset

	mu      sync.RWMutex // guards streams; lock order: Service.mu, stream.mu, shard.mu
	streams map[string]*stream

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type shardMeta struct {
	Index      uint32 `json:"i"`
	Parent     string `json:"p,omitempty"`
	Adjacent   string `json:"a,omitempty"`
	Start      string `json:"s"`
	End        string `json:"e"`
	Created    int64  `json:"c"` // ms
	Closed     int64  `json:"x,omitempty"`
	EndCounter uint64 `json:"n,omitempty"`
}

type consumerMeta struct {
	Name    string `json:"n"`
	ARN     string `json:"a"`
	Created int64  `json:"c"`
	Ready   int64  `json:"r"` // ACTIVE from this time (ms)
}

type streamMeta struct {
	Name        string            `json:"name"`
	ARN         string            `json:"arn"`
	Created     int64             `json:"created"` // ms
	Status      string            `json:"status"`  // persisted target status
	StatusUntil int64             `json:"until"`   // transitional status lasts until (ms)
	Retention   int               `json:"retention"`
	Mode        string            `json:"mode"`
	Encryption  string            `json:"enc,omitempty"`
	KeyID       string            `json:"key,omitempty"`
	Metrics     []string          `json:"metrics,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Shards      []shardMeta       `json:"shards"`
	Consumers   []consumerMeta    `json:"consumers,omitempty"`
	Updated     int64             `json:"updated,omitempty"` // last reshard/mode change (ms)
}

type stream struct {
	mu       sync.RWMutex // writers of records take R; control plane takes W
	meta     streamMeta
	shards   []*shard     // by index
	open     []*shard     // open shards sorted by start hash key
	deleting atomic.Int64 // ms when DELETING ends; 0 if not deleting
}

type pend struct {
	counter uint64
	done    bool
}

type shard struct {
	idx     uint32
	id      string
	start   u128
	end     u128
	created uint64 // epoch secs
	key     []byte // record key prefix

	mu          sync.Mutex
	next        uint64 // next counter to assign
	lastArrival int64
	inflight    []*pend
	visible     uint64
	notify      chan struct{}
	closed      bool
	endCounter  uint64
	wBytes      bucket
	wRecs       bucket
	rCalls      bucket
	rBytes      bucket
}

// ShardID formats a shard index.
func ShardID(i uint32) string { return fmt.Sprintf("shardId-%012d", i) }

func parseShardID(s string) (uint32, bool) {
	// AWS accepts any prefix up to the last hyphen ("shardId-5", "5",
	// "x-000000000005"); the number must fit an int32.
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 2147483647 {
			return 0, false
		}
	}
	return uint32(n), true
}

// Key layout under "kinesis/".
func metaKey(name string) []byte { return []byte("kinesis/s/" + name) }
func recPrefix(name string, idx uint32) []byte {
	b := append([]byte("kinesis/r/"+name), 0)
	return binary.BigEndian.AppendUint32(b, idx)
}
func streamRecPrefix(name string) []byte { return append([]byte("kinesis/r/"+name), 0) }
func recKey(prefix []byte, counter uint64) []byte {
	k := make([]byte, len(prefix), len(prefix)+8)
	copy(k, prefix)
	return binary.BigEndian.AppendUint64(k, counter)
}
func hwmKey(name string, idx uint32) []byte {
	b := append([]byte("kinesis/h/"+name), 0)
	return binary.BigEndian.AppendUint32(b, idx)
}

var secretKey = []byte("kinesis/secret")

// New opens the service, recovering streams and sequence counters from the
// store, and starts retention trimming.
func New(ctx context.Context, cfg Config) (*Service, error) {
	const op = "kinesis.New"
	if cfg.Store == nil {
		return nil, errs.E(op, errs.Invalid, "no store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ShardLimit <= 0 {
		cfg.ShardLimit = 500
	}
	if cfg.TrimInterval <= 0 {
		cfg.TrimInterval = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	s := &Service{cfg: cfg, store: cfg.Store, streams: map[string]*stream{}}
	sec, err := s.store.Get(ctx, secretKey)
	if errs.Is(err, errs.NotFound) {
		sec = make([]byte, 32)
		rand.Read(sec)
		if err := s.store.Write(ctx, kv.Set(secretKey, sec)); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
	} else if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	s.secret = sec
	s.macs.New = func() any { return hmac.New(sha256.New, sec) }
	var metas []streamMeta
	err = kv.Scan(ctx, s.store, kv.Prefix([]byte("kinesis/s/")), func(k, v []byte) bool {
		var m streamMeta
		if json.Unmarshal(v, &m) == nil {
			metas = append(metas, m)
		}
		return true
	})
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	for _, m := range metas {
		st := &stream{meta: m}
		if err := s.rebuild(ctx, st, true); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		s.streams[m.Name] = st
	}
	tctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.trimLoop(tctx)
	return s, nil
}

// Close stops background work.
func (s *Service) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }
func (s *Service) nowMs() int64   { return s.now().UnixMilli() }

// rebuild (re)creates st.shards/st.open from st.meta, keeping live shard
// state of shards that already exist. With recover it reads counters from
// the store.
func (s *Service) rebuild(ctx context.Context, st *stream, recover bool) error {
	old := st.shards
	st.shards = make([]*shard, len(st.meta.Shards))
	st.open = st.open[:0]
	for i := range st.meta.Shards {
		m := &st.meta.Shards[i]
		var sh *shard
		if int(m.Index) < len(old) && old[m.Index] != nil {
			sh = old[m.Index]
		} else {
			start, err1 := parseHashKey(m.Start)
			end, err2 := parseHashKey(m.End)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("stream %s: bad shard range", st.meta.Name)
			}
			sh = &shard{idx: m.Index, id: ShardID(m.Index), start: start, end: end,
				created: uint64(m.Created / 1000), key: recPrefix(st.meta.Name, m.Index),
				next: 1, notify: make(chan struct{})}
			if recover {
				if err := s.recoverShard(ctx, st.meta.Name, sh); err != nil {
					return err
				}
			}
		}
		sh.mu.Lock()
		sh.closed = m.Closed != 0
		sh.endCounter = m.EndCounter
		sh.mu.Unlock()
		st.shards[m.Index] = sh
		if m.Closed == 0 {
			st.open = append(st.open, sh)
		}
	}
	sort.Slice(st.open, func(i, j int) bool { return st.open[i].start.cmp(st.open[j].start) < 0 })
	return nil
}

func (s *Service) recoverShard(ctx context.Context, name string, sh *shard) error {
	var hi uint64
	if v, err := s.store.Get(ctx, hwmKey(name, sh.idx)); err == nil && len(v) == 8 {
		hi = binary.BigEndian.Uint64(v)
	} else if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	it := s.store.Iter(ctx, kv.IterOptions{Lower: sh.key, Upper: kv.PrefixEnd(sh.key), Reverse: true})
	if it.Next() {
		k := it.Key()
		if c := binary.BigEndian.Uint64(k[len(k)-8:]); c > hi {
			hi = c
		}
		if v := it.Value(); len(v) >= 8 {
			sh.lastArrival = int64(binary.BigEndian.Uint64(v))
		}
	}
	if err := it.Err(); err != nil {
		it.Close()
		return err
	}
	it.Close()
	sh.next = hi + 1
	sh.visible = hi
	return nil
}

// status returns the stream's current status, resolving timed transitions.
func (s *Service) status(st *stream) string {
	if st.deleting.Load() != 0 {
		return StatusDeleting
	}
	if st.meta.StatusUntil > s.nowMs() {
		return st.meta.Status
	}
	return StatusActive
}

// lookup finds a live (not deleted) stream by name.
func (s *Service) lookup(op, name string) (*stream, error) {
	s.mu.RLock()
	st := s.streams[name]
	s.mu.RUnlock()
	if st != nil && st.deleting.Load() != 0 && st.deleting.Load() <= s.nowMs() {
		s.mu.Lock()
		s.reapLocked()
		s.mu.Unlock()
		st = nil
	}
	if st == nil {
		return nil, s.notFound(op, name)
	}
	return st, nil
}

func (s *Service) notFound(op, name string) error {
	return errs.E(op, errs.NotFound, fmt.Sprintf("Stream %s under account %s not found.", name, s.cfg.AccountID))
}

// CheckStream reports ResourceNotFoundException for a stream that does not
// exist (the wire checks it before request details AWS checks later).
func (s *Service) CheckStream(name string) error {
	_, err := s.lookup("kinesis.CheckStream", name)
	return err
}

// AccountID is the account the streams belong to (used in messages).
func (s *Service) AccountID() string { return s.cfg.AccountID }

// StreamARN returns the ARN of a stream name.
func (s *Service) StreamARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", s.cfg.Region, s.cfg.AccountID, name)
}

func (s *Service) persist(ctx context.Context, st *stream, extra ...kv.Op) error {
	b, err := json.Marshal(st.meta)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, append([]kv.Op{kv.Set(metaKey(st.meta.Name), b)}, extra...)...)
}

func (s *Service) openShardCount() int {
	n := 0
	for _, st := range s.streams {
		if st.deleting.Load() == 0 {
			n += len(st.open)
		}
	}
	return n
}

// CreateStreamInput are CreateStream's arguments.
type CreateStreamInput struct {
	Name       string
	ShardCount int // 0 with OnDemand
	OnDemand   bool
	Tags       map[string]string
}

// CreateStream creates a stream in status CREATING.
func (s *Service) CreateStream(ctx context.Context, in CreateStreamInput) error {
	const op = "kinesis.CreateStream"
	n := in.ShardCount
	mode := "PROVISIONED"
	if in.OnDemand {
		mode = "ON_DEMAND"
		if n == 0 {
			n = onDemandShards
		}
	}
	if n <= 0 {
		return errs.E(op, errs.Invalid, ErrValidation, "1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[in.Name]; ok {
		return errs.E(op, errs.Exists, fmt.Sprintf("Stream %s under account %s already exists.", in.Name, s.cfg.AccountID))
	}
	if open := s.openShardCount(); open+n > s.cfg.ShardLimit {
		return errs.E(op, errs.Invalid, ErrLimitExceeded, fmt.Sprintf(
			"This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			s.cfg.AccountID, s.cfg.Region, open, s.cfg.ShardLimit, n))
	}
	now := s.nowMs()
	m := streamMeta{Name: in.Name, ARN: s.StreamARN(in.Name), Created: now, Status: StatusCreating,
		StatusUntil: now + s.cfg.StatusDelay.Milliseconds(), Retention: DefaultRetention, Mode: mode,
		Encryption: "NONE", Tags: in.Tags}
	for i, r := range splitEven(n) {
		m.Shards = append(m.Shards, shardMeta{Index: uint32(i), Start: r[0].String(), End: r[1].String(), Created: now})
	}
	st := &stream{meta: m}
	if err := s.rebuild(ctx, st, false); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	// A recreated stream must not inherit records of an old one.
	if err := s.persist(ctx, st, kv.DelRange(streamRecPrefix(in.Name), kv.PrefixEnd(streamRecPrefix(in.Name))),
		kv.DelRange(hwmKey(in.Name, 0)[:len("kinesis/h/"+in.Name)+1], kv.PrefixEnd(hwmKey(in.Name, 0)[:len("kinesis/h/"+in.Name)+1]))); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	s.streams[in.Name] = st
	return nil
}

// DeleteStream deletes a stream and its records; it reports DELETING for
// the status delay.
func (s *Service) DeleteStream(ctx context.Context, name string, enforceConsumerDeletion bool) error {
	const op = "kinesis.DeleteStream"
	s.mu.Lock()
	st := s.streams[name]
	if st == nil || st.deleting.Load() != 0 {
		s.mu.Unlock()
		return s.notFound(op, name)
	}
	st.mu.Lock()
	if len(st.meta.Consumers) > 0 && !enforceConsumerDeletion {
		st.mu.Unlock()
		s.mu.Unlock()
		return errs.E(op, errs.Conflict, fmt.Sprintf("Stream %s under account %s has registered consumers.", name, s.cfg.AccountID))
	}
	st.deleting.Store(s.nowMs() + s.cfg.StatusDelay.Milliseconds())
	st.mu.Unlock()
	hp := []byte("kinesis/h/" + name + "\x00")
	err := s.store.Write(ctx, kv.Del(metaKey(name)),
		kv.DelRange(streamRecPrefix(name), kv.PrefixEnd(streamRecPrefix(name))),
		kv.DelRange(hp, kv.PrefixEnd(hp)))
	if err != nil {
		st.deleting.Store(0)
		s.mu.Unlock()
		return errs.E(op, errs.Internal, err)
	}
	if s.cfg.StatusDelay <= 0 {
		delete(s.streams, name)
	}
	s.mu.Unlock()
	s.wakeAll(st)
	return nil
}

// reap removes streams whose DELETING period has ended. Called with s.mu held.
func (s *Service) reapLocked() {
	now := s.nowMs()
	for n, st := range s.streams {
		if st.deleting.Load() != 0 && st.deleting.Load() <= now {
			delete(s.streams, n)
		}
	}
}

func (s *Service) wakeAll(st *stream) {
	for _, sh := range st.shards {
		sh.mu.Lock()
		close(sh.notify)
		sh.notify = make(chan struct{})
		sh.mu.Unlock()
	}
}
