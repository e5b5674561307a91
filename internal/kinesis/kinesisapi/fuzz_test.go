package kinesisapi

import (
	"context"
	"encoding/json"
	"testing"

	"skyhub/internal/kinesis"
	"skyhub/internal/kv/pebblekv"
)

func fuzzHandler(f *testing.F) *Handler {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	svc, err := kinesis.New(context.Background(), kinesis.Config{Store: st, Unlimited: true, ShardLimit: 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close(); st.Close() })
	svc.CreateStream(context.Background(), kinesis.CreateStreamInput{Name: "s", ShardCount: 2})
	return New(Config{Service: svc})
}

// check runs one request: it must not panic, and every error must map to an
// AWS code that is not an internal failure.
func check(t *testing.T, h *Handler, op string, isCBOR bool, body []byte) {
	out, err := h.Dispatch(context.Background(), op, isCBOR, body)
	if err != nil {
		if st, code, _ := awsCode(err); st >= 500 {
			t.Fatalf("%s %q: %s %v", op, body, code, err)
		}
		return
	}
	if _, err := json.Marshal(out); err != nil {
		t.Fatalf("%s: unmarshallable answer: %v", op, err)
	}
}

var fuzzOps = []string{"PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "ListShards", "DescribeStream",
	"SplitShard", "MergeShards", "UpdateShardCount", "AddTagsToStream", "RegisterStreamConsumer", "CreateStream"}

func FuzzJSONRequest(f *testing.F) {
	h := fuzzHandler(f)
	f.Add("PutRecord", []byte(`{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`))
	f.Add("PutRecords", []byte(`{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"aGk=","ExplicitHashKey":"7"}]}`))
	f.Add("GetShardIterator", []byte(`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.7e9}`))
	f.Add("ListShards", []byte(`{"StreamName":"s","ShardFilter":{"Type":"AFTER_SHARD_ID","ShardId":"shardId-000000000000"}}`))
	f.Add("SplitShard", []byte(`{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"12345"}`))
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		check(t, h, op, false, body)
	})
}

func FuzzCBORRequest(f *testing.F) {
	h := fuzzHandler(f)
	f.Add(uint8(0), []byte{0xa3, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 's', 0x6c, 'P', 'a', 'r', 't', 'i', 't', 'i', 'o', 'n', 'K', 'e', 'y', 0x61, 'k', 0x64, 'D', 'a', 't', 'a', 0x42, 1, 2})
	f.Add(uint8(2), []byte{0xa4, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 's', 0x67, 'S', 'h', 'a', 'r', 'd', 'I', 'd', 0x74, 's', 'h', 'a', 'r', 'd', 'I', 'd', '-', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0',
		0x71, 'S', 'h', 'a', 'r', 'd', 'I', 't', 'e', 'r', 'a', 't', 'o', 'r', 'T', 'y', 'p', 'e', 0x6c, 'A', 'T', '_', 'T', 'I', 'M', 'E', 'S', 'T', 'A', 'M', 'P',
		0x69, 'T', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0xc1, 0x1a, 0x65, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		check(t, h, fuzzOps[int(op)%len(fuzzOps)], true, body)
	})
}

// FuzzFastPutRecords checks the reflection-free PutRecords decoder against
// encoding/json: whenever the fast path accepts a body, both must agree.
func FuzzFastPutRecords(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"},{"PartitionKey":"k2","Data":"","ExplicitHashKey":"1"}]}`))
	f.Add([]byte(` { "Records" : [ ] , "StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s" } `))
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"a=","PartitionKey":"k"}]}`))
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"k"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastPutRecords(body)
		if !ok {
			return
		}
		var slow putRecordsIn
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, body)
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(slow)
		if string(a) != string(b) {
			t.Fatalf("fast %s != slow %s for %q", a, b, body)
		}
	})
}

// FuzzFastPutRecord checks the reflection-free PutRecord decoder against
// encoding/json: whenever it accepts a body, both agree.
func FuzzFastPutRecord(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`))
	f.Add([]byte(` { "Data" : "AAAA" , "PartitionKey":"p", "ExplicitHashKey":"5", "SequenceNumberForOrdering":"1", "StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s" } `))
	f.Add([]byte(`{"StreamName":"s","PartitionKey":"","Data":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastPutRecord(body)
		if !ok {
			return
		}
		var slow putRecordIn
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, body)
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(slow)
		if string(a) != string(b) {
			t.Fatalf("fast %s != slow %s for %q", a, b, body)
		}
	})
}
