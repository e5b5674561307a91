package kinesisapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"skyhub/internal/kinesis"
)

type streamRef struct {
	StreamName string `json:"StreamName"`
	StreamARN  string `json:"StreamARN"`
}

func (r streamRef) check(v *validator, required bool) {
	v.name("streamName", r.StreamName, required && r.StreamARN == "", 128)
	v.arn("streamARN", r.StreamARN, false)
}

func (h *Handler) resolve(r streamRef) (string, error) {
	return h.svc.ResolveName(r.StreamName, r.StreamARN)
}

type modeDetails struct {
	StreamMode string `json:"StreamMode"`
}

type empty struct{}

// Dispatch runs one operation on a decoded body and returns the response
// value (marshalled to JSON by the caller).
func (h *Handler) Dispatch(ctx context.Context, op string, isCBOR bool, body []byte) (any, error) {
	var v validator
	switch op {
	case "CreateStream":
		var in struct {
			StreamName        string            `json:"StreamName"`
			ShardCount        *int              `json:"ShardCount"`
			StreamModeDetails *modeDetails      `json:"StreamModeDetails"`
			Tags              map[string]string `json:"Tags"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		onDemand := in.StreamModeDetails != nil && in.StreamModeDetails.StreamMode == "ON_DEMAND"
		if in.StreamModeDetails != nil {
			v.oneOf("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, true, "PROVISIONED", "ON_DEMAND")
		}
		v.intRange("shardCount", in.ShardCount, 1, 100000, !onDemand)
		v.name("streamName", in.StreamName, true, 128)
		if err := v.err(); err != nil {
			return nil, err
		}
		n := 0
		if in.ShardCount != nil {
			n = *in.ShardCount
		}
		return empty{}, h.svc.CreateStream(ctx, kinesis.CreateStreamInput{Name: in.StreamName, ShardCount: n, OnDemand: onDemand, Tags: in.Tags})
	case "DeleteStream":
		var in struct {
			streamRef
			EnforceConsumerDeletion bool `json:"EnforceConsumerDeletion"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		return empty{}, h.svc.DeleteStream(ctx, name, in.EnforceConsumerDeletion)
	case "DescribeStream":
		var in struct {
			streamRef
			Limit                 *int   `json:"Limit"`
			ExclusiveStartShardID string `json:"ExclusiveStartShardId"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.intRange("limit", in.Limit, 1, 10000, false)
		v.name("exclusiveStartShardId", in.ExclusiveStartShardID, false, 128)
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		limit := 0
		if in.Limit != nil {
			limit = *in.Limit
		}
		d, err := h.svc.DescribeStream(ctx, name, limit, in.ExclusiveStartShardID)
		return map[string]any{"StreamDescription": d}, err
	case "DescribeStreamSummary":
		var in streamRef
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in)
		if err != nil {
			return nil, err
		}
		d, err := h.svc.DescribeStreamSummary(ctx, name)
		return map[string]any{"StreamDescriptionSummary": d}, err
	case "ListStreams":
		var in struct {
			Limit                    *int   `json:"Limit"`
			ExclusiveStartStreamName string `json:"ExclusiveStartStreamName"`
			NextToken                string `json:"NextToken"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.intRange("limit", in.Limit, 1, 10000, false)
		v.name("exclusiveStartStreamName", in.ExclusiveStartStreamName, false, 128)
		if err := v.err(); err != nil {
			return nil, err
		}
		limit := 0
		if in.Limit != nil {
			limit = *in.Limit
		}
		start := in.ExclusiveStartStreamName
		if in.NextToken != "" {
			start = in.NextToken
		}
		list, more := h.svc.ListStreams(ctx, limit, start)
		names := make([]string, len(list))
		for i, e := range list {
			names[i] = e.StreamName
		}
		out := map[string]any{"StreamNames": names, "HasMoreStreams": more, "StreamSummaries": list}
		if more && len(names) > 0 {
			out["NextToken"] = names[len(names)-1]
		}
		return out, nil
	case "ListShards":
		var in struct {
			streamRef
			NextToken             string `json:"NextToken"`
			ExclusiveStartShardID string `json:"ExclusiveStartShardId"`
			MaxResults            *int   `json:"MaxResults"`
			StreamCreationTS      epoch  `json:"StreamCreationTimestamp"`
			ShardFilter           *struct {
				Type      string `json:"Type"`
				ShardID   string `json:"ShardId"`
				Timestamp epoch  `json:"Timestamp"`
			} `json:"ShardFilter"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.intRange("maxResults", in.MaxResults, 1, 10000, false)
		v.length("nextToken", in.NextToken, 1, 1048576)
		v.name("exclusiveStartShardId", in.ExclusiveStartShardID, false, 128)
		in.check(&v, false)
		if in.ShardFilter != nil {
			v.oneOf("shardFilter.type", in.ShardFilter.Type, true, "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP")
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		if in.NextToken != "" && (in.StreamName != "" || in.ExclusiveStartShardID != "" || in.StreamCreationTS.set) {
			return nil, apiErr("InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
		}
		var li kinesis.ListShardsInput
		if in.NextToken == "" {
			if in.StreamName == "" && in.StreamARN == "" {
				return nil, apiErr("InvalidArgumentException", "Either NextToken or StreamName should be provided.")
			}
			name, err := h.resolve(in.streamRef)
			if err != nil {
				return nil, err
			}
			li.Name = name
		}
		li.NextToken, li.ExclusiveStart = in.NextToken, in.ExclusiveStartShardID
		if in.MaxResults != nil {
			li.MaxResults = *in.MaxResults
		}
		if f := in.ShardFilter; f != nil {
			if f.Type == "AFTER_SHARD_ID" && f.ShardID == "" {
				return nil, apiErr("InvalidArgumentException", "ShardId must be specified when ShardFilter type is AFTER_SHARD_ID.")
			}
			if (f.Type == "AT_TIMESTAMP" || f.Type == "FROM_TIMESTAMP") && !f.Timestamp.set {
				return nil, apiErr("InvalidArgumentException", "Timestamp must be specified when ShardFilter type is "+f.Type+".")
			}
			li.Filter = &kinesis.ShardFilter{Type: f.Type, ShardID: f.ShardID, Timestamp: f.Timestamp.ptr()}
		}
		shards, next, err := h.svc.ListShards(ctx, li)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"Shards": shards}
		if next != "" {
			out["NextToken"] = next
		}
		return out, nil
	case "PutRecord":
		var in putRecordIn
		fast := false
		if !isCBOR {
			in, fast = fastPutRecord(body)
		}
		if !fast {
			in = putRecordIn{}
			if err := v.decode(op, isCBOR, body, &in); err != nil {
				return nil, err
			}
		}
		v.pattern("sequenceNumberForOrdering", in.SequenceNumberForOrdering, false, seqPattern, `0|([1-9]\d{0,128})`)
		if in.PartitionKey == "" && !v.has("partitionKey") {
			v.add(nil, "partitionKey", "not be null")
		} else {
			v.length("partitionKey", in.PartitionKey, 1, 256)
		}
		if in.Data == nil {
			v.add(nil, "data", "not be null")
		} else if len(in.Data) > 1<<20 {
			v.add("java.nio.HeapByteBuffer[pos=0 lim="+fmt.Sprint(len(in.Data))+" cap="+fmt.Sprint(len(in.Data))+"]", "data", "have length less than or equal to 1048576")
		}
		in.check(&v, true)
		v.pattern("explicitHashKey", in.ExplicitHashKey, false, hashKeyPattern, `0|([1-9]\d{0,38})`)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		if in.SequenceNumberForOrdering != "" && !kinesis.ValidOrderingSeq(in.SequenceNumberForOrdering, time.Now().UnixMilli()) {
			return nil, apiErr("InvalidArgumentException", "ExclusiveMinimumSequenceNumber "+in.SequenceNumberForOrdering+
				" used in PutRecord on stream "+name+" under account "+h.svc.AccountID()+" is invalid.")
		}
		res, err := h.svc.PutRecord(ctx, name, kinesis.PutInput{PartitionKey: in.PartitionKey, ExplicitHashKey: in.ExplicitHashKey, Data: in.Data})
		if err != nil {
			return nil, err
		}
		return map[string]any{"SequenceNumber": res.SequenceNumber, "ShardId": res.ShardID}, nil
	case "PutRecords":
		in, ok := putRecordsIn{}, false
		if !isCBOR {
			in, ok = fastPutRecords(body)
		}
		if !ok {
			if err := v.decode(op, isCBOR, body, &in); err != nil {
				return nil, err
			}
		}
		ref := streamRef{StreamName: in.StreamName, StreamARN: in.StreamARN}
		if in.fast {
			v.body, v.top = body, in.seen
		}
		if in.Records == nil {
			v.add(nil, "records", "not be null")
		} else if len(in.Records) == 0 {
			v.add("[]", "records", "have length greater than or equal to 1")
		} else if len(in.Records) > 500 {
			v.add("[...]", "records", "have length less than or equal to 500")
		}
		total := 0
		recs := make([]kinesis.PutInput, len(in.Records))
		for i, r := range in.Records {
			f := "records." + strconv.Itoa(i+1) + ".member."
			if !in.fast && (r.PartitionKey == "" || r.ExplicitHashKey == "") {
				// encoding/json decoded it: find which members were sent.
				markRecordMembers(v.body, in.Records)
				in.fast = true
				r = in.Records[i]
			}
			switch {
			case r.PartitionKey == "" && !r.pkSet:
				v.add(nil, f+"partitionKey", "not be null")
			case r.PartitionKey == "":
				v.add("", f+"partitionKey", "have length greater than or equal to 1")
			case len(r.PartitionKey) > 256:
				v.add(r.PartitionKey, f+"partitionKey", "have length less than or equal to 256")
			}
			if r.Data == nil {
				v.add(nil, f+"data", "not be null")
			} else if len(r.Data) > 1<<20 {
				v.add("java.nio.HeapByteBuffer[pos=0 lim="+strconv.Itoa(len(r.Data))+" cap="+strconv.Itoa(len(r.Data))+"]", f+"data", "have length less than or equal to 1048576")
			}
			if (r.ExplicitHashKey != "" || r.ehkSet) && !hashKeyPattern.MatchString(r.ExplicitHashKey) {
				v.add(r.ExplicitHashKey, f+"explicitHashKey", "satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
			}
			total += len(r.Data) + len(r.PartitionKey)
			recs[i] = kinesis.PutInput{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data}
		}
		ref.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		if total > 10<<20 {
			return nil, apiErr("InvalidArgumentException", "Records size exceeds 10 MB limit")
		}
		name, err := h.resolve(ref)
		if err != nil {
			return nil, err
		}
		res, err := h.svc.Put(ctx, name, recs)
		if err != nil {
			return nil, err
		}
		failed := 0
		for _, r := range res {
			if r.ErrorCode != "" {
				failed++
			}
		}
		return putRecordsOut{FailedRecordCount: failed, Records: res}, nil
	case "GetShardIterator":
		var in struct {
			streamRef
			ShardID                string `json:"ShardId"`
			ShardIteratorType      string `json:"ShardIteratorType"`
			StartingSequenceNumber string `json:"StartingSequenceNumber"`
			Timestamp              epoch  `json:"Timestamp"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		// AWS lists the set in this order.
		v.oneOf("shardIteratorType", in.ShardIteratorType, true, "AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON")
		v.pattern("startingSequenceNumber", in.StartingSequenceNumber, false, seqPattern, `0|([1-9]\d{0,128})`)
		v.name("shardId", in.ShardID, true, 128)
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		it, err := h.svc.GetShardIterator(ctx, kinesis.IteratorInput{Name: name, ShardID: in.ShardID, Type: in.ShardIteratorType,
			Sequence: in.StartingSequenceNumber, Timestamp: in.Timestamp.ptr()})
		if err != nil {
			return nil, err
		}
		return map[string]any{"ShardIterator": it}, nil
	case "GetRecords":
		var in struct {
			ShardIterator string `json:"ShardIterator"`
			Limit         *int   `json:"Limit"`
			StreamARN     string `json:"StreamARN"`
		}
		fast := false
		if !isCBOR {
			in.ShardIterator, in.Limit, in.StreamARN, fast = fastGetRecords(body)
			fast = fast && in.ShardIterator != "" // "" needs the member check
		}
		if !fast {
			in.ShardIterator, in.Limit, in.StreamARN = "", nil, ""
			if err := v.decode(op, isCBOR, body, &in); err != nil {
				return nil, err
			}
		}
		v.intRange("limit", in.Limit, 1, 10000, false)
		if in.ShardIterator == "" && !v.has("shardIterator") {
			v.add(nil, "shardIterator", "not be null")
		} else {
			v.length("shardIterator", in.ShardIterator, 1, 512)
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		limit := 0
		if in.Limit != nil {
			limit = *in.Limit
		}
		return h.svc.GetRecords(ctx, in.ShardIterator, limit)
	case "SplitShard":
		var in struct {
			streamRef
			ShardToSplit       string `json:"ShardToSplit"`
			NewStartingHashKey string `json:"NewStartingHashKey"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.pattern("newStartingHashKey", in.NewStartingHashKey, true, hashKeyPattern, `0|([1-9]\d{0,38})`)
		v.name("shardToSplit", in.ShardToSplit, true, 128)
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		return empty{}, h.svc.SplitShard(ctx, name, in.ShardToSplit, in.NewStartingHashKey)
	case "MergeShards":
		var in struct {
			streamRef
			ShardToMerge         string `json:"ShardToMerge"`
			AdjacentShardToMerge string `json:"AdjacentShardToMerge"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.name("shardToMerge", in.ShardToMerge, true, 128)
		v.name("adjacentShardToMerge", in.AdjacentShardToMerge, true, 128)
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		return empty{}, h.svc.MergeShards(ctx, name, in.ShardToMerge, in.AdjacentShardToMerge)
	case "UpdateShardCount":
		var in struct {
			streamRef
			TargetShardCount *int   `json:"TargetShardCount"`
			ScalingType      string `json:"ScalingType"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.intRange("targetShardCount", in.TargetShardCount, 1, 100000, true)
		v.oneOf("scalingType", in.ScalingType, true, "UNIFORM_SCALING")
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		cur, err := h.svc.UpdateShardCount(ctx, name, *in.TargetShardCount)
		if err != nil {
			return nil, err
		}
		return map[string]any{"StreamName": name, "StreamARN": h.svc.StreamARN(name), "CurrentShardCount": cur, "TargetShardCount": *in.TargetShardCount}, nil
	case "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod":
		var in struct {
			streamRef
			RetentionPeriodHours *int `json:"RetentionPeriodHours"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.intRange("retentionPeriodHours", in.RetentionPeriodHours, 1, 2147483647, true)
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		return empty{}, h.svc.SetRetention(ctx, name, *in.RetentionPeriodHours, op == "IncreaseStreamRetentionPeriod")
	case "AddTagsToStream", "TagResource":
		var in struct {
			streamRef
			ResourceARN string            `json:"ResourceARN"`
			Tags        map[string]string `json:"Tags"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		if in.Tags == nil {
			v.add(nil, "tags", "not be null")
		} else {
			checkTagMap(&v, in.Tags)
		}
		if op == "TagResource" {
			v.arn("resourceARN", in.ResourceARN, true)
			in.StreamARN = in.ResourceARN
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		if err := h.svc.CheckStream(name); err != nil {
			return nil, err
		}
		if err := h.checkTagChars(name, "add tags to", in.Tags, nil); err != nil {
			return nil, err
		}
		return empty{}, h.svc.AddTags(ctx, name, in.Tags)
	case "RemoveTagsFromStream", "UntagResource":
		var in struct {
			streamRef
			ResourceARN string   `json:"ResourceARN"`
			TagKeys     []string `json:"TagKeys"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		if in.TagKeys == nil {
			v.add(nil, "tagKeys", "not be null")
		} else {
			checkTagKeys(&v, in.TagKeys)
		}
		if op == "UntagResource" {
			v.arn("resourceARN", in.ResourceARN, true)
			in.StreamARN = in.ResourceARN
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		if err := h.svc.CheckStream(name); err != nil {
			return nil, err
		}
		if err := h.checkTagChars(name, "remove tags from", nil, in.TagKeys); err != nil {
			return nil, err
		}
		return empty{}, h.svc.RemoveTags(ctx, name, in.TagKeys)
	case "ListTagsForStream", "ListTagsForResource":
		var in struct {
			streamRef
			ResourceARN          string `json:"ResourceARN"`
			ExclusiveStartTagKey string `json:"ExclusiveStartTagKey"`
			Limit                *int   `json:"Limit"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.intRange("limit", in.Limit, 1, 50, false)
		v.length("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, 128)
		if op == "ListTagsForResource" {
			v.arn("resourceARN", in.ResourceARN, true)
			in.StreamARN = in.ResourceARN
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		limit := 0
		if in.Limit != nil {
			limit = *in.Limit
		}
		if op == "ListTagsForResource" {
			limit = 1000
		}
		tags, more, err := h.svc.ListTags(ctx, name, in.ExclusiveStartTagKey, limit)
		if err != nil {
			return nil, err
		}
		if op == "ListTagsForResource" {
			return map[string]any{"Tags": tags}, nil
		}
		return map[string]any{"Tags": tags, "HasMoreTags": more}, nil
	case "EnableEnhancedMonitoring", "DisableEnhancedMonitoring":
		var in struct {
			streamRef
			ShardLevelMetrics []string `json:"ShardLevelMetrics"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		if in.ShardLevelMetrics == nil {
			v.add(nil, "shardLevelMetrics", "not be null")
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		cur, des, err := h.svc.SetMonitoring(ctx, name, in.ShardLevelMetrics, op == "EnableEnhancedMonitoring")
		if err != nil {
			return nil, err
		}
		return map[string]any{"StreamName": name, "StreamARN": h.svc.StreamARN(name), "CurrentShardLevelMetrics": cur, "DesiredShardLevelMetrics": des}, nil
	case "StartStreamEncryption", "StopStreamEncryption":
		var in struct {
			streamRef
			EncryptionType string `json:"EncryptionType"`
			KeyID          string `json:"KeyId"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.oneOf("encryptionType", in.EncryptionType, true, "NONE", "KMS")
		v.length("keyId", in.KeyID, 1, 2048)
		if in.KeyID == "" {
			v.add(nil, "keyId", "not be null")
		}
		in.check(&v, true)
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return nil, err
		}
		return empty{}, h.svc.SetEncryption(ctx, name, in.EncryptionType, in.KeyID, op == "StartStreamEncryption")
	case "DescribeLimits":
		var in empty
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		return h.svc.DescribeLimits(ctx), nil
	case "UpdateStreamMode":
		var in struct {
			StreamARN         string       `json:"StreamARN"`
			StreamModeDetails *modeDetails `json:"StreamModeDetails"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		v.arn("streamARN", in.StreamARN, true)
		if in.StreamModeDetails == nil {
			v.add(nil, "streamModeDetails", "not be null")
		} else {
			v.oneOf("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, true, "PROVISIONED", "ON_DEMAND")
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		name, err := h.svc.ResolveName("", in.StreamARN)
		if err != nil {
			return nil, err
		}
		return empty{}, h.svc.UpdateStreamMode(ctx, name, in.StreamModeDetails.StreamMode)
	case "RegisterStreamConsumer", "DescribeStreamConsumer", "DeregisterStreamConsumer", "ListStreamConsumers":
		var in struct {
			StreamARN    string `json:"StreamARN"`
			ConsumerName string `json:"ConsumerName"`
			ConsumerARN  string `json:"ConsumerARN"`
			MaxResults   *int   `json:"MaxResults"`
			NextToken    string `json:"NextToken"`
		}
		if err := v.decode(op, isCBOR, body, &in); err != nil {
			return nil, err
		}
		switch op {
		case "RegisterStreamConsumer":
			v.arn("streamARN", in.StreamARN, true)
			v.name("consumerName", in.ConsumerName, true, 128)
		case "ListStreamConsumers":
			v.arn("streamARN", in.StreamARN, true)
			v.intRange("maxResults", in.MaxResults, 1, 10000, false)
		default:
			v.arn("streamARN", in.StreamARN, false)
			v.name("consumerName", in.ConsumerName, false, 128)
			v.arn("consumerARN", in.ConsumerARN, false)
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		if (op == "DescribeStreamConsumer" || op == "DeregisterStreamConsumer") && in.ConsumerARN == "" && (in.StreamARN == "" || in.ConsumerName == "") {
			return nil, apiErr("InvalidArgumentException", "Either ConsumerARN or both ConsumerName and StreamARN must be provided.")
		}
		switch op {
		case "RegisterStreamConsumer":
			c, err := h.svc.RegisterConsumer(ctx, in.StreamARN, in.ConsumerName)
			return map[string]any{"Consumer": c}, err
		case "DescribeStreamConsumer":
			c, err := h.svc.DescribeConsumer(ctx, in.StreamARN, in.ConsumerName, in.ConsumerARN)
			return map[string]any{"ConsumerDescription": c}, err
		case "DeregisterStreamConsumer":
			return empty{}, h.svc.DeregisterConsumer(ctx, in.StreamARN, in.ConsumerName, in.ConsumerARN)
		default:
			cs, err := h.svc.ListConsumers(ctx, in.StreamARN)
			return map[string]any{"Consumers": cs}, err
		}
	}
	return nil, apiErr("UnknownOperationException", "")
}

const tagCharsMsg = "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."

// markRecordMembers sets which PutRecords entries sent PartitionKey and
// ExplicitHashKey (non-null); asked only when a value is empty.
func markRecordMembers(body []byte, recs []putRecordEntry) {
	var in struct {
		Records []map[string]json.RawMessage `json:"Records"`
	}
	if json.Unmarshal(body, &in) != nil {
		return
	}
	for i, r := range in.Records {
		if i >= len(recs) {
			break
		}
		recs[i].pkSet = r["PartitionKey"] != nil && string(r["PartitionKey"]) != "null"
		recs[i].ehkSet = r["ExplicitHashKey"] != nil && string(r["ExplicitHashKey"]) != "null"
	}
}

// javaMap renders a map as Java's toString does ({k=v, k2=v2}), in key order.
func javaMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// checkTagMap applies the model's constraints on a Tags map.
func checkTagMap(v *validator, tags map[string]string) {
	if len(tags) == 0 {
		v.add("{}", "tags", "have length greater than or equal to 1")
		return
	}
	if len(tags) > 200 {
		v.add(javaMap(tags), "tags", "have length less than or equal to 200")
	}
	for k := range tags {
		if len(k) < 1 || len(k) > 128 {
			v.msgs = append(v.msgs, "Value '"+javaMap(tags)+"' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			break
		}
	}
	for _, val := range tags {
		if len(val) > 256 {
			v.msgs = append(v.msgs, "Value '"+javaMap(tags)+"' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]")
			break
		}
	}
}

// checkTagKeys applies the model's constraints on a TagKeys list.
func checkTagKeys(v *validator, keys []string) {
	list := "[" + strings.Join(keys, ", ") + "]"
	if len(keys) == 0 {
		v.add(list, "tagKeys", "have length greater than or equal to 1")
		return
	}
	if len(keys) > 50 {
		v.add(list, "tagKeys", "have length less than or equal to 50")
	}
	for _, k := range keys {
		if len(k) < 1 || len(k) > 128 {
			v.add(list, "tagKeys", "satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			break
		}
	}
}

// checkTagChars checks tag characters once the stream is known: outside
// the documented set → the generic message; '%' (documented as valid, but
// refused by the stream) → the stream-specific one, as AWS answers.
func (h *Handler) checkTagChars(stream, action string, tags map[string]string, keys []string) error {
	pct := false
	check := func(s string) bool {
		for _, r := range s {
			if r == '%' {
				pct = true
			}
		}
		return validTag(strings.ReplaceAll(s, "%", ""))
	}
	for k, val := range tags {
		if !check(k) || !check(val) {
			return apiErr("InvalidArgumentException", tagCharsMsg)
		}
	}
	for _, k := range keys {
		if !check(k) {
			return apiErr("InvalidArgumentException", tagCharsMsg)
		}
	}
	if pct {
		return apiErr("InvalidArgumentException", "Failed to "+action+" stream "+stream+" under account "+h.svc.AccountID()+
			" because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'.")
	}
	return nil
}

// validTag reports whether a tag key or value uses only the characters AWS
// accepts (letters, digits, space, _ . / = + - @; AWS rejects % despite its
// message).
func validTag(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ':
		case strings.ContainsRune("_./=+-@", r):
		default:
			return false
		}
	}
	return true
}
