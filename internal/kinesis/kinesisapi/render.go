package kinesisapi

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"skyhub/internal/jsonx"
	"skyhub/internal/kinesis"
)

// The two hot answers (GetRecords, PutRecords) are rendered straight into a
// byte buffer, blobs base64-encoded in place, instead of through
// encoding/json's reflection. The output is byte-for-byte what
// json.Marshal produces for the same value (TestRenderMatchesJSON,
// FuzzRender check it).

// putRecordsOut is PutRecords' answer.
type putRecordsOut struct {
	FailedRecordCount int                 `json:"FailedRecordCount"`
	Records           []kinesis.PutResult `json:"Records"`
}

// render appends the JSON of a hot answer to b; ok is false for other values.
func render(b []byte, out any) ([]byte, bool) {
	switch v := out.(type) {
	case kinesis.Records:
		return appendRecords(b, v), true
	case putRecordsOut:
		return appendPutRecords(b, v), true
	}
	return b, false
}

func appendRecords(b []byte, r kinesis.Records) []byte {
	b = append(b, `{"Records":`...)
	if r.Records == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, rec := range r.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"SequenceNumber":`...)
			b = jsonx.AppendString(b, rec.SequenceNumber)
			b = append(b, `,"ApproximateArrivalTimestamp":`...)
			b = strconv.AppendFloat(b, float64(rec.ApproximateArrivalTimestamp)/1000, 'f', 3, 64)
			b = append(b, `,"Data":`...)
			if rec.Data == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '"')
				n := base64.StdEncoding.EncodedLen(len(rec.Data))
				b = growBy(b, n)
				base64.StdEncoding.Encode(b[len(b):len(b)+n], rec.Data)
				b = b[:len(b)+n]
				b = append(b, '"')
			}
			b = append(b, `,"PartitionKey":`...)
			b = jsonx.AppendString(b, rec.PartitionKey)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"NextShardIterator":`...)
	if r.NextShardIterator == nil {
		b = append(b, "null"...)
	} else {
		b = jsonx.AppendString(b, *r.NextShardIterator)
	}
	b = append(b, `,"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, r.MillisBehindLatest, 10)
	if len(r.ChildShards) > 0 {
		c, _ := json.Marshal(r.ChildShards)
		b = append(b, `,"ChildShards":`...)
		b = append(b, c...)
	}
	return append(b, '}')
}

func appendPutRecords(b []byte, p putRecordsOut) []byte {
	b = append(b, `{"FailedRecordCount":`...)
	b = strconv.AppendInt(b, int64(p.FailedRecordCount), 10)
	b = append(b, `,"Records":`...)
	if p.Records == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, r := range p.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		sep := false
		for _, f := range [...]struct{ k, v string }{{"SequenceNumber", r.SequenceNumber}, {"ShardId", r.ShardID},
			{"ErrorCode", r.ErrorCode}, {"ErrorMessage", r.ErrorMessage}} {
			if f.v == "" {
				continue
			}
			if sep {
				b = append(b, ',')
			}
			sep = true
			b = append(b, '"')
			b = append(b, f.k...)
			b = append(b, `":`...)
			b = jsonx.AppendString(b, f.v)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func growBy(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// fastGetRecords decodes the usual GetRecords body ({"ShardIterator": "...",
// "Limit": n, "StreamARN": "..."}: known keys once each, strings without
// escapes, Limit a plain non-negative integer) without reflection. ok is
// false for anything else; the caller then takes the checked path, which
// also words the errors. When ok, the values equal encoding/json's.
func fastGetRecords(b []byte) (iter string, limit *int, arn string, ok bool) {
	p := fastParser{b: b}
	if !p.byte('{') {
		return "", nil, "", false
	}
	seen := 0
	for first := true; ; first = false {
		if p.peek('}') {
			p.i++
			break
		}
		if !first && !p.byte(',') {
			return "", nil, "", false
		}
		key, ok := p.rawStr()
		if !ok || !p.byte(':') {
			return "", nil, "", false
		}
		switch string(key) {
		case "ShardIterator":
			if seen&1 != 0 {
				return "", nil, "", false
			}
			seen |= 1
			if iter, ok = p.str(); !ok {
				return "", nil, "", false
			}
		case "StreamARN":
			if seen&2 != 0 {
				return "", nil, "", false
			}
			seen |= 2
			if arn, ok = p.str(); !ok {
				return "", nil, "", false
			}
		case "Limit":
			if seen&4 != 0 {
				return "", nil, "", false
			}
			seen |= 4
			p.ws()
			start := p.i
			for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
				p.i++
			}
			digits := p.b[start:p.i]
			if len(digits) == 0 || len(digits) > 9 || (len(digits) > 1 && digits[0] == '0') {
				return "", nil, "", false
			}
			n, _ := strconv.Atoi(string(digits))
			limit = &n
		default:
			return "", nil, "", false
		}
	}
	p.ws()
	return iter, limit, arn, p.i == len(p.b)
}
