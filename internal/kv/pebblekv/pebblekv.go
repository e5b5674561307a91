// Package pebblekv is the embedded kv.Store: cockroachdb/pebble, an LSM with a
// write-ahead log whose commit pipeline lets concurrent synced writes share
// one fsync (group commit). Tests run it on pebble's in-memory filesystem.
package pebblekv

import (
	"context"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Config configures a Store.
type Config struct {
	// Dir is the directory of the database. Ignored when InMemory.
	Dir string
	// InMemory keeps everything in memory (tests). Writes are still "synced"
	// through the same path, so code under test behaves the same.
	InMemory bool
	// FS, when set, overrides the filesystem (tests that reopen an in-memory
	// store pass the same vfs.FS twice).
	FS vfs.FS
	// CacheBytes is the block cache size; 0 picks 32 MiB.
	CacheBytes int64
}

// Store is a kv.Store on pebble.
type Store struct {
	db *pebble.DB
	// mu makes use after Close an error instead of a pebble panic: every
	// operation holds it shared, Close holds it exclusively.
	mu     sync.RWMutex
	closed bool
}

// errClosed is returned by every operation after Close.
func errClosed(op string) error { return errs.E(op, errs.Unavailable, "storage is closed") }

var _ kv.Store = (*Store)(nil)

// Open opens (creating if needed) the database.
func Open(cfg Config) (*Store, error) {
	cache := cfg.CacheBytes
	if cache == 0 {
		cache = 32 << 20
	}
	c := pebble.NewCache(cache)
	defer c.Unref()
	opts := &pebble.Options{
		Cache:  c,
		Logger: quietLogger{},
		// Small memtables keep idle RSS low; pebble flushes in the background.
		MemTableSize: 8 << 20,
		// With pebble's default of 2, writers stop as soon as one memtable
		// is being flushed and the next fills up (200-360 ms stalls against
		// a busy disk). Queued memtables are allocated only when needed, so
		// allowing 4 costs memory under a write burst only, not at idle.
		MemTableStopWritesThreshold: 4,
		// Let L0 grow further before writers are stopped for compaction: a
		// burst is absorbed and compacted afterwards.
		L0CompactionThreshold: 4,
		L0StopWritesThreshold: 24,
	}
	// Bloom filters on every level: most puts first look up a fresh key
	// (does the object/item exist?), which without a filter reads an index
	// and data block of each overlapping table.
	opts.Levels = make([]pebble.LevelOptions, 7)
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].FilterType = pebble.TableFilter
	}
	dir := cfg.Dir
	switch {
	case cfg.FS != nil:
		opts.FS = cfg.FS
	case cfg.InMemory:
		opts.FS = vfs.NewMem()
		dir = "mem"
	}
	if dir == "" {
		return nil, errs.E("pebblekv.Open", errs.Invalid, "no directory given")
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, errs.E("pebblekv.Open", errs.Internal, err)
	}
	return &Store{db: db}, nil
}

// Get implements kv.Store.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed("kv.Get")
	}
	v, closer, err := s.db.Get(key)
	if err == pebble.ErrNotFound {
		return nil, kv.NotFound("kv.Get")
	}
	if err != nil {
		return nil, errs.E("kv.Get", errs.Internal, err)
	}
	out := make([]byte, len(v))
	copy(out, v)
	closer.Close()
	return out, nil
}

// Write implements kv.Store: one pebble batch committed with Sync, so it
// returns after the WAL is fsynced; pebble groups concurrent commits into
// one sync.
func (s *Store) Write(ctx context.Context, ops ...kv.Op) error {
	if len(ops) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return errs.E("kv.Write", errs.Unavailable, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("kv.Write")
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, op := range ops {
		var err error
		switch {
		case op.End != nil:
			err = b.DeleteRange(op.Key, op.End, nil)
		case op.Delete:
			err = b.Delete(op.Key, nil)
		default:
			err = b.Set(op.Key, op.Value, nil)
		}
		if err != nil {
			return errs.E("kv.Write", errs.Internal, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return errs.E("kv.Write", errs.Internal, err)
	}
	return nil
}

// Iter implements kv.Store.
func (s *Store) Iter(ctx context.Context, o kv.IterOptions) kv.Iterator {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return &iter{err: errClosed("kv.Iter")}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: o.Lower, UpperBound: o.Upper})
	if err != nil {
		return &iter{err: errs.E("kv.Iter", errs.Internal, err)}
	}
	return &iter{it: it, reverse: o.Reverse}
}

// Close implements kv.Store: flushes the memtable and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Flush(); err != nil {
		s.db.Close()
		return errs.E("kv.Close", errs.Internal, err)
	}
	if err := s.db.Close(); err != nil {
		return errs.E("kv.Close", errs.Internal, err)
	}
	return nil
}

// Metrics returns pebble's own metrics summary (for /metrics and debugging).
func (s *Store) Metrics() *pebble.Metrics { return s.db.Metrics() }

type iter struct {
	it      *pebble.Iterator
	reverse bool
	started bool
	err     error
}

func (i *iter) Next() bool {
	if i.it == nil {
		return false
	}
	if !i.started {
		i.started = true
		if i.reverse {
			return i.it.Last()
		}
		return i.it.First()
	}
	if i.reverse {
		return i.it.Prev()
	}
	return i.it.Next()
}

func (i *iter) Key() []byte   { return i.it.Key() }
func (i *iter) Value() []byte { return i.it.Value() }

func (i *iter) Err() error {
	if i.err != nil {
		return i.err
	}
	if i.it != nil {
		if err := i.it.Error(); err != nil {
			return errs.E("kv.Iter", errs.Internal, err)
		}
	}
	return nil
}

func (i *iter) Close() error {
	if i.it == nil {
		return i.err
	}
	err := i.it.Close()
	i.it = nil
	if err != nil {
		return errs.E("kv.Iter", errs.Internal, err)
	}
	return nil
}

// quietLogger drops pebble's informational chatter and keeps failures.
type quietLogger struct{}

func (quietLogger) Infof(format string, args ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	// Errors surface through returned errors too; printing them here would
	// reach stderr without our structured logger, so keep it minimal.
	_ = fmt.Sprintf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
