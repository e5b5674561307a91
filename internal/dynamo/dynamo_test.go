package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"

	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
	"skyhub/internal/errs"
	"skyhub/internal/kv/pebblekv"
)

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(c.t.Load(), 0) }

func open(t *testing.T, fs vfs.FS, clk *clock) *Service {
	s, _ := openStore(t, fs, clk)
	return s
}

func openStore(t *testing.T, fs vfs.FS, clk *clock) (*Service, func()) {
	t.Helper()
	st, err := pebblekv.Open(pebblekv.Config{FS: fs, Dir: "db"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Config{KV: st, Now: clk.now, TTLInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	closeAll := sync.OnceFunc(func() { s.Close(); st.Close() })
	t.Cleanup(closeAll)
	return s, closeAll
}

func num(s string) attr.Value { v, _ := attr.Num(s); return v }

func sensors(t *testing.T, s *Service) {
	t.Helper()
	_, err := s.CreateTable(context.Background(), CreateInput{
		Name: "sensors", Hash: KeyElem{Name: "dev"}, Range: &KeyElem{Name: "ts"},
		AttrDefs: []KeyElem{{"dev", attr.S}, {"ts", attr.N}, {"temp", attr.N}},
		Indexes:  []*Index{{Name: "by-temp", Hash: KeyElem{Name: "dev"}, Range: &KeyElem{Name: "temp"}, Projection: "KEYS_ONLY"}},
		Stream:   StreamSpec{Enabled: true, ViewType: "NEW_AND_OLD_IMAGES"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, s *Service, it attr.Item) {
	t.Helper()
	if _, err := s.Write(context.Background(), WriteOp{Kind: OpPut, Table: "sensors", Item: it}); err != nil {
		t.Fatal(err)
	}
}

func records(t *testing.T, s *Service) []map[string]any {
	t.Helper()
	si := s.ListStreams("sensors")[0]
	it, err := s.ShardIterator(si.ARN, si.ShardID, "TRIM_HORIZON", "")
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for it != "" {
		recs, next, err := s.GetRecords(context.Background(), it, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			var m map[string]any
			json.Unmarshal(r, &m)
			out = append(out, m)
		}
		if len(recs) == 0 {
			break
		}
		it = next
	}
	return out
}

func TestLSIAndTTLWithStreams(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	clk.t.Store(1000)
	s := open(t, vfs.NewMem(), clk)
	sensors(t, s)
	for i := 0; i < 5; i++ {
		put(t, s, attr.Item{"dev": attr.Str("d"), "ts": num(strconv.Itoa(i)), "temp": num(strconv.Itoa(30 - i)), "exp": num(strconv.Itoa(1000 + i*10))})
	}
	pg, err := s.Query(ctx, QueryInput{Table: "sensors", Index: "by-temp", Hash: attr.Str("d"), Range: &RangeCond{Op: "<", V: num("28")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) != 2 || pg.Items[0]["temp"].Str != "26" || len(pg.Items[0]) != 3 {
		t.Fatalf("LSI query = %v", pg.Items)
	}
	if err := s.UpdateTTL(ctx, "sensors", "exp", true); err != nil {
		t.Fatal(err)
	}
	clk.t.Store(1015) // items with exp 1000 and 1010 are due
	n, err := s.ExpireNow(ctx)
	if err != nil || n != 2 {
		t.Fatalf("expired %d, %v", n, err)
	}
	pg, _ = s.Query(ctx, QueryInput{Table: "sensors", Hash: attr.Str("d")})
	if len(pg.Items) != 3 || pg.Items[0]["ts"].Str != "2" {
		t.Fatalf("after TTL: %v", pg.Items)
	}
	recs := records(t, s)
	if len(recs) != 7 {
		t.Fatalf("%d stream records, want 7", len(recs))
	}
	last := recs[6]
	if last["eventName"] != "REMOVE" || last["userIdentity"].(map[string]any)["principalId"] != "dynamodb.amazonaws.com" {
		t.Fatalf("TTL record = %v", last)
	}
	if _, ok := last["dynamodb"].(map[string]any)["OldImage"]; !ok {
		t.Fatalf("TTL record lacks the old image: %v", last)
	}
}

func TestGSIBackfillDropAndRestart(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	clk := &clock{}
	s, closeAll := openStore(t, fs, clk)
	sensors(t, s)
	for i := 0; i < 50; i++ {
		it := attr.Item{"dev": attr.Str("d" + strconv.Itoa(i%5)), "ts": num(strconv.Itoa(i))}
		if i%2 == 0 {
			it["site"] = attr.Str("s" + strconv.Itoa(i%3)) // sparse: only even items
		}
		put(t, s, it)
	}
	_, err := s.UpdateTable(ctx, UpdateInput{Name: "sensors", AttrDefs: []KeyElem{{"site", attr.S}},
		CreateGSI: []*Index{{Name: "by-site", Hash: KeyElem{Name: "site"}, Range: &KeyElem{Name: "ts"}}}})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		total := 0
		for i := 0; i < 3; i++ {
			pg, err := s.Query(ctx, QueryInput{Table: "sensors", Index: "by-site", Hash: attr.Str("s" + strconv.Itoa(i))})
			if err != nil {
				t.Fatal(err)
			}
			total += len(pg.Items)
		}
		return total
	}
	if n := count(); n != 25 {
		t.Fatalf("backfilled GSI holds %d items, want 25", n)
	}
	// a scan of the index sees the same
	pg, err := s.Scan(ctx, ScanInput{Table: "sensors", Index: "by-site"})
	if err != nil || len(pg.Items) != 25 {
		t.Fatalf("index scan: %d %v", len(pg.Items), err)
	}
	// consistent reads are refused on a GSI
	if _, err := s.Query(ctx, QueryInput{Table: "sensors", Index: "by-site", Hash: attr.Str("s0"), Consistent: true}); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("consistent GSI read: %v", err)
	}
	// drop it
	if _, err := s.UpdateTable(ctx, UpdateInput{Name: "sensors", DeleteGSI: []string{"by-site"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query(ctx, QueryInput{Table: "sensors", Index: "by-site", Hash: attr.Str("s0")}); err == nil {
		t.Fatal("dropped index still answers")
	}
	d, _ := s.DescribeTable(ctx, "sensors")
	if d.ItemCount != 50 {
		t.Fatalf("item count %d", d.ItemCount)
	}
	// restart on the same files: tables, counts and stream numbering survive
	seqBefore := len(records(t, s))
	closeAll()
	s2 := open(t, fs, clk)
	d, err = s2.DescribeTable(ctx, "sensors")
	if err != nil || d.ItemCount != 50 {
		t.Fatalf("after restart: %v %v", d.ItemCount, err)
	}
	if _, err := s2.Write(ctx, WriteOp{Kind: OpDelete, Table: "sensors", Key: attr.Item{"dev": attr.Str("d0"), "ts": num("0")}}); err != nil {
		t.Fatal(err)
	}
	recs := records(t, s2)
	if len(recs) != seqBefore+1 || recs[len(recs)-1]["eventName"] != "REMOVE" {
		t.Fatalf("stream after restart: %d records (before %d)", len(recs), seqBefore)
	}
}

func TestConditionalWritesAndUpdate(t *testing.T) {
	ctx := context.Background()
	s := open(t, vfs.NewMem(), &clock{})
	sensors(t, s)
	key := attr.Item{"dev": attr.Str("d"), "ts": num("1")}
	env := expr.NewEnv(nil, map[string]attr.Value{":one": num("1"), ":z": num("0")})
	u, err := expr.ParseUpdate("SET hits = if_not_exists(hits, :z) + :one", env)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Write(ctx, WriteOp{Kind: OpUpdate, Table: "sensors", Key: key, Update: u}); err != nil {
			t.Fatal(err)
		}
	}
	it, _ := s.GetItem(ctx, "sensors", key)
	if it["hits"].Str != "3" {
		t.Fatalf("hits = %v", it["hits"])
	}
	cond, _ := expr.ParseCondition("ConditionExpression", "hits < :one", env)
	_, err = s.Write(ctx, WriteOp{Kind: OpDelete, Table: "sensors", Key: key, Cond: cond, ReturnOldOnFail: true})
	var ce *CondFailedError
	if !errors.As(err, &ce) || ce.Item["hits"].Str != "3" {
		t.Fatalf("want a condition failure carrying the item, got %v", err)
	}
	// keys cannot be updated
	ku, _ := expr.ParseUpdate("SET ts = :one", expr.NewEnv(nil, map[string]attr.Value{":one": num("1")}))
	if _, err := s.Write(ctx, WriteOp{Kind: OpUpdate, Table: "sensors", Key: key, Update: ku}); err == nil ||
		!strings.Contains(err.Error(), "Cannot update attribute ts. This attribute is part of the key") {
		t.Fatalf("key update: %v", err)
	}
	// wrong key shape
	if _, err := s.GetItem(ctx, "sensors", attr.Item{"dev": attr.Str("d")}); err == nil ||
		!strings.Contains(err.Error(), "The provided key element does not match the schema") {
		t.Fatalf("short key: %v", err)
	}
}

func TestStreamTrim(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	clk.t.Store(1000)
	s := open(t, vfs.NewMem(), clk)
	sensors(t, s)
	put(t, s, attr.Item{"dev": attr.Str("d"), "ts": num("1")})
	put(t, s, attr.Item{"dev": attr.Str("d"), "ts": num("2")})
	clk.t.Store(1000 + 3600)
	put(t, s, attr.Item{"dev": attr.Str("d"), "ts": num("3")})
	clk.t.Store(1000 + 24*3600 + 1) // the first two are past retention
	n, err := s.TrimStreams(ctx)
	if err != nil || n != 2 {
		t.Fatalf("trimmed %d, %v", n, err)
	}
	recs := records(t, s)
	if len(recs) != 1 || recs[0]["dynamodb"].(map[string]any)["SequenceNumber"] != SeqString(3) {
		t.Fatalf("after trim: %v", recs)
	}
	if si := s.ListStreams("sensors")[0]; si.StartSeq != SeqString(3) {
		t.Fatalf("StartingSequenceNumber %s", si.StartSeq)
	}
}

// A write that changes nothing leaves no stream record.
func TestUnchangedWriteNoStreamRecord(t *testing.T) {
	s := open(t, vfs.NewMem(), &clock{})
	sensors(t, s)
	it := attr.Item{"dev": attr.Str("d"), "ts": num("1"), "v": num("1.50")}
	put(t, s, it)
	put(t, s, attr.Item{"dev": attr.Str("d"), "ts": num("1"), "v": num("1.5")})
	put(t, s, attr.Item{"dev": attr.Str("d"), "ts": num("1"), "v": num("2")})
	recs := records(t, s)
	if len(recs) != 2 || recs[0]["eventName"] != "INSERT" || recs[1]["eventName"] != "MODIFY" {
		t.Fatalf("records: %v", recs)
	}
}

// TestBlindPutStats: unconditional puts on a plain table (which skip
// reading the previous version) leave the described item count and size
// exactly as the full write path does, and the item reads back.
func TestBlindPutStats(t *testing.T) {
	ctx := context.Background()
	s := open(t, vfs.NewMem(), &clock{})
	for _, name := range []string{"blind", "full"} {
		if _, err := s.CreateTable(ctx, CreateInput{Name: name, Hash: KeyElem{Name: "k", Type: attr.S},
			AttrDefs: []KeyElem{{"k", attr.S}}}); err != nil {
			t.Fatal(err)
		}
	}
	items := []attr.Item{
		{"k": attr.Str("a"), "v": num("1")},
		{"k": attr.Str("b"), "v": attr.Str(strings.Repeat("x", 100))},
		{"k": attr.Str("a"), "v": attr.Value{T: attr.L, List: []attr.Value{num("-12.5"), {T: attr.M, Map: attr.Item{"z": {T: attr.BOOL}}}}}},
		{"k": attr.Str("b"), "w": {T: attr.NS, Strs: []string{"1", "22"}}},
	}
	for _, it := range items {
		for _, name := range []string{"blind", "full"} {
			if _, err := s.Write(ctx, WriteOp{Kind: OpPut, Table: name, Item: it, OldNotNeeded: name == "blind"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, _ := s.DescribeTable(ctx, "blind")
	f, _ := s.DescribeTable(ctx, "full")
	want := items[2].Size() + items[3].Size()
	if b.ItemCount != 2 || f.ItemCount != 2 || b.SizeBytes != int64(want) || f.SizeBytes != int64(want) {
		t.Fatalf("blind %d/%d, full %d/%d, want 2/%d", b.ItemCount, b.SizeBytes, f.ItemCount, f.SizeBytes, want)
	}
	// a counted delete and another blind put after a description
	if _, err := s.Write(ctx, WriteOp{Kind: OpDelete, Table: "blind", Key: attr.Item{"k": attr.Str("b")}}); err != nil {
		t.Fatal(err)
	}
	c := attr.Item{"k": attr.Str("c")}
	if _, err := s.Write(ctx, WriteOp{Kind: OpPut, Table: "blind", Item: c, OldNotNeeded: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ = s.DescribeTable(ctx, "blind"); b.ItemCount != 2 || b.SizeBytes != int64(items[2].Size()+c.Size()) {
		t.Fatalf("after delete and put: %d/%d", b.ItemCount, b.SizeBytes)
	}
	got, err := s.GetItem(ctx, "blind", attr.Item{"k": attr.Str("a")})
	if err != nil || !attr.Equal(attr.Value{T: attr.M, Map: got}, attr.Value{T: attr.M, Map: items[2]}) {
		t.Fatalf("read back %v %v", got, err)
	}
}

// TestBlindPutsBounded: once a table's count plus its blind puts reaches
// the limit, puts take the exact path, so the recount a description does
// never scans more than a small table; the counts stay exact throughout.
func TestBlindPutsBounded(t *testing.T) {
	ctx := context.Background()
	s := open(t, vfs.NewMem(), &clock{})
	s.blindLimit = 3
	if _, err := s.CreateTable(ctx, CreateInput{Name: "bounded", Hash: KeyElem{Name: "k", Type: attr.S},
		AttrDefs: []KeyElem{{"k", attr.S}}}); err != nil {
		t.Fatal(err)
	}
	put := func(k string) {
		t.Helper()
		if _, err := s.Write(ctx, WriteOp{Kind: OpPut, Table: "bounded", Item: attr.Item{"k": attr.Str(k)}, OldNotNeeded: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"a", "b", "a", "c", "d", "c", "e"} {
		put(k)
	}
	tab := s.tabs["bounded"]
	if got := tab.blind.Load(); got != 3 {
		t.Fatalf("blind puts %d, want 3 (the limit)", got)
	}
	d, err := s.DescribeTable(ctx, "bounded")
	if err != nil || d.ItemCount != 5 {
		t.Fatalf("item count %d %v, want 5", d.ItemCount, err)
	}
	if tab.blind.Load() != 0 || tab.recount.Load() {
		t.Fatal("the description did not recount")
	}
	put("f") // 5 items counted: over the limit, exact path
	if tab.blind.Load() != 0 || tab.recount.Load() {
		t.Fatal("a put over the limit went the blind way")
	}
	if d, _ = s.DescribeTable(ctx, "bounded"); d.ItemCount != 6 {
		t.Fatalf("item count %d, want 6", d.ItemCount)
	}
}
