// Package fsblob is the local-disk blob store: each blob is one file, written
// to a temporary file, fsynced, renamed into place under a two-level fan-out
// directory, and the directory fsynced, before Commit returns.
package fsblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"skyhub/internal/blob"
	"skyhub/internal/errs"
)

// Config configures a Store.
type Config struct {
	// Dir is the root directory (created if missing).
	Dir string
	// NoSync skips fsync (tests only; breaks the durability promise).
	NoSync bool
}

// Store is a blob.Store on a local directory.
type Store struct {
	cfg     Config
	mu      sync.Mutex
	madeDir map[string]bool // fan-out directories known to exist durably
}

// Open returns a store rooted at cfg.Dir, removing leftover temporary files.
func Open(cfg Config) (*Store, error) {
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "tmp"), filepath.Join(cfg.Dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, errs.E("fsblob.Open", errs.Internal, err)
		}
	}
	tmp := filepath.Join(cfg.Dir, "tmp")
	if ents, err := os.ReadDir(tmp); err == nil {
		for _, e := range ents {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return &Store{cfg: cfg, madeDir: map[string]bool{}}, nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func (s *Store) path(id string) (dir, file string) {
	dir = filepath.Join(s.cfg.Dir, "data", id[:2], id[2:4])
	return dir, filepath.Join(dir, id)
}

// Create starts a new blob in a temporary file.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	id := newID()
	f, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), id+"-*")
	if err != nil {
		return nil, errs.E("fsblob.Create", errs.Internal, err)
	}
	return &writer{s: s, f: f, id: id}, nil
}

type writer struct {
	s    *Store
	f    *os.File
	id   string
	done bool
}

func (w *writer) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *writer) Commit(ctx context.Context) (string, error) {
	const op = "fsblob.Commit"
	if w.done {
		return "", errs.E(op, errs.Internal, "blob already finished")
	}
	w.done = true
	tmp := w.f.Name()
	if !w.s.cfg.NoSync {
		if err := w.f.Sync(); err != nil {
			w.f.Close()
			os.Remove(tmp)
			return "", errs.E(op, errs.Internal, err)
		}
	}
	if err := w.f.Close(); err != nil {
		os.Remove(tmp)
		return "", errs.E(op, errs.Internal, err)
	}
	dir, final := w.s.path(w.id)
	if err := w.s.ensureDir(dir); err != nil {
		os.Remove(tmp)
		return "", errs.E(op, errs.Internal, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", errs.E(op, errs.Internal, err)
	}
	if err := w.s.syncDir(dir); err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	return w.id, nil
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	return os.Remove(w.f.Name())
}

// ensureDir creates a fan-out directory durably (its parents' entries synced).
func (s *Store) ensureDir(dir string) error {
	s.mu.Lock()
	known := s.madeDir[dir]
	s.mu.Unlock()
	if known {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := s.syncDir(parent); err != nil {
		return err
	}
	if err := s.syncDir(filepath.Dir(parent)); err != nil {
		return err
	}
	s.mu.Lock()
	s.madeDir[dir] = true
	s.mu.Unlock()
	return nil
}

func (s *Store) syncDir(dir string) error {
	if s.cfg.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	return err
}

type reader struct {
	*os.File
	size int64
}

func (r *reader) Size() int64 { return r.size }

// Open opens a committed blob.
func (s *Store) Open(ctx context.Context, id string) (blob.Reader, error) {
	if !validID(id) {
		return nil, errs.E("fsblob.Open", errs.NotFound, fmt.Sprintf("no blob %q", id))
	}
	_, p := s.path(id)
	f, err := os.Open(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, errs.E("fsblob.Open", errs.NotFound, "no such blob", err)
		}
		return nil, errs.E("fsblob.Open", errs.Internal, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, errs.E("fsblob.Open", errs.Internal, err)
	}
	return &reader{File: f, size: st.Size()}, nil
}

// Delete removes a blob.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return nil
	}
	_, p := s.path(id)
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return errs.E("fsblob.Delete", errs.Internal, err)
	}
	return nil
}

// Close releases the store (nothing to release).
func (s *Store) Close() error { return nil }

var _ blob.Store = (*Store)(nil)
