package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Member types of the Kinesis model, as the AWS JSON parser checks them
// before validation. A SerializationException names the first member (in
// model order) whose JSON type is wrong, in the words AWS uses.
type kind int

const (
	tString kind = iota
	tInteger
	tBoolean
	tBlob
	tTimestamp
	tList
	tMap
	tStruct
)

type field struct {
	name string
	t    shape
}

type shape struct {
	k        kind
	elem     *shape  // list / map values
	children []field // structure
}

func s(k kind) shape               { return shape{k: k} }
func list(e shape) shape           { return shape{k: tList, elem: &e} }
func mapOf(e shape) shape          { return shape{k: tMap, elem: &e} }
func structOf(f ...field) shape    { return shape{k: tStruct, children: f} }
func f(name string, t shape) field { return field{name, t} }

var (
	fName  = f("StreamName", s(tString))
	fARN   = f("StreamARN", s(tString))
	fTags  = f("Tags", mapOf(s(tString)))
	fMode  = f("StreamModeDetails", structOf(f("StreamMode", s(tString))))
	fLimit = f("Limit", s(tInteger))
)

// schemas lists each operation's members in model order.
var schemas = map[string][]field{
	"AddTagsToStream":               {fTags, fName, fARN},
	"CreateStream":                  {f("ShardCount", s(tInteger)), fName, fMode, fTags},
	"DecreaseStreamRetentionPeriod": {f("RetentionPeriodHours", s(tInteger)), fName, fARN},
	"IncreaseStreamRetentionPeriod": {f("RetentionPeriodHours", s(tInteger)), fName, fARN},
	"DeleteStream":                  {fName, fARN, f("EnforceConsumerDeletion", s(tBoolean))},
	"DescribeStream":                {fLimit, f("ExclusiveStartShardId", s(tString)), fName, fARN},
	"DescribeStreamSummary":         {fName, fARN},
	"GetRecords":                    {fLimit, f("ShardIterator", s(tString)), fARN},
	"GetShardIterator": {f("ShardId", s(tString)), f("ShardIteratorType", s(tString)),
		f("StartingSequenceNumber", s(tString)), fName, f("Timestamp", s(tTimestamp)), fARN},
	"ListShards": {f("ExclusiveStartShardId", s(tString)), f("MaxResults", s(tInteger)), f("NextToken", s(tString)),
		f("StreamCreationTimestamp", s(tTimestamp)), fName, fARN,
		f("ShardFilter", structOf(f("Type", s(tString)), f("ShardId", s(tString)), f("Timestamp", s(tTimestamp))))},
	"ListStreams":       {fLimit, f("ExclusiveStartStreamName", s(tString)), f("NextToken", s(tString))},
	"ListTagsForStream": {fLimit, f("ExclusiveStartTagKey", s(tString)), fName, fARN},
	"MergeShards":       {f("ShardToMerge", s(tString)), f("AdjacentShardToMerge", s(tString)), fName, fARN},
	"PutRecord": {f("SequenceNumberForOrdering", s(tString)), f("PartitionKey", s(tString)),
		f("ExplicitHashKey", s(tString)), f("Data", s(tBlob)), fName, fARN},
	"PutRecords": {f("Records", list(structOf(f("PartitionKey", s(tString)), f("ExplicitHashKey", s(tString)),
		f("Data", s(tBlob))))), fName, fARN},
	"RemoveTagsFromStream":      {f("TagKeys", list(s(tString))), fName, fARN},
	"SplitShard":                {f("NewStartingHashKey", s(tString)), fName, f("ShardToSplit", s(tString)), fARN},
	"UpdateShardCount":          {fName, f("TargetShardCount", s(tInteger)), f("ScalingType", s(tString)), fARN},
	"TagResource":               {f("ResourceARN", s(tString)), fTags},
	"UntagResource":             {f("ResourceARN", s(tString)), f("TagKeys", list(s(tString)))},
	"ListTagsForResource":       {f("ResourceARN", s(tString))},
	"EnableEnhancedMonitoring":  {fName, f("ShardLevelMetrics", list(s(tString))), fARN},
	"DisableEnhancedMonitoring": {fName, f("ShardLevelMetrics", list(s(tString))), fARN},
	"StartStreamEncryption":     {fName, f("EncryptionType", s(tString)), f("KeyId", s(tString)), fARN},
	"StopStreamEncryption":      {fName, f("EncryptionType", s(tString)), f("KeyId", s(tString)), fARN},
	"UpdateStreamMode":          {fARN, fMode},
	"RegisterStreamConsumer":    {fARN, f("ConsumerName", s(tString))},
	"DescribeStreamConsumer":    {fARN, f("ConsumerName", s(tString)), f("ConsumerARN", s(tString))},
	"DeregisterStreamConsumer":  {fARN, f("ConsumerName", s(tString)), f("ConsumerARN", s(tString))},
	"ListStreamConsumers": {fARN, f("NextToken", s(tString)), f("MaxResults", s(tInteger)),
		f("StreamCreationTimestamp", s(tTimestamp))},
	"SubscribeToShard": {f("ConsumerARN", s(tString)), f("ShardId", s(tString)),
		f("StartingPosition", structOf(f("Type", s(tString)), f("SequenceNumber", s(tString)), f("Timestamp", s(tTimestamp))))},
}

// serErr is a SerializationException.
func serErr(msg string) error { return apiErr("SerializationException", msg) }

