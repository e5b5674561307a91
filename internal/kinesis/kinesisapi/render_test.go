package kinesisapi

import (
	"encoding/json"
	"testing"

	"skyhub/internal/kinesis"
)

func renderedEqualsJSON(t *testing.T, v any) {
	t.Helper()
	got, ok := render(nil, v)
	if !ok {
		t.Fatalf("render refused %T", v)
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("render:\n%s\nencoding/json:\n%s", got, want)
	}
}

func TestRenderMatchesJSON(t *testing.T) {
	it := "AAAA+/=="
	renderedEqualsJSON(t, kinesis.Records{Records: []kinesis.Record{}, NextShardIterator: &it})
	renderedEqualsJSON(t, kinesis.Records{})
	renderedEqualsJSON(t, kinesis.Records{Records: []kinesis.Record{
		{SequenceNumber: "49590338271490256608559692538361571095921575989136588898", ApproximateArrivalTimestamp: 1764000000123,
			Data: []byte("hello\x00\xff"), PartitionKey: "dev-1"},
		{SequenceNumber: "1", ApproximateArrivalTimestamp: 7, Data: []byte{}, PartitionKey: "<&>\"\\\u2028ü\xff\n"},
		{SequenceNumber: "2", Data: nil, PartitionKey: ""},
	}, MillisBehindLatest: 42, ChildShards: []kinesis.ChildShard{{ShardID: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"},
		HashKeyRange: kinesis.HashKeyRange{StartingHashKey: "0", EndingHashKey: "9"}}}})
	renderedEqualsJSON(t, putRecordsOut{})
	renderedEqualsJSON(t, putRecordsOut{FailedRecordCount: 1, Records: []kinesis.PutResult{
		{SequenceNumber: "5", ShardID: "shardId-000000000000"},
		{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard <x>"}, {}}})
}

// FuzzRender checks the direct renderer against encoding/json on records
// built from arbitrary bytes.
func FuzzRender(f *testing.F) {
	f.Add([]byte("data"), "pk", "seq", int64(1764000000123), int64(0))
	f.Add([]byte{0, 0xff}, "<\xff>", "", int64(-5), int64(99))
	f.Fuzz(func(t *testing.T, data []byte, pk, seq string, ts, behind int64) {
		ts %= 1 << 50 // arrival times are epoch milliseconds
		it := pk + seq
		renderedEqualsJSON(t, kinesis.Records{Records: []kinesis.Record{{SequenceNumber: seq, ApproximateArrivalTimestamp: kinesis.Timestamp(ts),
			Data: data, PartitionKey: pk}, {SequenceNumber: pk, Data: nil, PartitionKey: seq}}, NextShardIterator: &it, MillisBehindLatest: behind})
		renderedEqualsJSON(t, putRecordsOut{FailedRecordCount: len(pk), Records: []kinesis.PutResult{{SequenceNumber: seq, ShardID: pk}, {ErrorCode: pk, ErrorMessage: seq}}})
	})
}

// FuzzFastGetRecords checks the reflection-free GetRecords decoder against
// encoding/json: whenever it accepts a body, both agree.
func FuzzFastGetRecords(f *testing.F) {
	f.Add([]byte(`{"ShardIterator":"AAAA","Limit":100}`))
	f.Add([]byte(` { "Limit" : 0 , "ShardIterator" : "x", "StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s" } `))
	f.Add([]byte(`{"ShardIterator":"a","Limit":01}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		iter, limit, arn, ok := fastGetRecords(body)
		if !ok {
			return
		}
		var slow struct {
			ShardIterator string `json:"ShardIterator"`
			Limit         *int   `json:"Limit"`
			StreamARN     string `json:"StreamARN"`
		}
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, body)
		}
		if slow.ShardIterator != iter || slow.StreamARN != arn || (slow.Limit == nil) != (limit == nil) || (limit != nil && *limit != *slow.Limit) {
			t.Fatalf("fast (%q %v %q) != slow (%q %v %q) for %q", iter, limit, arn, slow.ShardIterator, slow.Limit, slow.StreamARN, body)
		}
	})
}
