package sqs

import (
	"context"
	"strings"
	"testing"

	"skyhub/internal/kv/pebblekv"
)

// BenchmarkSendMessage measures durable sends (pebble on disk, group
// commit) from parallel senders.
func BenchmarkSendMessage(b *testing.B) {
	st, err := pebblekv.Open(pebblekv.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := New(context.Background(), Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.CreateQueue(context.Background(), "bench", nil, nil)
	body := strings.Repeat("x", 200)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.SendMessage(context.Background(), "bench", SendInput{Body: body}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReceiveDelete measures ReceiveMessage + DeleteMessage pairs
// (two durable writes each) on a prefilled queue.
func BenchmarkReceiveDelete(b *testing.B) {
	st, err := pebblekv.Open(pebblekv.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := New(context.Background(), Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	s.CreateQueue(ctx, "bench", nil, nil)
	body := strings.Repeat("x", 200)
	batch := make([]SendInput, 10)
	for i := range batch {
		batch[i] = SendInput{Body: body}
	}
	for i := 0; i < b.N; i += 10 {
		if _, _, err := s.SendMessages(ctx, "bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ms, err := s.ReceiveMessage(ctx, "bench", ReceiveInput{})
			if err != nil || len(ms) != 1 {
				b.Errorf("receive: %v %d", err, len(ms))
				return
			}
			if err := s.DeleteMessage(ctx, "bench", ms[0].ReceiptHandle); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
