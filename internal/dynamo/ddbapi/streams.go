package ddbapi

import (
	"context"
	"encoding/json"

	"skyhub/internal/dynamo"
)

func streamJSON(si dynamo.StreamInfo) map[string]any {
	return map[string]any{"StreamArn": si.ARN, "StreamLabel": si.Label, "TableName": si.Table}
}

func (h *Handler) listStreams(ctx context.Context, body []byte) (any, error) {
	var req struct {
		TableName               string
		Limit                   int
		ExclusiveStartStreamArn string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	all := h.svc.ListStreams(req.TableName)
	out := []map[string]any{}
	started := req.ExclusiveStartStreamArn == ""
	limit := req.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	var last string
	for _, si := range sortStreams(all) {
		if !started {
			started = si.ARN == req.ExclusiveStartStreamArn
			continue
		}
		if len(out) == limit {
			last = out[len(out)-1]["StreamArn"].(string)
			break
		}
		out = append(out, streamJSON(si))
	}
	resp := map[string]any{"Streams": out}
	if last != "" {
		resp["LastEvaluatedStreamArn"] = last
	}
	return resp, nil
}

func sortStreams(s []dynamo.StreamInfo) []dynamo.StreamInfo {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].ARN < s[j-1].ARN; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func (h *Handler) describeStream(ctx context.Context, body []byte) (any, error) {
	var req struct{ StreamArn *string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.StreamArn == nil {
		return nil, required("streamArn")
	}
	si, err := h.svc.DescribeStream(*req.StreamArn)
	if err != nil {
		return nil, err
	}
	rng := map[string]any{"StartingSequenceNumber": si.StartSeq}
	if si.EndSeq != "" {
		rng["EndingSequenceNumber"] = si.EndSeq
	}
	d := streamJSON(si)
	d["StreamStatus"] = si.Status
	d["StreamViewType"] = si.ViewType
	d["CreationRequestDateTime"] = float64(si.Created.UnixMilli()) / 1000
	d["KeySchema"] = keySchemaJSON(si.KeySchema[0], rangeOf(si.KeySchema))
	d["Shards"] = []map[string]any{{"ShardId": si.ShardID, "SequenceNumberRange": rng}}
	return map[string]any{"StreamDescription": d}, nil
}

func rangeOf(ks []dynamo.KeyElem) *dynamo.KeyElem {
	if len(ks) > 1 {
		return &ks[1]
	}
	return nil
}

func (h *Handler) getShardIterator(ctx context.Context, body []byte) (any, error) {
	var req struct {
		StreamArn         *string
		ShardId           *string
		ShardIteratorType *string
		SequenceNumber    string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.StreamArn == nil:
		return nil, required("streamArn")
	case req.ShardId == nil:
		return nil, required("shardId")
	case req.ShardIteratorType == nil:
		return nil, required("shardIteratorType")
	}
	it, err := h.svc.ShardIterator(*req.StreamArn, *req.ShardId, *req.ShardIteratorType, req.SequenceNumber)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ShardIterator": it}, nil
}

func (h *Handler) getRecords(ctx context.Context, body []byte) (any, error) {
	var req struct {
		ShardIterator *string
		Limit         int
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.ShardIterator == nil {
		return nil, required("shardIterator")
	}
	recs, next, err := h.svc.GetRecords(ctx, *req.ShardIterator, req.Limit)
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []json.RawMessage{}
	}
	out := map[string]any{"Records": recs}
	if next != "" {
		out["NextShardIterator"] = next
	}
	return out, nil
}