var b64bad = regexp.MustCompile(`[^a-zA-Z0-9+/=]|=[^=]`)

// typecheck checks a JSON body against the operation's model and returns
// it normalised (integers truncated as AWS does) with its top-level members,
// or a SerializationException.
func typecheck(op string, body []byte) ([]byte, map[string]any, error) {
	fields, ok := schemas[op]
	if !ok {
		return body, nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, nil, serErr("")
	}
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return []byte("{}"), nil, nil
		}
		return nil, nil, serErr("Start of list found where not expected")
	}
	changed, err := checkStruct(m, fields)
	if err != nil {
		return nil, nil, err
	}
	if !changed {
		return body, m, nil
	}
	b, err := json.Marshal(m)
	return b, m, err
}

func checkStruct(m map[string]any, fields []field) (bool, error) {
	changed := false
	for _, fd := range fields {
		val, ok := m[fd.name]
		if !ok || val == nil {
			continue
		}
		nv, c, err := checkValue(val, fd.t)
		if err != nil {
			return false, err
		}
		if c {
			m[fd.name] = nv
			changed = true
		}
	}
	return changed, nil
}

func objErr(val any) error {
	if _, ok := val.([]any); ok {
		return serErr("Start of list found where not expected")
	}
	return serErr("Start of structure or map found where not expected.")
}

const bigNum = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to "

func checkValue(val any, t shape) (any, bool, error) {
	if val == nil {
		return nil, false, nil
	}
	switch t.k {
	case tString:
		switch val.(type) {
		case bool:
			return nil, false, serErr("class java.lang.Boolean can not be converted to an String")
		case json.Number:
			return nil, false, serErr(bigNum + "an String")
		case []any, map[string]any:
			return nil, false, objErr(val)
		}
	case tInteger:
		switch x := val.(type) {
		case bool:
			return nil, false, serErr("class java.lang.Boolean can not be converted to an Integer")
		case string:
			return nil, false, serErr("class java.lang.String can not be converted to an Integer")
		case []any, map[string]any:
			return nil, false, objErr(val)
		case json.Number:
			if _, err := x.Int64(); err == nil && !strings.ContainsAny(string(x), ".eE") {
				n, _ := x.Int64()
				if n > math.MaxInt32 {
					return json.Number("2147483647"), true, nil
				}
				if n < math.MinInt32 {
					return json.Number("-2147483648"), true, nil
				}
				return val, false, nil
			}
			fl, err := x.Float64()
			if err != nil || math.IsNaN(fl) {
				return nil, false, serErr("")
			}
			fl = math.Min(math.Max(math.Floor(fl), math.MinInt32), math.MaxInt32)
			return json.Number(strconv.FormatInt(int64(fl), 10)), true, nil
		}
	case tBoolean:
		switch x := val.(type) {
		case json.Number:
			return nil, false, serErr(bigNum + "an Boolean")
		case string:
			return nil, false, serErr("'" + strings.ToUpper(x) + "' can not be converted to an Boolean")
		case []any, map[string]any:
			return nil, false, objErr(val)
		}
	case tBlob:
		switch x := val.(type) {
		case bool:
			return nil, false, serErr("class java.lang.Boolean can not be converted to a Blob")
		case json.Number:
			return nil, false, serErr(bigNum + "a Blob")
		case []any, map[string]any:
			return nil, false, objErr(val)
		case string:
			if len(x)%4 != 0 {
				return nil, false, serErr("'" + x + "' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: " + itoa(len(x)))
			}
			if loc := b64bad.FindStringIndex(x); loc != nil {
				return nil, false, serErr("'" + x + "' can not be converted to a Blob: Invalid Base64 character: '" + x[loc[0]:loc[0]+1] + "'")
			}
			if _, err := base64.StdEncoding.Strict().DecodeString(x); err != nil {
				return nil, false, serErr("'" + x + "' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
			}
		}
	case tTimestamp:
		switch val.(type) {
		case bool:
			return nil, false, serErr("class java.lang.Boolean can not be converted to milliseconds since epoch")
		case string:
			return nil, false, serErr("class java.lang.String can not be converted to milliseconds since epoch")
		case []any, map[string]any:
			return nil, false, objErr(val)
		}
	case tList:
		l, ok := val.([]any)
		if !ok {
			if _, isMap := val.(map[string]any); isMap {
				return nil, false, serErr("Start of structure or map found where not expected.")
			}
			return nil, false, serErr("Expected list or null")
		}
		changed := false
		for i, e := range l {
			nv, c, err := checkValue(e, *t.elem)
			if err != nil {
				return nil, false, err
			}
			if c {
				l[i], changed = nv, true
			}
		}
		return l, changed, nil
	case tMap:
		m, ok := val.(map[string]any)
		if !ok {
			if _, isList := val.([]any); isList {
				return nil, false, serErr("Start of list found where not expected")
			}
			return nil, false, serErr("Expected map or null")
		}
		changed := false
		for k, e := range m {
			nv, c, err := checkValue(e, *t.elem)
			if err != nil {
				return nil, false, err
			}
			if c {
				m[k], changed = nv, true
			}
		}
		return m, changed, nil
	case tStruct:
		m, ok := val.(map[string]any)
		if !ok {
			if _, isList := val.([]any); isList {
				return nil, false, serErr("Start of list found where not expected")
			}
			return nil, false, serErr("Expected null")
		}
		c, err := checkStruct(m, t.children)
		return m, c, err
	}
	return val, false, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
