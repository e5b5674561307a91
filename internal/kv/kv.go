// Package kv is the ordered key-value interface every Skyhub service stores
// its state through. Keys sort bytewise; a Write is atomic and durable (it
// returns only after the data is fsynced, with concurrent writers sharing
// syncs); iteration is ordered in both directions. The embedded default is
// kv/pebblekv; kv/kvtest is the conformance suite every backend must pass.
package kv

import (
	"context"
	"errors"

	"skyhub/internal/errs"
)

// ErrNotFound is returned (wrapped in an *errs.Error of kind NotFound) by Get
// when the key does not exist.
var ErrNotFound = errors.New("kv: key not found")

// Op is one mutation in an atomic Write: a Set, or a Delete when Delete is
// true, or a DeleteRange of [Key, End) when End is non-nil.
type Op struct {
	Key    []byte
	Value  []byte
	Delete bool
	End    []byte // non-nil: delete every key in [Key, End)
}

// Set returns an Op that sets key to value.
func Set(key, value []byte) Op { return Op{Key: key, Value: value} }

// Del returns an Op that deletes key.
func Del(key []byte) Op { return Op{Key: key, Delete: true} }

// DelRange returns an Op that deletes every key in [start, end).
func DelRange(start, end []byte) Op { return Op{Key: start, End: end, Delete: true} }

// IterOptions bound an iteration to [Lower, Upper); nil means unbounded.
type IterOptions struct {
	Lower, Upper []byte
	Reverse      bool // from the largest key down
}

// Iterator walks keys in order. Key and Value are valid only until the next
// call to Next; copy them to keep them.
type Iterator interface {
	Next() bool
	Key() []byte
	Value() []byte
	Err() error
	Close() error
}

// Store is an ordered, durable key-value store.
type Store interface {
	// Get returns a copy of the value of key, or an error of kind NotFound.
	Get(ctx context.Context, key []byte) ([]byte, error)
	// Write applies ops atomically and returns once they are durable.
	Write(ctx context.Context, ops ...Op) error
	// Iter returns an iterator over a consistent snapshot.
	Iter(ctx context.Context, o IterOptions) Iterator
	// Close flushes and releases the store.
	Close() error
}

// NotFound returns the error Get returns for a missing key.
func NotFound(op string) error { return errs.E(op, errs.NotFound, ErrNotFound) }

// PrefixEnd returns the smallest key greater than every key with the prefix,
// or nil when there is none (the prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Prefix returns options iterating every key that starts with prefix.
func Prefix(prefix []byte) IterOptions {
	return IterOptions{Lower: prefix, Upper: PrefixEnd(prefix)}
}

// Scan calls fn for each key/value in o's range until fn returns false. The
// slices are valid only during the call.
func Scan(ctx context.Context, s Store, o IterOptions, fn func(k, v []byte) bool) error {
	it := s.Iter(ctx, o)
	for it.Next() {
		if err := ctx.Err(); err != nil {
			it.Close()
			return err
		}
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	if err := it.Err(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}
