package pebblekv

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"skyhub/internal/kv"
	"skyhub/internal/kv/kvtest"
)

func TestConformanceInMemory(t *testing.T) {
	var fs vfs.FS
	kvtest.Run(t,
		func(t *testing.T) kv.Store {
			fs = vfs.NewMem()
			s, err := Open(Config{FS: fs, Dir: "db"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		func(t *testing.T) kv.Store {
			s, err := Open(Config{FS: fs, Dir: "db"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
}

func TestConformanceOnDisk(t *testing.T) {
	var dir string
	kvtest.Run(t,
		func(t *testing.T) kv.Store {
			dir = t.TempDir()
			s, err := Open(Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		func(t *testing.T) kv.Store {
			s, err := Open(Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
}

// BenchmarkWriteParallel measures durable (fsynced) single-key writes with
// many concurrent writers sharing syncs.
func BenchmarkWriteParallel(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			k := fmt.Sprintf("k%09d", n)
			mu.Unlock()
			if err := s.Write(ctx, kv.Set([]byte(k), make([]byte, 200))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestUseAfterClose(t *testing.T) {
	s, err := Open(Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	kvtest.RunClosed(t, s)
}
