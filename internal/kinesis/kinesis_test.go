package kinesis

import (
	"context"
	"crypto/md5"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"

	"skyhub/internal/errs"
	"skyhub/internal/kv/pebblekv"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, fs vfs.FS, c *clock, unlimited bool) *Service {
	t.Helper()
	st, err := pebblekv.Open(pebblekv.Config{Dir: "db", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Config{Store: st, Now: c.now, Unlimited: unlimited, ShardLimit: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); st.Close() })
	return s
}

func TestHashRangesAndRouting(t *testing.T) {
	r := splitEven(2)
	if r[0][1].String() != new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1)).String() || r[1][1] != maxHash {
		t.Fatalf("ranges %v", r)
	}
	c := &clock{t: time.Unix(1700000000, 0)}
	s := open(t, vfs.NewMem(), c, true)
	ctx := context.Background()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("dev1"))
	want := "shardId-000000000000"
	if sum[0]&0x80 != 0 {
		want = "shardId-000000000001"
	}
	res, err := s.PutRecord(ctx, "s", PutInput{PartitionKey: "dev1", Data: []byte("x")})
	if err != nil || res.ShardID != want {
		t.Fatalf("put: %v %v want %s", res, err, want)
	}
	res, _ = s.PutRecord(ctx, "s", PutInput{PartitionKey: "dev1", ExplicitHashKey: "0", Data: []byte("x")})
	if res.ShardID != "shardId-000000000000" {
		t.Fatalf("explicit hash key routed to %s", res.ShardID)
	}
	if _, err := s.PutRecord(ctx, "s", PutInput{PartitionKey: "a", ExplicitHashKey: new(big.Int).Lsh(big.NewInt(1), 128).String(), Data: nil}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("2^128 accepted: %v", err)
	}
}

func TestSequenceAndIterators(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	s := open(t, vfs.NewMem(), c, true)
	ctx := context.Background()
	s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1})
	var seqs []string
	for i := 0; i < 5; i++ {
		c.add(time.Second)
		r, err := s.PutRecord(ctx, "s", PutInput{PartitionKey: "k", Data: []byte{byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, r.SequenceNumber)
	}
	for i := 1; i < len(seqs); i++ {
		a, _ := new(big.Int).SetString(seqs[i-1], 10)
		b, _ := new(big.Int).SetString(seqs[i], 10)
		if a.Cmp(b) >= 0 {
			t.Fatalf("sequence not increasing: %s >= %s", seqs[i-1], seqs[i])
		}
	}
	read := func(typ, seq string, ts *time.Time) []Record {
		t.Helper()
		it, err := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: "shardId-000000000000", Type: typ, Sequence: seq, Timestamp: ts})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRecords(ctx, it, 100)
		if err != nil {
			t.Fatal(err)
		}
		return r.Records
	}
	if got := read("TRIM_HORIZON", "", nil); len(got) != 5 || got[0].Data[0] != 0 {
		t.Fatalf("trim horizon: %d", len(got))
	}
	if got := read("LATEST", "", nil); len(got) != 0 {
		t.Fatalf("latest: %d", len(got))
	}
	if got := read("AT_SEQUENCE_NUMBER", seqs[2], nil); len(got) != 3 || got[0].SequenceNumber != seqs[2] {
		t.Fatalf("at seq: %v", got)
	}
	if got := read("AFTER_SEQUENCE_NUMBER", seqs[2], nil); len(got) != 2 || got[0].SequenceNumber != seqs[3] {
		t.Fatalf("after seq: %v", got)
	}
	ts := time.Unix(1700000003, 500e6)
	if got := read("AT_TIMESTAMP", "", &ts); len(got) != 2 || got[0].Data[0] != 3 {
		t.Fatalf("at timestamp: %v", got)
	}
	// The shard's starting sequence number is valid for AFTER.
	d, _ := s.DescribeStream(ctx, "s", 0, "")
	if got := read("AFTER_SEQUENCE_NUMBER", d.Shards[0].SequenceNumberRange.StartingSequenceNumber, nil); len(got) != 5 {
		t.Fatalf("after starting seq: %d", len(got))
	}
	// Expiry.
	it, _ := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: "shardId-000000000000", Type: "LATEST"})
	c.add(IteratorTTL + time.Second)
	if _, err := s.GetRecords(ctx, it, 1); !errors.Is(err, ErrExpiredIterator) {
		t.Fatalf("expired iterator: %v", err)
	}
	// Tampering.
	b := []byte(it)
	b[10] ^= 1
	if _, err := s.GetRecords(ctx, string(b), 1); !errs.Is(err, errs.Invalid) {
		t.Fatalf("tampered iterator: %v", err)
	}
}

