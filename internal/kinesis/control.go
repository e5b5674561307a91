package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"skyhub/internal/errs"
)

// Timestamp is a time that marshals as AWS JSON does: epoch seconds with a
// millisecond fraction.
type Timestamp int64 // ms

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(t)/1000, 'f', 3, 64)), nil
}

// Time converts to time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(int64(t)) }

// HashKeyRange is a shard's hash-key range.
type HashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

// SequenceNumberRange is a shard's sequence-number range.
type SequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

// Shard describes one shard.
type Shard struct {
	ShardID               string              `json:"ShardId"`
	ParentShardID         string              `json:"ParentShardId,omitempty"`
	AdjacentParentShardID string              `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          HashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange   SequenceNumberRange `json:"SequenceNumberRange"`
}

// ChildShard is a child in GetRecords/SubscribeToShard answers.
type ChildShard struct {
	ShardID      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange HashKeyRange `json:"HashKeyRange"`
}

// EnhancedMetrics lists shard-level metrics.
type EnhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

// StreamModeDetails is PROVISIONED or ON_DEMAND.
type StreamModeDetails struct {
	StreamMode string `json:"StreamMode"`
}

// StreamDescription is DescribeStream's answer.
type StreamDescription struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       StreamModeDetails `json:"StreamModeDetails"`
	Shards                  []Shard           `json:"Shards"`
	HasMoreShards           bool              `json:"HasMoreShards"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp Timestamp         `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []EnhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	KeyID                   string            `json:"KeyId,omitempty"`
}

// StreamSummary is DescribeStreamSummary's answer.
type StreamSummary struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       StreamModeDetails `json:"StreamModeDetails"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp Timestamp         `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []EnhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	KeyID                   string            `json:"KeyId,omitempty"`
	OpenShardCount          int               `json:"OpenShardCount"`
	ConsumerCount           int               `json:"ConsumerCount"`
}

func (s *Service) shardOut(st *stream, m shardMeta) Shard {
	created := uint64(m.Created / 1000)
	out := Shard{ShardID: ShardID(m.Index), ParentShardID: m.Parent, AdjacentParentShardID: m.Adjacent,
		HashKeyRange: HashKeyRange{m.Start, m.End},
		SequenceNumberRange: SequenceNumberRange{StartingSequenceNumber: seqNum{created: created, shard: m.Index,
			arrival: created}.String()}}
	if m.Closed != 0 {
		out.SequenceNumberRange.EndingSequenceNumber = seqNum{created: created, shard: m.Index,
			counter: m.EndCounter, arrival: uint64(m.Closed / 1000)}.String()
	}
	return out
}

func (s *Service) metrics(st *stream) []EnhancedMetrics {
	m := append([]string{}, st.meta.Metrics...)
	return []EnhancedMetrics{{ShardLevelMetrics: m}}
}

// ResolveName returns the stream name from a name or an ARN (one required).
func (s *Service) ResolveName(name, arn string) (string, error) {
	const op = "kinesis.ResolveName"
	if arn != "" {
		_, n, ok := strings.Cut(arn, ":stream/")
		if !ok || n == "" || strings.Contains(n, "/") {
			return "", errs.E(op, errs.Invalid, fmt.Sprintf("StreamARN %s is invalid.", arn))
		}
		if name != "" && name != n {
			return "", errs.E(op, errs.Invalid, "StreamName and StreamARN refer to different streams.")
		}
		if !strings.HasPrefix(arn, "arn:aws:kinesis:") {
			return "", errs.E(op, errs.Invalid, fmt.Sprintf("StreamARN %s is invalid.", arn))
		}
		return n, nil
	}
	if name == "" {
		return "", errs.E(op, errs.Invalid, "Either StreamName or StreamARN should be provided.")
	}
	return name, nil
}

// DescribeStream describes a stream, paging shards.
func (s *Service) DescribeStream(ctx context.Context, name string, limit int, exclusiveStart string) (StreamDescription, error) {
	const op = "kinesis.DescribeStream"
	st, err := s.lookup(op, name)
	if err != nil {
		return StreamDescription{}, err
	}
	if limit <= 0 {
		limit = 100
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	d := StreamDescription{StreamName: name, StreamARN: st.meta.ARN, StreamStatus: s.status(st),
		StreamModeDetails: StreamModeDetails{st.meta.Mode}, RetentionPeriodHours: st.meta.Retention,
		StreamCreationTimestamp: Timestamp(st.meta.Created), EnhancedMonitoring: s.metrics(st),
		EncryptionType: st.meta.Encryption, KeyID: st.meta.KeyID, Shards: []Shard{}}
	// A stream lists no shards until it is active (also when it is deleted
	// while still being created).
	if d.StreamStatus == StatusCreating || (st.meta.Status == StatusCreating && st.meta.StatusUntil > s.nowMs()) {
		return d, nil
	}
	// While a reshard is UPDATING, AWS still describes the shards as they
	// were before it: children hidden, parents open.
	updating := d.StreamStatus == StatusUpdating && st.meta.Updated != 0
	for _, m := range st.meta.Shards {
		if exclusiveStart != "" && ShardID(m.Index) <= exclusiveStart {
			continue
		}
		if updating && m.Created >= st.meta.Updated {
			continue
		}
		if updating && m.Closed >= st.meta.Updated {
			m.Closed = 0
		}
		if len(d.Shards) == limit {
			d.HasMoreShards = true
			break
		}
		d.Shards = append(d.Shards, s.shardOut(st, m))
	}
	return d, nil
}

// DescribeStreamSummary summarises a stream.
func (s *Service) DescribeStreamSummary(ctx context.Context, name string) (StreamSummary, error) {
	const op = "kinesis.DescribeStreamSummary"
	st, err := s.lookup(op, name)
	if err != nil {
		return StreamSummary{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return StreamSummary{StreamName: name, StreamARN: st.meta.ARN, StreamStatus: s.status(st),
		StreamModeDetails: StreamModeDetails{st.meta.Mode}, RetentionPeriodHours: st.meta.Retention,
		StreamCreationTimestamp: Timestamp(st.meta.Created), EnhancedMonitoring: s.metrics(st),
		EncryptionType: st.meta.Encryption, KeyID: st.meta.KeyID, OpenShardCount: len(st.open),
		ConsumerCount: len(st.meta.Consumers)}, nil
}

// StreamListEntry is one ListStreams summary.
type StreamListEntry struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       StreamModeDetails `json:"StreamModeDetails"`
	StreamCreationTimestamp Timestamp         `json:"StreamCreationTimestamp"`
}

// ListStreams lists stream names after exclusiveStart; more reports more.
func (s *Service) ListStreams(ctx context.Context, limit int, exclusiveStart string) (out []StreamListEntry, more bool) {
	s.mu.Lock()
	s.reapLocked()
	names := make([]string, 0, len(s.streams))
	for n := range s.streams {
		if n > exclusiveStart {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if limit <= 0 {
		limit = 100
	}
	if len(names) > limit {
		names, more = names[:limit], true
	}
	out = []StreamListEntry{}
	for _, n := range names {
		st := s.streams[n]
		st.mu.RLock()
		out = append(out, StreamListEntry{n, st.meta.ARN, s.status(st), StreamModeDetails{st.meta.Mode}, Timestamp(st.meta.Created)})
		st.mu.RUnlock()
	}
	s.mu.Unlock()
	return out, more
}

// ShardFilter is ListShards' filter.
type ShardFilter struct {
	Type      string
	ShardID   string
	Timestamp *time.Time
}

// ListShardsInput are ListShards' arguments.
type ListShardsInput struct {
	Name           string
	ExclusiveStart string
	MaxResults     int
	NextToken      string
	Filter         *ShardFilter
}

type listToken struct {
	Stream  string `json:"s"`
	After   string `json:"a"`
	Created int64  `json:"c"`
	Filter  *struct {
		Type string `json:"t"`
		ID   string `json:"i,omitempty"`
		TS   int64  `json:"ts,omitempty"`
	} `json:"f,omitempty"`
}

// ListShards lists shards with filters and paging; it returns the shards
// and the next token ("" at the end).
func (s *Service) ListShards(ctx context.Context, in ListShardsInput) ([]Shard, string, error) {
	const op = "kinesis.ListShards"
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		var tok listToken
		if err != nil || json.Unmarshal(raw, &tok) != nil || tok.Stream == "" {
			return nil, "", errs.E(op, errs.Invalid, "Invalid ShardId in NextToken.")
		}
		if s.nowMs()-tok.Created > IteratorTTL.Milliseconds() {
			return nil, "", errs.E(op, errs.Invalid, ErrExpiredNextToken, "The timestamp on the next token has expired.")
		}
		in.Name, in.ExclusiveStart = tok.Stream, tok.After
		if tok.Filter != nil {
			in.Filter = &ShardFilter{Type: tok.Filter.Type, ShardID: tok.Filter.ID}
			if tok.Filter.TS != 0 {
				t := time.UnixMilli(tok.Filter.TS)
				in.Filter.Timestamp = &t
			}
		}
	}
	st, err := s.lookup(op, in.Name)
	if err != nil {
		return nil, "", err
	}
	if in.MaxResults <= 0 {
		in.MaxResults = 1000
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if s.status(st) == StatusCreating {
		return nil, "", errs.E(op, errs.Conflict, fmt.Sprintf("Stream %s under account %s not ACTIVE, instead in state CREATING", in.Name, s.cfg.AccountID))
	}
	f := in.Filter
	var out []Shard
	next := ""
	for _, m := range st.meta.Shards {
		id := ShardID(m.Index)
		if in.ExclusiveStart != "" && id <= in.ExclusiveStart {
			continue
		}
		if f != nil {
			switch f.Type {
			case "AFTER_SHARD_ID":
				if id <= f.ShardID {
					continue
				}
			case "AT_LATEST":
				if m.Closed != 0 {
					continue
				}
			case "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON":
				if m.Closed != 0 && m.Closed < s.nowMs()-int64(st.meta.Retention)*3600e3 {
					continue
				}
				if f.Type == "AT_TRIM_HORIZON" && m.Parent != "" && !s.parentExpired(st, m) {
					continue
				}
			case "AT_TIMESTAMP", "FROM_TIMESTAMP":
				ts := s.nowMs()
				if f.Timestamp != nil {
					ts = f.Timestamp.UnixMilli()
				}
				if m.Closed != 0 && m.Closed <= ts {
					continue
				}
				if f.Type == "AT_TIMESTAMP" && m.Created > ts && m.Parent != "" {
					continue
				}
			}
		}
		if len(out) == in.MaxResults {
			tok := listToken{Stream: in.Name, After: out[len(out)-1].ShardID, Created: s.nowMs()}
			if f != nil {
				tok.Filter = &struct {
					Type string `json:"t"`
					ID   string `json:"i,omitempty"`
					TS   int64  `json:"ts,omitempty"`
				}{Type: f.Type, ID: f.ShardID}
				if f.Timestamp != nil {
					tok.Filter.TS = f.Timestamp.UnixMilli()
				}
			}
			b, _ := json.Marshal(tok)
			next = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		out = append(out, s.shardOut(st, m))
	}
	if out == nil {
		out = []Shard{}
	}
	return out, next, nil
}

func (s *Service) parentExpired(st *stream, m shardMeta) bool {
	for _, p := range st.meta.Shards {
		if ShardID(p.Index) == m.Parent {
			return p.Closed != 0 && p.Closed < s.nowMs()-int64(st.meta.Retention)*3600e3
		}
	}
	return true
}

// modify runs fn on an ACTIVE stream (UPDATING rejected unless allowUpdating)
// under its write lock and persists the result.
func (s *Service) modify(ctx context.Context, op, name string, allowUpdating bool, fn func(st *stream) error) error {
	st, err := s.lookup(op, name)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	status := s.status(st)
	if status == StatusDeleting {
		return s.notFound(op, name)
	}
	if status == StatusCreating || (status == StatusUpdating && !allowUpdating) {
		return errs.E(op, errs.Conflict, fmt.Sprintf("Stream %s under account %s not ACTIVE, instead in state %s", name, s.cfg.AccountID, status))
	}
	saved := st.meta
	saved.Shards = append([]shardMeta(nil), st.meta.Shards...)
	saved.Tags = copyTags(st.meta.Tags)
	saved.Consumers = append([]consumerMeta(nil), st.meta.Consumers...)
	if err := fn(st); err != nil {
		st.meta = saved
		return err
	}
	if err := s.persist(ctx, st); err != nil {
		st.meta = saved
		s.rebuild(ctx, st, false)
		return errs.E(op, errs.Internal, err)
	}
	return nil
}

func copyTags(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	o := make(map[string]string, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

// closeShardLocked closes shard idx at now. Caller holds st.mu (W).
func (s *Service) closeShardLocked(st *stream, i int, now int64) {
	m := &st.meta.Shards[i]
	sh := st.shards[m.Index]
	sh.mu.Lock()
	m.Closed = now
	m.EndCounter = sh.next - 1
	sh.closed = true
	sh.endCounter = m.EndCounter
	close(sh.notify)
	sh.notify = make(chan struct{})
	sh.mu.Unlock()
}

func (s *Service) beginUpdate(st *stream) { s.beginUpdateAt(st, s.nowMs()) }

// beginUpdateAt starts UPDATING at now, the time the reshard's shards carry.
func (s *Service) beginUpdateAt(st *stream, now int64) {
	st.meta.Status = StatusUpdating
	st.meta.StatusUntil = now + s.cfg.StatusDelay.Milliseconds()
	st.meta.Updated = now
}

func (s *Service) shardIndex(st *stream, id, what string) (int, error) {
	if idx, ok := parseShardID(id); ok {
		for i, m := range st.meta.Shards {
			if m.Index == idx {
				return i, nil
			}
		}
		id = ShardID(idx)
	}
	return 0, errs.E("kinesis.shard", errs.NotFound, fmt.Sprintf("Could not find shard %s in stream %s under account %s.", id, st.meta.Name, s.cfg.AccountID))
}

func (s *Service) checkShardQuota(op string, add int) error {
	s.mu.RLock()
	open := s.openShardCount()
	s.mu.RUnlock()
	if open+add > s.cfg.ShardLimit {
		return errs.E(op, errs.Invalid, ErrLimitExceeded, fmt.Sprintf(
			"This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			s.cfg.AccountID, s.cfg.Region, open, s.cfg.ShardLimit, add))
	}
	return nil
}

// SplitShard splits an open shard at newStart.
func (s *Service) SplitShard(ctx context.Context, name, shardID, newStart string) error {
	const op = "kinesis.SplitShard"
	if err := s.checkShardName(op, name, shardID); err != nil {
		return err
	}
	if err := s.checkShardQuota(op, 1); err != nil {
		return err
	}
	return s.modify(ctx, op, name, false, func(st *stream) error {
		i, err := s.shardIndex(st, shardID, "ShardToSplit")
		if err != nil {
			return err
		}
		m := st.meta.Shards[i]
		if m.Closed != 0 {
			return errs.E(op, errs.Conflict, fmt.Sprintf("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", ShardID(m.Index), name, s.cfg.AccountID))
		}
		k, err := parseHashKey(newStart)
		start, _ := parseHashKey(m.Start)
		end, _ := parseHashKey(m.End)
		// AWS wants StartingHashKey+1 < NewStartingHashKey < EndingHashKey.
		if err != nil || k.cmp(start.add(1)) <= 0 || k.cmp(end) >= 0 {
			return errs.E(op, errs.Invalid, fmt.Sprintf("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.", newStart, ShardID(m.Index), name, s.cfg.AccountID, m.Start, m.End))
		}
		now := s.nowMs()
		s.closeShardLocked(st, i, now)
		n := uint32(len(st.meta.Shards))
		st.meta.Shards = append(st.meta.Shards,
			shardMeta{Index: n, Parent: ShardID(m.Index), Start: m.Start, End: k.sub1().String(), Created: now},
			shardMeta{Index: n + 1, Parent: ShardID(m.Index), Start: k.String(), End: m.End, Created: now})
		s.beginUpdateAt(st, now)
		return s.rebuild(ctx, st, false)
	})
}

// MergeShards merges two adjacent open shards.
func (s *Service) MergeShards(ctx context.Context, name, shardID, adjacentID string) error {
	const op = "kinesis.MergeShards"
	for _, id := range []string{shardID, adjacentID} {
		if err := s.checkShardName(op, name, id); err != nil {
			return err
		}
	}
	return s.modify(ctx, op, name, false, func(st *stream) error {
		i, err := s.shardIndex(st, shardID, "ShardToMerge")
		if err != nil {
			return err
		}
		j, err := s.shardIndex(st, adjacentID, "AdjacentShardToMerge")
		if err != nil {
			return err
		}
		a, b := st.meta.Shards[i], st.meta.Shards[j]
		for _, m := range []shardMeta{a, b} {
			if m.Closed != 0 {
				return errs.E(op, errs.Conflict, fmt.Sprintf("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", ShardID(m.Index), name, s.cfg.AccountID))
			}
		}
		ae, _ := parseHashKey(a.End)
		bs, _ := parseHashKey(b.Start)
		lo, hi := a.Start, b.End
		// AWS requires ShardToMerge to lie directly below AdjacentShardToMerge.
		if ae.cmp(maxHash) == 0 || ae.add(1).cmp(bs) != 0 {
			return errs.E(op, errs.Invalid, fmt.Sprintf("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging", ShardID(a.Index), ShardID(b.Index), name, s.cfg.AccountID))
		}
		now := s.nowMs()
		s.closeShardLocked(st, i, now)
		s.closeShardLocked(st, j, now)
		n := uint32(len(st.meta.Shards))
		st.meta.Shards = append(st.meta.Shards, shardMeta{Index: n, Parent: ShardID(a.Index), Adjacent: ShardID(b.Index),
			Start: lo, End: hi, Created: now})
		s.beginUpdateAt(st, now)
		return s.rebuild(ctx, st, false)
	})
}

// UpdateShardCount rescales the stream uniformly to target open shards; it
// returns the previous count.
func (s *Service) UpdateShardCount(ctx context.Context, name string, target int) (int, error) {
	const op = "kinesis.UpdateShardCount"
	var current int
	st, err := s.lookup(op, name)
	if err != nil {
		return 0, err
	}
	st.mu.RLock()
	cur := len(st.open)
	st.mu.RUnlock()
	if target > cur {
		if err := s.checkShardQuota(op, target-cur); err != nil {
			return 0, err
		}
	}
	err = s.modify(ctx, op, name, false, func(st *stream) error {
		current = len(st.open)
		if target > 2*current || target*2 < current {
			return errs.E(op, errs.Invalid, fmt.Sprintf("UpdateShardCount failed for stream %s under account %s. Target shard count %d must be between half and double the current open shard count %d.", name, s.cfg.AccountID, target, current))
		}
		now := s.nowMs()
		type rng struct {
			id         string
			start, end u128
		}
		var olds []rng
		for i, m := range st.meta.Shards {
			if m.Closed == 0 {
				a, _ := parseHashKey(m.Start)
				b, _ := parseHashKey(m.End)
				olds = append(olds, rng{ShardID(m.Index), a, b})
				s.closeShardLocked(st, i, now)
			}
		}
		sort.Slice(olds, func(i, j int) bool { return olds[i].start.cmp(olds[j].start) < 0 })
		n := uint32(len(st.meta.Shards))
		for k, r := range splitEven(target) {
			m := shardMeta{Index: n + uint32(k), Start: r[0].String(), End: r[1].String(), Created: now}
			for _, o := range olds {
				if o.start.cmp(r[1]) <= 0 && o.end.cmp(r[0]) >= 0 {
					if m.Parent == "" {
						m.Parent = o.id
					} else if m.Adjacent == "" {
						m.Adjacent = o.id
					}
				}
			}
			st.meta.Shards = append(st.meta.Shards, m)
		}
		s.beginUpdateAt(st, now)
		return s.rebuild(ctx, st, false)
	})
	return current, err
}

// SetRetention increases (inc) or decreases the retention period.
func (s *Service) SetRetention(ctx context.Context, name string, hours int, inc bool) error {
	const op = "kinesis.SetRetention"
	return s.modify(ctx, op, name, true, func(st *stream) error {
		cur := st.meta.Retention
		if hours < DefaultRetention {
			return errs.E(op, errs.Invalid, fmt.Sprintf("Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", DefaultRetention, hours))
		}
		if hours > MaxRetention {
			return errs.E(op, errs.Invalid, fmt.Sprintf("Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", MaxRetention, hours))
		}
		if inc && hours < cur {
			return errs.E(op, errs.Invalid, fmt.Sprintf("Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, name, cur))
		}
		if !inc && hours > cur {
			return errs.E(op, errs.Invalid, fmt.Sprintf("Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, name, cur))
		}
		st.meta.Retention = hours
		return nil
	})
}

// AddTags adds or replaces tags (at most 50 per stream).
func (s *Service) AddTags(ctx context.Context, name string, tags map[string]string) error {
	const op = "kinesis.AddTags"
	return s.modify(ctx, op, name, true, func(st *stream) error {
		if st.meta.Tags == nil {
			st.meta.Tags = map[string]string{}
		}
		for k, v := range tags {
			st.meta.Tags[k] = v
		}
		if len(st.meta.Tags) > MaxTags {
			return errs.E(op, errs.Invalid, fmt.Sprintf("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", name, s.cfg.AccountID, MaxTags))
		}
		return nil
	})
}

// RemoveTags removes tag keys.
func (s *Service) RemoveTags(ctx context.Context, name string, keys []string) error {
	return s.modify(ctx, "kinesis.RemoveTags", name, true, func(st *stream) error {
		for _, k := range keys {
			delete(st.meta.Tags, k)
		}
		return nil
	})
}

// Tag is a key/value tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// ListTags lists tags sorted by key after exclusiveStart.
func (s *Service) ListTags(ctx context.Context, name, exclusiveStart string, limit int) ([]Tag, bool, error) {
	st, err := s.lookup("kinesis.ListTags", name)
	if err != nil {
		return nil, false, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := []Tag{}
	for k, v := range st.meta.Tags {
		if k > exclusiveStart {
			out = append(out, Tag{k, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if limit <= 0 {
		limit = 50
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// UpdateStreamMode switches between PROVISIONED and ON_DEMAND.
func (s *Service) UpdateStreamMode(ctx context.Context, name, mode string) error {
	const op = "kinesis.UpdateStreamMode"
	return s.modify(ctx, op, name, false, func(st *stream) error {
		st.meta.Mode = mode
		s.beginUpdate(st)
		return nil
	})
}

// SetMonitoring enables or disables shard-level metrics; it returns the
// current and desired sets.
func (s *Service) SetMonitoring(ctx context.Context, name string, metrics []string, enable bool) (cur, desired []string, err error) {
	all := []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}
	err = s.modify(ctx, "kinesis.SetMonitoring", name, true, func(st *stream) error {
		cur = append([]string{}, st.meta.Metrics...)
		set := map[string]bool{}
		for _, m := range st.meta.Metrics {
			set[m] = true
		}
		for _, m := range metrics {
			if m == "ALL" {
				for _, a := range all {
					set[a] = enable
				}
			} else {
				set[m] = enable
			}
		}
		desired = []string{}
		for _, a := range all {
			if set[a] {
				desired = append(desired, a)
			}
		}
		st.meta.Metrics = desired
		return nil
	})
	return cur, desired, err
}

// SetEncryption starts (KMS + key) or stops stream encryption (stored only).
func (s *Service) SetEncryption(ctx context.Context, name, typ, key string, start bool) error {
	return s.modify(ctx, "kinesis.SetEncryption", name, false, func(st *stream) error {
		if start {
			st.meta.Encryption, st.meta.KeyID = typ, key
		} else {
			st.meta.Encryption, st.meta.KeyID = "NONE", ""
		}
		s.beginUpdate(st)
		return nil
	})
}

// Limits is DescribeLimits' answer.
type Limits struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

// DescribeLimits reports the account's shard quota and use.
func (s *Service) DescribeLimits(ctx context.Context) Limits {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := Limits{ShardLimit: s.cfg.ShardLimit, OpenShardCount: s.openShardCount(), OnDemandStreamCountLimit: 50}
	for _, st := range s.streams {
		if st.meta.Mode == "ON_DEMAND" && st.deleting.Load() == 0 {
			l.OnDemandStreamCount++
		}
	}
	return l
}

// bigFromDecimal is used by tests and the wire to check hash keys.
func bigFromDecimal(s string) (*big.Int, bool) { return new(big.Int).SetString(s, 10) }

// checkShardName rejects shard IDs that cannot name a shard, before the
// stream is looked up (AWS reports these first).
func (s *Service) checkShardName(op, stream, id string) error {
	if _, ok := parseShardID(id); !ok {
		return errs.E(op, errs.NotFound, fmt.Sprintf("Could not find shard %s in stream %s under account %s.", id, stream, s.cfg.AccountID))
	}
	return nil
}
