package kinesisapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"skyhub/internal/kinesis"
	"skyhub/internal/kv/pebblekv"
)

func benchHandler(b *testing.B) *Handler {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := kinesis.New(context.Background(), kinesis.Config{Store: st, Unlimited: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close(); st.Close() })
	svc.CreateStream(context.Background(), kinesis.CreateStreamInput{Name: "s", ShardCount: 4})
	return New(Config{Service: svc})
}

func BenchmarkDispatchPutRecords500x1KiB(b *testing.B) {
	h := benchHandler(b)
	data := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 1024)))
	var sb strings.Builder
	sb.WriteString(`{"StreamName":"s","Records":[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"PartitionKey":"dev-%d","Data":"%s"}`, i, data)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		out, err := h.Dispatch(context.Background(), "PutRecords", false, body)
		if err != nil {
			b.Fatal(err)
		}
		json.Marshal(out)
	}
}
