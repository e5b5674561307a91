// Package sqs is Skyhub's Amazon SQS domain: standard and FIFO queues,
// messages with visibility timeouts, delays, retention, long polling,
// dead-letter redrive and message-move tasks. Every state change is written
// to the kv store (under "sqs/") before it is acknowledged, so an
// acknowledged SendMessage survives kill -9 and a received-but-undeleted
// message reappears after its visibility timeout, across restarts too. The
// working set (queues and their messages) is also kept in memory, indexed
// for receive; the store is read only at start.
//
// The wire protocols (query XML and JSON 1.0) live in sqs/sqsapi.
package sqs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Config configures a Service. Zero values are usable except Store.
type Config struct {
	Store     kv.Store
	Region    string // default us-east-1
	AccountID string // default 000000000000
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// DeletedCooldown is how long a deleted queue's name stays reserved
	// (QueueDeletedRecently); default 60 s, negative disables.
	DeletedCooldown time.Duration
	// PurgeCooldown is how long after a PurgeQueue another one is refused
	// (PurgeQueueInProgress); default 60 s, negative disables.
	PurgeCooldown time.Duration
	// SweepEvery is how often expired messages and dedup entries are removed;
	// default 30 s.
	SweepEvery time.Duration
	// MaxWait caps long polling (WaitTimeSeconds); default 20 s.
	MaxWait time.Duration
}

// Service is the SQS domain. It is safe for concurrent use.
//
// Lock order: Service.mu before queue.mu; never two queue locks at once.
type Service struct {
	cfg Config
	st  kv.Store

	mu      sync.RWMutex
	queues  map[string]*queue // by name
	deleted map[string]time.Time
	tasks   map[string]*moveTask // by handle

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the service on cfg.Store, loading every queue and message.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errs.E("sqs.New", errs.Invalid, "no store")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DeletedCooldown == 0 {
		cfg.DeletedCooldown = 60 * time.Second
	}
	if cfg.PurgeCooldown == 0 {
		cfg.PurgeCooldown = 60 * time.Second
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 30 * time.Second
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 20 * time.Second
	}
	s := &Service{cfg: cfg, st: cfg.Store, queues: map[string]*queue{},
		deleted: map[string]time.Time{}, tasks: map[string]*moveTask{}}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.sweeper()
	s.resumeTasks()
	return s, nil
}

// Close stops the background work (sweeper, move tasks) and wakes every
// long poll. It does not close the store.
func (s *Service) Close() error {
	s.cancel()
	s.mu.RLock()
	for _, q := range s.queues {
		q.mu.Lock()
		q.wakeLocked()
		q.mu.Unlock()
	}
	s.mu.RUnlock()
	s.wg.Wait()
	return nil
}

// AccountID returns the account in queue URLs and ARNs.
func (s *Service) AccountID() string { return s.cfg.AccountID }

// Region returns the region in ARNs.
func (s *Service) Region() string { return s.cfg.Region }

// ARN returns the queue ARN for name.
func (s *Service) ARN(name string) string {
	return "arn:aws:sqs:" + s.cfg.Region + ":" + s.cfg.AccountID + ":" + name
}

// NameFromARN returns the queue name of an SQS ARN in this account.
func (s *Service) NameFromARN(arn string) (string, bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[5] == "" {
		return "", false
	}
	return p[5], true
}

func (s *Service) now() time.Time { return s.cfg.Now() }

func (s *Service) get(op, name string) (*queue, error) {
	s.mu.RLock()
	q := s.queues[name]
	s.mu.RUnlock()
	if q == nil {
		return nil, noQueue(op)
	}
	return q, nil
}

func (s *Service) sweeper() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.Sweep(s.ctx)
		}
	}
}

// Sweep removes messages past their retention period and expired FIFO
// deduplication entries from every queue.
func (s *Service) Sweep(ctx context.Context) error {
	s.mu.RLock()
	qs := make([]*queue, 0, len(s.queues))
	for _, q := range s.queues {
		qs = append(qs, q)
	}
	s.mu.RUnlock()
	now := s.now()
	for _, q := range qs {
		var ops []kv.Op
		q.mu.Lock()
		ret := int64(q.attrs.MessageRetentionPeriod) * int64(time.Second)
		for _, m := range q.msgs {
			if now.UnixNano()-m.Sent >= ret {
				q.removeLocked(m)
				ops = append(ops, delMsgOps(q.id, m)...)
			}
		}
		for id, d := range q.dedup {
			if !now.Before(d.Expires) {
				delete(q.dedup, id)
				ops = append(ops, kv.Del(dedupKey(q.id, id)))
			}
		}
		q.mu.Unlock()
		if len(ops) > 0 {
			if err := s.st.Write(ctx, ops...); err != nil {
				return errs.E("sqs.Sweep", errs.Internal, err)
			}
		}
	}
	return nil
}

// QueueNames returns every queue name starting with prefix, sorted.
func (s *Service) QueueNames(prefix string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for n := range s.queues {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
