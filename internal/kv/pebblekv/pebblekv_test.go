package pebblekv

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"

	"skyhub/internal/errs"
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

// BenchmarkGetThenWrite is the shape of a small durable PUT (S3 PutObject,
// DynamoDB PutItem): a lookup of a fresh key, then a 1 KiB synced write,
// from 64 concurrent writers. It reports the slowest write (a writer stall
// while a memtable flushes shows up here) and the 99th percentile.
func BenchmarkGetThenWrite(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	var lat []time.Duration
	val := make([]byte, 1024)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			mu.Lock()
			n++
			k := []byte(fmt.Sprintf("s3/o/bucket/key%09d", n))
			mu.Unlock()
			t0 := time.Now()
			if _, err := s.Get(ctx, k); !errs.Is(err, errs.NotFound) {
				b.Fatalf("fresh key: %v", err)
			}
			if err := s.Write(ctx, kv.Set(k, val)); err != nil {
				b.Fatal(err)
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
