// Package blob is the object-bytes interface: durable, immutable blobs named
// by an ID, written by streaming (never held whole in memory) and committed
// atomically. blob/fsblob keeps them as files on local disk; a distributed
// store can replace it behind the same interface.
package blob

import (
	"context"
	"io"
)

// Writer receives one blob's bytes. Nothing is visible until Commit, which
// returns only once the bytes are durable; Abort discards them.
type Writer interface {
	io.Writer
	// Commit makes the blob durable under a new ID and returns the ID.
	Commit(ctx context.Context) (id string, err error)
	// Abort discards the bytes written so far; safe after Commit (no-op).
	Abort() error
}

// Reader reads a committed blob with random access.
type Reader interface {
	io.ReadSeekCloser
	io.ReaderAt
	Size() int64
}

// Store holds blobs.
type Store interface {
	// Create starts a new blob.
	Create(ctx context.Context) (Writer, error)
	// Open opens a committed blob; a missing one is an errs.NotFound.
	Open(ctx context.Context, id string) (Reader, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, id string) error
	// Close releases the store.
	Close() error
}
