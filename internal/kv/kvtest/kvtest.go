// Package kvtest is the conformance suite for kv.Store backends: every
// backend runs Run from its own tests.
package kvtest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Run checks a backend. open returns a fresh, empty store; reopen, when not
// nil, closes nothing itself but reopens the same data after the previous
// store was closed (to check persistence).
func Run(t *testing.T, open func(t *testing.T) kv.Store, reopen func(t *testing.T) kv.Store) {
	ctx := context.Background()
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		_, err := s.Get(ctx, []byte("nope"))
		if !errs.Is(err, errs.NotFound) {
			t.Fatalf("Get missing: want NotFound, got %v", err)
		}
	})
	t.Run("SetGetDelete", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		must(t, s.Write(ctx, kv.Set([]byte("a"), []byte("1"))))
		v, err := s.Get(ctx, []byte("a"))
		if err != nil || string(v) != "1" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		// the returned value is a copy
		v[0] = 'x'
		v2, _ := s.Get(ctx, []byte("a"))
		if string(v2) != "1" {
			t.Fatal("Get must return a copy")
		}
		must(t, s.Write(ctx, kv.Set([]byte("a"), []byte("2"))))
		v, _ = s.Get(ctx, []byte("a"))
		if string(v) != "2" {
			t.Fatalf("overwrite: %q", v)
		}
		must(t, s.Write(ctx, kv.Del([]byte("a"))))
		if _, err := s.Get(ctx, []byte("a")); !errs.Is(err, errs.NotFound) {
			t.Fatalf("after delete: %v", err)
		}
		// empty value is a value
		must(t, s.Write(ctx, kv.Set([]byte("e"), nil)))
		if v, err := s.Get(ctx, []byte("e")); err != nil || len(v) != 0 {
			t.Fatalf("empty value: %q %v", v, err)
		}
	})
	t.Run("AtomicBatch", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		must(t, s.Write(ctx, kv.Set([]byte("x"), []byte("1")), kv.Set([]byte("y"), []byte("2")), kv.Del([]byte("x"))))
		if _, err := s.Get(ctx, []byte("x")); !errs.Is(err, errs.NotFound) {
			t.Fatal("later op in a batch must win")
		}
		if v, _ := s.Get(ctx, []byte("y")); string(v) != "2" {
			t.Fatal("batch lost a set")
		}
	})
	t.Run("OrderedIteration", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		var ops []kv.Op
		for i := 0; i < 100; i++ {
			ops = append(ops, kv.Set([]byte(fmt.Sprintf("k/%03d", i)), []byte(fmt.Sprint(i))))
		}
		ops = append(ops, kv.Set([]byte("j"), []byte("before")), kv.Set([]byte("l"), []byte("after")))
		must(t, s.Write(ctx, ops...))
		var got []string
		must(t, kv.Scan(ctx, s, kv.Prefix([]byte("k/")), func(k, v []byte) bool {
			got = append(got, string(k))
			return true
		}))
		if len(got) != 100 || got[0] != "k/000" || got[99] != "k/099" {
			t.Fatalf("prefix scan: %d keys, first %v", len(got), got[:min(3, len(got))])
		}
		got = nil
		o := kv.Prefix([]byte("k/"))
		o.Reverse = true
		must(t, kv.Scan(ctx, s, o, func(k, v []byte) bool {
			got = append(got, string(k))
			return len(got) < 5
		}))
		if len(got) != 5 || got[0] != "k/099" || got[4] != "k/095" {
			t.Fatalf("reverse scan: %v", got)
		}
		got = nil
		must(t, kv.Scan(ctx, s, kv.IterOptions{Lower: []byte("k/050"), Upper: []byte("k/053")}, func(k, v []byte) bool {
			got = append(got, string(k)+"="+string(v))
			return true
		}))
		if fmt.Sprint(got) != "[k/050=50 k/051=51 k/052=52]" {
			t.Fatalf("range scan: %v", got)
		}
	})
	t.Run("DeleteRange", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		for i := 0; i < 10; i++ {
			must(t, s.Write(ctx, kv.Set([]byte{'r', byte(i)}, []byte("v"))))
		}
		must(t, s.Write(ctx, kv.DelRange([]byte{'r', 2}, []byte{'r', 8})))
		n := 0
		must(t, kv.Scan(ctx, s, kv.Prefix([]byte("r")), func(k, v []byte) bool { n++; return true }))
		if n != 4 {
			t.Fatalf("after DeleteRange: %d keys, want 4", n)
		}
	})
	t.Run("SnapshotIteration", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		must(t, s.Write(ctx, kv.Set([]byte("s1"), []byte("a"))))
		it := s.Iter(ctx, kv.Prefix([]byte("s")))
		must(t, s.Write(ctx, kv.Set([]byte("s2"), []byte("b"))))
		n := 0
		for it.Next() {
			n++
		}
		it.Close()
		if n != 1 {
			t.Fatalf("iterator saw %d keys, want the 1 of its snapshot", n)
		}
	})
	t.Run("ConcurrentWriters", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if err := s.Write(ctx, kv.Set([]byte(fmt.Sprintf("c/%d/%d", w, i)), []byte("v"))); err != nil {
						t.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		n := 0
		must(t, kv.Scan(ctx, s, kv.Prefix([]byte("c/")), func(k, v []byte) bool { n++; return true }))
		if n != 400 {
			t.Fatalf("%d keys after concurrent writes, want 400", n)
		}
	})
	t.Run("PrefixEnd", func(t *testing.T) {
		if !bytes.Equal(kv.PrefixEnd([]byte("ab")), []byte("ac")) ||
			!bytes.Equal(kv.PrefixEnd([]byte{'a', 0xff}), []byte("b")) ||
			kv.PrefixEnd([]byte{0xff, 0xff}) != nil {
			t.Fatal("PrefixEnd wrong")
		}
	})
	if reopen != nil {
		t.Run("Persistence", func(t *testing.T) {
			s := open(t)
			must(t, s.Write(ctx, kv.Set([]byte("p"), []byte("kept"))))
			must(t, s.Close())
			s = reopen(t)
			defer s.Close()
			v, err := s.Get(ctx, []byte("p"))
			if err != nil || string(v) != "kept" {
				t.Fatalf("after reopen: %q %v", v, err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// RunClosed checks that a closed store answers with errors, not panics, and
// that Close is idempotent.
func RunClosed(t *testing.T, s kv.Store) {
	ctx := context.Background()
	must(t, s.Close())
	if err := s.Write(ctx, kv.Set([]byte("a"), []byte("1"))); err == nil {
		t.Fatal("Write after Close must fail")
	}
	if _, err := s.Get(ctx, []byte("a")); err == nil || errs.Is(err, errs.NotFound) {
		t.Fatalf("Get after Close: want an error other than NotFound, got %v", err)
	}
	it := s.Iter(ctx, kv.IterOptions{})
	if it.Next() || it.Err() == nil {
		t.Fatal("Iter after Close must fail")
	}
	it.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