func TestLimits(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	s := open(t, vfs.NewMem(), c, false)
	ctx := context.Background()
	s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1})
	recs := make([]PutInput, 500)
	for i := range recs {
		recs[i] = PutInput{PartitionKey: "k", Data: []byte("x")}
	}
	s.Put(ctx, "s", recs)
	res, _ := s.Put(ctx, "s", recs)
	res2, _ := s.Put(ctx, "s", recs[:1])
	if res[499].ErrorCode != "" || res2[0].ErrorCode != "ProvisionedThroughputExceededException" {
		t.Fatalf("1000 records/s not enforced: %+v %+v", res[499], res2[0])
	}
	c.add(time.Second)
	if _, err := s.PutRecord(ctx, "s", PutInput{PartitionKey: "k", Data: []byte("x")}); err != nil {
		t.Fatalf("after a second: %v", err)
	}
	it, _ := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: "shardId-000000000000", Type: "LATEST"})
	for i := 0; i < 5; i++ {
		if _, err := s.GetRecords(ctx, it, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetRecords(ctx, it, 1); !errs.Is(err, errs.RateLimited) {
		t.Fatalf("6th GetRecords in a second: %v", err)
	}
}

func TestReshardAndRecovery(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	fs := vfs.NewMem()
	st, _ := pebblekv.Open(pebblekv.Config{Dir: "db", FS: fs})
	ctx := context.Background()
	s, _ := New(ctx, Config{Store: st, Now: c.now, Unlimited: true})
	s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 2})
	r1, _ := s.PutRecord(ctx, "s", PutInput{PartitionKey: "a", ExplicitHashKey: "5", Data: []byte("1")})
	if err := s.SplitShard(ctx, "s", "shardId-000000000000", "100"); err != nil {
		t.Fatal(err)
	}
	if err := s.SplitShard(ctx, "s", "shardId-000000000001", "1"); err == nil {
		t.Fatal("split while UPDATING or out of range accepted")
	}
	r2, _ := s.PutRecord(ctx, "s", PutInput{PartitionKey: "a", ExplicitHashKey: "5", Data: []byte("2")})
	if r2.ShardID != "shardId-000000000002" {
		t.Fatalf("after split routed to %s", r2.ShardID)
	}
	if err := s.MergeShards(ctx, "s", "shardId-000000000002", "shardId-000000000003"); err != nil {
		t.Fatal(err)
	}
	// Parent shard is exhausted: NextShardIterator nil and ChildShards set.
	it, _ := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: "shardId-000000000000", Type: "TRIM_HORIZON"})
	rr, _ := s.GetRecords(ctx, it, 10)
	if len(rr.Records) != 1 || rr.NextShardIterator != nil || len(rr.ChildShards) != 2 {
		t.Fatalf("closed shard read: %d next=%v children=%v", len(rr.Records), rr.NextShardIterator, rr.ChildShards)
	}
	n, err := s.UpdateShardCount(ctx, "s", 4)
	if err != nil || n != 2 {
		t.Fatalf("update shard count: %d %v", n, err)
	}
	r3, _ := s.PutRecord(ctx, "s", PutInput{PartitionKey: "b", Data: []byte("3")})
	s.Close()
	st.Close()
	// Reopen: counters continue, never reused.
	st, _ = pebblekv.Open(pebblekv.Config{Dir: "db", FS: fs})
	defer st.Close()
	s, err = New(ctx, Config{Store: st, Now: c.now, Unlimited: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r4, _ := s.PutRecord(ctx, "s", PutInput{PartitionKey: "b", Data: []byte("4")})
	a, _ := new(big.Int).SetString(r3.SequenceNumber, 10)
	b, _ := new(big.Int).SetString(r4.SequenceNumber, 10)
	if r3.ShardID != r4.ShardID || a.Cmp(b) >= 0 {
		t.Fatalf("sequence reused after restart: %v %v", r3, r4)
	}
	shards, _, _ := s.ListShards(ctx, ListShardsInput{Name: "s", Filter: &ShardFilter{Type: "AT_LATEST"}})
	if len(shards) != 4 {
		t.Fatalf("open shards after restart: %d", len(shards))
	}
	_ = r1
}

func TestRetentionTrim(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	s := open(t, vfs.NewMem(), c, true)
	ctx := context.Background()
	s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1})
	for i := 0; i < 3; i++ {
		s.PutRecord(ctx, "s", PutInput{PartitionKey: "k", Data: []byte("x")})
	}
	c.add(25 * time.Hour)
	last, _ := s.PutRecord(ctx, "s", PutInput{PartitionKey: "k", Data: []byte("y")})
	if n := s.Trim(ctx); n != 3 {
		t.Fatalf("trimmed %d", n)
	}
	it, _ := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: "shardId-000000000000", Type: "TRIM_HORIZON"})
	r, _ := s.GetRecords(ctx, it, 10)
	if len(r.Records) != 1 || r.Records[0].SequenceNumber != last.SequenceNumber {
		t.Fatalf("after trim: %v", r.Records)
	}
	if err := s.SetRetention(ctx, "s", 10, false); err == nil {
		t.Fatal("retention below 24h accepted")
	}
	if err := s.SetRetention(ctx, "s", 48, true); err != nil {
		t.Fatal(err)
	}
}

