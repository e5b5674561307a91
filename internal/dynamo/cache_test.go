package dynamo

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
)

func rawNum(t *testing.T, s *Service, table string, key attr.Item, name string) int {
	t.Helper()
	raw, err := s.GetItemRaw(context.Background(), table, key)
	if err != nil {
		t.Error(err)
		return -2
	}
	if raw == nil {
		return -1
	}
	it, err := attr.DecodeItem(raw)
	if err != nil {
		t.Error(err)
		return -2
	}
	n, _ := strconv.Atoi(it[name].Str)
	return n
}

// TestReadCacheCoherent: every kind of write is visible to the next
// GetItem once acknowledged, although the item was cached before it.
func TestReadCacheCoherent(t *testing.T) {
	ctx := context.Background()
	s := open(t, vfs.NewMem(), &clock{})
	if _, err := s.CreateTable(ctx, CreateInput{Name: "cached", Hash: KeyElem{Name: "k", Type: attr.S}, AttrDefs: []KeyElem{{"k", attr.S}}}); err != nil {
		t.Fatal(err)
	}
	key := attr.Item{"k": attr.Str("a")}
	item := func(n int) attr.Item { return attr.Item{"k": attr.Str("a"), "n": num(strconv.Itoa(n))} }
	step := 0
	check := func(want int) {
		t.Helper()
		step++
		if got := rawNum(t, s, "cached", key, "n"); got != want {
			t.Fatalf("step %d: read %d, want %d", step, got, want)
		}
		rawNum(t, s, "cached", key, "n") // and once more from the cache
	}
	check(-1)
	must := func(_ WriteResult, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Write(ctx, WriteOp{Kind: OpPut, Table: "cached", Item: item(1), OldNotNeeded: true})) // blind
	check(1)
	must(s.Write(ctx, WriteOp{Kind: OpPut, Table: "cached", Item: item(2)})) // full path
	check(2)
	upd, err := expr.ParseUpdate("SET n = :v", expr.NewEnv(nil, map[string]attr.Value{":v": num("3")}))
	if err != nil {
		t.Fatal(err)
	}
	must(s.Write(ctx, WriteOp{Kind: OpUpdate, Table: "cached", Key: key, Update: upd}))
	check(3)
	if err := s.TransactWrite(ctx, []WriteOp{{Kind: OpPut, Table: "cached", Item: item(4)}}, "", ""); err != nil {
		t.Fatal(err)
	}
	check(4)
	must(s.Write(ctx, WriteOp{Kind: OpDelete, Table: "cached", Key: key}))
	check(-1)
	must(s.Write(ctx, WriteOp{Kind: OpPut, Table: "cached", Item: item(5)}))
	check(5)
	if _, err := s.DeleteTable(ctx, "cached"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetItemRaw(ctx, "cached", key); err == nil {
		t.Fatal("read from a deleted table")
	}
	if _, err := s.CreateTable(ctx, CreateInput{Name: "cached", Hash: KeyElem{Name: "k", Type: attr.S}, AttrDefs: []KeyElem{{"k", attr.S}}}); err != nil {
		t.Fatal(err)
	}
	check(-1)
}

// TestReadCacheConcurrent: with writers and readers racing on a few items,
// a reader never sees a value older than one it saw before, and a writer
// always reads back at least its own acknowledged value.
func TestReadCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	s := open(t, vfs.NewMem(), &clock{})
	if _, err := s.CreateTable(ctx, CreateInput{Name: "cached", Hash: KeyElem{Name: "k", Type: attr.S}, AttrDefs: []KeyElem{{"k", attr.S}}}); err != nil {
		t.Fatal(err)
	}
	const keys, writes = 3, 300
	var wg, readers sync.WaitGroup
	stop := make(chan struct{})
	for k := 0; k < keys; k++ {
		key := attr.Item{"k": attr.Str("k" + strconv.Itoa(k))}
		wg.Add(1)
		go func() { // one writer per key: values increase
			defer wg.Done()
			for i := 1; i <= writes; i++ {
				it := attr.Item{"k": key["k"], "n": num(strconv.Itoa(i))}
				if _, err := s.Write(ctx, WriteOp{Kind: OpPut, Table: "cached", Item: it, OldNotNeeded: i%2 == 0}); err != nil {
					t.Error(err)
					return
				}
				if got := rawNum(t, s, "cached", key, "n"); got < i {
					t.Errorf("writer read %d after writing %d", got, i)
					return
				}
			}
		}()
		for r := 0; r < 2; r++ {
			readers.Add(1)
			go func() {
				defer readers.Done()
				last := -1
				for {
					select {
					case <-stop:
						return
					default:
					}
					got := rawNum(t, s, "cached", key, "n")
					if got < last {
						t.Errorf("reader saw %d after %d", got, last)
						return
					}
					last = got
				}
			}()
		}
	}
	wg.Wait() // the writers
	close(stop)
	readers.Wait()
}

// TestReadCacheCounter: updates read the old version through the cache
// while readers keep filling it; no increment may be lost.
func TestReadCacheCounter(t *testing.T) {
	ctx := context.Background()
	s := open(t, vfs.NewMem(), &clock{})
	if _, err := s.CreateTable(ctx, CreateInput{Name: "counter", Hash: KeyElem{Name: "k", Type: attr.S}, AttrDefs: []KeyElem{{"k", attr.S}}}); err != nil {
		t.Fatal(err)
	}
	key := attr.Item{"k": attr.Str("c")}
	const workers, each = 4, 100
	var wg, readers sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
					rawNum(t, s, "counter", key, "n")
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				upd, err := expr.ParseUpdate("ADD n :one", expr.NewEnv(nil, map[string]attr.Value{":one": num("1")}))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Write(ctx, WriteOp{Kind: OpUpdate, Table: "counter", Key: key, Update: upd}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if got := rawNum(t, s, "counter", key, "n"); got != workers*each {
		t.Fatalf("counter = %d, want %d", got, workers*each)
	}
}
