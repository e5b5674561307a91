package kinesis

import (
	"context"
	"testing"
	"time"

	"skyhub/internal/kv/pebblekv"
)

func benchService(b *testing.B) *Service {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(context.Background(), Config{Store: st, Unlimited: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); st.Close() })
	s.CreateStream(context.Background(), CreateStreamInput{Name: "s", ShardCount: 4})
	return s
}

func BenchmarkPutRecord(b *testing.B) {
	s := benchService(b)
	ctx := context.Background()
	data := make([]byte, 200)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.PutRecord(ctx, "s", PutInput{PartitionKey: "dev1", Data: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPutRecords500x1KiB(b *testing.B) {
	s := benchService(b)
	ctx := context.Background()
	recs := make([]PutInput, 500)
	for i := range recs {
		recs[i] = PutInput{PartitionKey: string(rune('a' + i%26)), Data: make([]byte, 1024)}
	}
	b.SetBytes(500 * 1024)
	for b.Loop() {
		if _, err := s.Put(ctx, "s", recs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRecordsLimit1(b *testing.B) {
	s := benchService(b)
	ctx := context.Background()
	res, _ := s.PutRecord(ctx, "s", PutInput{PartitionKey: "dev1", Data: make([]byte, 200)})
	it, err := s.GetShardIterator(ctx, IteratorInput{Name: "s", ShardID: res.ShardID, Type: "TRIM_HORIZON"})
	if err != nil {
		b.Fatal(err)
	}
	_ = time.Now
	for b.Loop() {
		r, err := s.GetRecords(ctx, it, 1)
		if err != nil || len(r.Records) != 1 {
			b.Fatal(err)
		}
	}
}
