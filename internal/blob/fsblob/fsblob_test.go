package fsblob

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"skyhub/internal/errs"
)

func TestWriteCommitOpenDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Create(ctx)
	io.WriteString(w, "hello ")
	io.WriteString(w, "world")
	id, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if string(b) != "hello world" || r.Size() != 11 {
		t.Fatalf("%q %d", b, r.Size())
	}
	r.Close()
	// Aborted blobs leave nothing behind; temp files vanish on reopen.
	w2, _ := s.Create(ctx)
	io.WriteString(w2, "junk")
	w2.Abort()
	w3, _ := s.Create(ctx)
	io.WriteString(w3, "left over")
	s2, _ := Open(Config{Dir: dir})
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("temp files left: %d", len(ents))
	}
	if err := s2.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Open(ctx, id); !errs.Is(err, errs.NotFound) {
		t.Fatal(err)
	}
	if _, err := s2.Open(ctx, "../../etc/passwd"); !errs.Is(err, errs.NotFound) {
		t.Fatal(err)
	}
}