func TestSeqRoundTrip(t *testing.T) {
	for _, sq := range []seqNum{{1700000000, 1, 1700000001, 0}, {1700000000, 1 << 40, 1700000001, 17},
		{0xfffffffff, 1<<63 - 1, 0xfffffffff, ^uint32(0)}, {1, 0, 1, 1}} {
		s := sq.String()
		if s != sq.slowString() {
			t.Fatalf("fast %s != reference %s", s, sq.slowString())
		}
		got, ok := parseSeq(s)
		if !ok || got != sq {
			t.Fatalf("%v -> %s -> %v", sq, s, got)
		}
		if len(s) < 50 {
			t.Fatalf("short sequence number %s", s)
		}
	}
}

// TestConcurrentWritersReaderSeesAllInOrder: with many concurrent writers on
// one shard, a reader following NextShardIterator sees every acknowledged
// record exactly once, in increasing sequence order (late commits are not
// skipped).
func TestConcurrentWritersReaderSeesAllInOrder(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	s := open(t, vfs.NewMem(), c, true)
	ctx := context.Background()
	s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1})
	it, _ := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: "shardId-000000000000", Type: "LATEST"})
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.PutRecord(ctx, "s", PutInput{PartitionKey: "k", Data: []byte{byte(i)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var last *big.Int
	seen := 0
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		r, err := s.GetRecords(ctx, it, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			n, _ := new(big.Int).SetString(rec.SequenceNumber, 10)
			if last != nil && n.Cmp(last) <= 0 {
				t.Fatalf("out of order: %s after %s", n, last)
			}
			last = n
			seen++
		}
		it = *r.NextShardIterator
		if finished && len(r.Records) == 0 {
			break
		}
	}
	if seen != writers*each {
		t.Fatalf("reader saw %d of %d records", seen, writers*each)
	}
}

func TestSeqLayoutChecks(t *testing.T) {
	hex := func(h string) string {
		b, ok := new(big.Int).SetString(h, 16)
		if !ok {
			t.Fatal(h)
		}
		return b.String()
	}
	// A counter of 2^63 or more is not a sequence number AWS issues.
	if _, ok := parseSeq(hex("20000000000800000000000000000000000000000000002")); ok {
		t.Fatal("counter with the top bit set accepted")
	}
	now := int64(1764000000000)
	for h, want := range map[string]bool{
		"20000000000000000000000000000000000000000000002": true,  // version 2
		"20000000000000000000000000000000000000000000001": true,  // version 1
		"20000000000000000000000000000000000000800000002": true,  // shard index top bit
		"20000000000000000000000000000000000000000000000": false, // version 0
		"20000000000000000000000000000000000000000000003": false,
		"20000000000000000000000000000000000000000000004": false,
		"30000000000000000000000000000000000000000000001": false,
		"1ffffffffff7fffffffffffffff000000000007fffffff2": false,
		"20000000000800000000000000000000000000000000002": false, // counter top bit
		"2ffffffffff7fffffffffffffff000000000007fffffff2": false, // creation time out of range
		"13bb2cc3d80000000000000000000000":                false, // oldest layout, creation out of range
		"5":                                               true,  // oldest layout
		"20000000000000000000000000000fffffffff000000002": false, // arrival in the future
	} {
		if got := ValidOrderingSeq(hex(h), now); got != want {
			t.Errorf("ValidOrderingSeq(%s) = %v, want %v", h, got, want)
		}
	}
	if idx, ok := oldSeqShard("5"); !ok || idx != 5 {
		t.Fatalf("oldSeqShard(5) = %d %v", idx, ok)
	}
	if got := seqShardName(0x80000000); got != "shardId--02147483648" {
		t.Fatalf("seqShardName = %s", got)
	}
}

// While a reshard is UPDATING, DescribeStream shows the shards as they were
// (AWS applies the new layout when the stream is ACTIVE again).
func TestDescribeWhileUpdating(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	st, _ := pebblekv.Open(pebblekv.Config{InMemory: true})
	defer st.Close()
	ctx := context.Background()
	s, _ := New(ctx, Config{Store: st, Now: c.now, Unlimited: true, StatusDelay: time.Second})
	defer s.Close()
	s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1})
	c.add(2 * time.Second)
	if err := s.SplitShard(ctx, "s", "shardId-000000000000", "2"); err != nil {
		t.Fatal(err)
	}
	d, _ := s.DescribeStream(ctx, "s", 0, "")
	if d.StreamStatus != StatusUpdating || len(d.Shards) != 1 || d.Shards[0].SequenceNumberRange.EndingSequenceNumber != "" {
		t.Fatalf("while UPDATING: %s %+v", d.StreamStatus, d.Shards)
	}
	c.add(2 * time.Second)
	d, _ = s.DescribeStream(ctx, "s", 0, "")
	if d.StreamStatus != StatusActive || len(d.Shards) != 3 || d.Shards[0].SequenceNumberRange.EndingSequenceNumber == "" ||
		d.Shards[1].HashKeyRange.EndingHashKey != "1" {
		t.Fatalf("after UPDATING: %s %+v", d.StreamStatus, d.Shards)
	}
}
