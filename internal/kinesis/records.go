package kinesis

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"sort"
	"time"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// bucket is a token bucket refilled at rate per second up to rate tokens.
type bucket struct {
	tokens float64
	last   int64 // ms
	init   bool
}

// take removes n tokens if at least min are available; it reports success.
// Tokens may go negative (a large read borrows from later seconds).
func (b *bucket) take(now int64, rate, n, min float64) bool {
	if !b.init {
		b.tokens, b.last, b.init = rate, now, true
	}
	if el := now - b.last; el > 0 {
		b.tokens += rate * float64(el) / 1000
		if b.tokens > rate {
			b.tokens = rate
		}
		b.last = now
	}
	if b.tokens < min {
		return false
	}
	b.tokens -= n
	return true
}

// PutInput is one record to put.
type PutInput struct {
	PartitionKey    string
	ExplicitHashKey string // decimal; "" uses MD5(PartitionKey)
	Data            []byte
}

// PutResult is one record's outcome.
type PutResult struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardID        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

// writeStream returns a stream that accepts records.
func (s *Service) writeStream(op, name string) (*stream, error) {
	st, err := s.lookup(op, name)
	if err != nil {
		return nil, err
	}
	st.mu.RLock()
	status := s.status(st)
	st.mu.RUnlock()
	switch status {
	case StatusActive, StatusUpdating:
		return st, nil
	}
	return nil, s.notFound(op, name)
}

// appendRecord appends a record's stored form to b.
func appendRecord(b []byte, arrival int64, pk string, data []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(arrival))
	b = binary.AppendUvarint(b, uint64(len(pk)))
	b = append(b, pk...)
	return append(b, data...)
}

func decodeRecord(v []byte) (arrival int64, pk string, data []byte, ok bool) {
	if len(v) < 9 {
		return 0, "", nil, false
	}
	arrival = int64(binary.BigEndian.Uint64(v))
	n, w := binary.Uvarint(v[8:])
	if w <= 0 || uint64(len(v)-8-w) < n {
		return 0, "", nil, false
	}
	return arrival, string(v[8+w : 8+w+int(n)]), v[8+w+int(n):], true
}

type shardBatch struct {
	sh      *shard
	records []int // indexes into the input
}

// Put writes records durably. The error is for the whole request; per-record
// throttling is reported in the results. One record: see PutRecord.
func (s *Service) Put(ctx context.Context, name string, recs []PutInput) ([]PutResult, error) {
	const op = "kinesis.Put"
	st, err := s.writeStream(op, name)
	if err != nil {
		return nil, err
	}
	res := make([]PutResult, len(recs))
	hashes := make([]u128, len(recs))
	for i, r := range recs {
		if r.ExplicitHashKey != "" {
			h, err := parseHashKey(r.ExplicitHashKey)
			if err != nil {
				return nil, errs.E(op, errs.Invalid, fmt.Sprintf("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", r.ExplicitHashKey))
			}
			hashes[i] = h
		} else {
			hashes[i] = partitionHash(r.PartitionKey)
		}
	}
	st.mu.RLock()
	if st.deleting.Load() != 0 {
		st.mu.RUnlock()
		return nil, s.notFound(op, name)
	}
	var groups []shardBatch
	for i := range recs {
		sh := st.findShard(hashes[i])
		g := -1
		for j := range groups {
			if groups[j].sh == sh {
				g = j
				break
			}
		}
		if g < 0 {
			groups = append(groups, shardBatch{sh: sh})
			g = len(groups) - 1
		}
		groups[g].records = append(groups[g].records, i)
	}
	now := s.nowMs()
	ops := make([]kv.Op, 0, len(recs))
	pends := make([]*pend, 0, len(groups))
	// Keys and values of the whole call share one buffer (the store copies
	// them into its batch).
	size := 0
	for _, r := range recs {
		size += len(name) + 32 + binary.MaxVarintLen32 + len(r.PartitionKey) + len(r.Data)
	}
	buf := make([]byte, 0, size)
	var shards []*shard
	for _, g := range groups {
		sh := g.sh
		sh.mu.Lock()
		arrival := now
		if arrival < sh.lastArrival {
			arrival = sh.lastArrival
		}
		var last uint64
		for _, i := range g.records {
			r := recs[i]
			if !s.cfg.Unlimited {
				okR := sh.wRecs.take(now, WriteRecordsPerSec, 1, 1)
				okB := okR && sh.wBytes.take(now, WriteBytesPerSec, float64(len(r.Data)+len(r.PartitionKey)), float64(len(r.Data)+len(r.PartitionKey)))
				if !okR || !okB {
					if okR {
						sh.wRecs.tokens++
					}
					res[i] = PutResult{ErrorCode: "ProvisionedThroughputExceededException",
						ErrorMessage: fmt.Sprintf("Rate exceeded for shard %s in stream %s under account %s.", sh.id, name, s.cfg.AccountID)}
					continue
				}
			}
			c := sh.next
			sh.next++
			last = c
			start := len(buf)
			buf = append(buf, sh.key...)
			buf = binary.BigEndian.AppendUint64(buf, c)
			k := buf[start:len(buf):len(buf)]
			start = len(buf)
			buf = appendRecord(buf, arrival, r.PartitionKey, r.Data)
			ops = append(ops, kv.Set(k, buf[start:len(buf):len(buf)]))
			res[i] = PutResult{SequenceNumber: seqNum{created: sh.created, counter: c, arrival: uint64(arrival / 1000), shard: sh.idx}.String(), ShardID: sh.id}
		}
		if last != 0 {
			sh.lastArrival = arrival
			p := &pend{counter: last}
			sh.inflight = append(sh.inflight, p)
			pends = append(pends, p)
			shards = append(shards, sh)
		}
		sh.mu.Unlock()
	}
	st.mu.RUnlock()
	var werr error
	if len(ops) > 0 {
		werr = s.store.Write(ctx, ops...)
	}
	for i, sh := range shards {
		sh.complete(pends[i])
	}
	if werr != nil {
		return nil, errs.E(op, errs.Internal, werr)
	}
	return res, nil
}

// complete marks a write done and advances the visible counter.
func (sh *shard) complete(p *pend) {
	sh.mu.Lock()
	p.done = true
	adv := false
	for len(sh.inflight) > 0 && sh.inflight[0].done {
		sh.visible = sh.inflight[0].counter
		sh.inflight[0] = nil
		sh.inflight = sh.inflight[1:]
		adv = true
	}
	if adv {
		close(sh.notify)
		sh.notify = make(chan struct{})
	}
	sh.mu.Unlock()
}

func (st *stream) findShard(h u128) *shard {
	i := sort.Search(len(st.open), func(i int) bool { return st.open[i].end.cmp(h) >= 0 })
	if i == len(st.open) {
		i = len(st.open) - 1
	}
	return st.open[i]
}

// PutRecord writes one record; throttling is an error.
func (s *Service) PutRecord(ctx context.Context, name string, r PutInput) (PutResult, error) {
	res, err := s.Put(ctx, name, []PutInput{r})
	if err != nil {
		return PutResult{}, err
	}
	if res[0].ErrorCode != "" {
		return PutResult{}, errs.E("kinesis.PutRecord", errs.RateLimited, res[0].ErrorMessage)
	}
	return res[0], nil
}

// Iterator position: stream, shard and the next counter to read.
type iterPos struct {
	created  int64 // iterator creation ms
	streamTS int64 // stream creation ms (a recreated stream invalidates it)
	shard    uint32
	from     uint64
	name     string
}

func (s *Service) encodeIter(p iterPos) string {
	b := make([]byte, 0, 184)
	b = binary.BigEndian.AppendUint64(b, 1) // the 8-byte header AWS iterators start with
	b = binary.BigEndian.AppendUint64(b, uint64(p.created))
	b = binary.BigEndian.AppendUint64(b, uint64(p.streamTS))
	b = binary.BigEndian.AppendUint32(b, p.shard)
	b = binary.BigEndian.AppendUint64(b, p.from)
	b = append(b, byte(len(p.name)))
	b = append(b, p.name...)
	// Pad to 152 + 16k bytes, the size class of AWS's (encrypted) iterators.
	total := len(b) + 16
	if total < 152 {
		total = 152
	} else if r := (total - 152) % 16; r != 0 {
		total += 16 - r
	}
	b = append(b, make([]byte, total-16-len(b))...)
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(b)
	b = m.Sum(b)[:len(b)+16]
	s.macs.Put(m)
	return base64.StdEncoding.EncodeToString(b)
}

func (s *Service) decodeIter(it string) (iterPos, bool) {
	b, err := base64.StdEncoding.DecodeString(it)
	if err != nil || len(b) < 37+16 || binary.BigEndian.Uint64(b) != 1 {
		return iterPos{}, false
	}
	body, mac := b[:len(b)-16], b[len(b)-16:]
	m := s.macs.Get().(hash.Hash)
	defer s.macs.Put(m)
	m.Reset()
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:16], mac) {
		return iterPos{}, false
	}
	n := int(body[36])
	if 37+n > len(body) {
		return iterPos{}, false
	}
	return iterPos{created: int64(binary.BigEndian.Uint64(body[8:])), streamTS: int64(binary.BigEndian.Uint64(body[16:])),
		shard: binary.BigEndian.Uint32(body[24:]), from: binary.BigEndian.Uint64(body[28:]), name: string(body[37 : 37+n])}, true
}

// IteratorInput are GetShardIterator's arguments.
type IteratorInput struct {
	Name      string
	ShardID   string
	Type      string
	Sequence  string
	Timestamp *time.Time
}

func (s *Service) readShard(op, name, shardID string) (*stream, *shard, error) {
	idx, ok := parseShardID(shardID)
	if !ok {
		return nil, nil, errs.E(op, errs.NotFound, fmt.Sprintf("Could not find shard %s in stream %s under account %s.", shardID, name, s.cfg.AccountID))
	}
	st, err := s.lookup(op, name)
	if err != nil {
		return nil, nil, errs.E(op, errs.NotFound, fmt.Sprintf("Shard %s in stream %s under account %s does not exist", ShardID(idx), name, s.cfg.AccountID))
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if status := s.status(st); status == StatusCreating || status == StatusDeleting {
		return nil, nil, s.notFound(op, name)
	}
	if int(idx) >= len(st.shards) || st.shards[idx] == nil {
		return nil, nil, errs.E(op, errs.NotFound, fmt.Sprintf("Shard %s in stream %s under account %s does not exist", ShardID(idx), name, s.cfg.AccountID))
	}
	return st, st.shards[idx], nil
}

// position resolves a starting position to the next counter to read
// (counters start at 1).
func (s *Service) position(ctx context.Context, op string, st *stream, sh *shard, typ, seq string, ts *time.Time) (uint64, error) {
	from, err := s.position0(ctx, op, st, sh, typ, seq, ts)
	return max(from, 1), err
}

func (s *Service) position0(ctx context.Context, op string, st *stream, sh *shard, typ, seq string, ts *time.Time) (uint64, error) {
	switch typ {
	case "TRIM_HORIZON":
		return 0, nil
	case "LATEST":
		sh.mu.Lock()
		v := sh.visible
		sh.mu.Unlock()
		return v + 1, nil
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		p, ok := parseSeq(seq)
		if !ok {
			// A number in AWS's oldest layout still names a shard (its low
			// 16 bits); AWS reports that mismatch before the layout.
			if idx, old := oldSeqShard(seq); old && idx != sh.idx {
				return 0, errs.E(op, errs.Invalid, fmt.Sprintf("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", seqShardName(idx), sh.id))
			}
			return 0, errs.E(op, errs.Invalid, fmt.Sprintf("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", seq, sh.id, st.meta.Name, s.cfg.AccountID))
		}
		if p.shard != sh.idx || p.created != sh.created {
			return 0, errs.E(op, errs.Invalid, fmt.Sprintf("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", seqShardName(p.shard), sh.id))
		}
		if typ == "AFTER_SEQUENCE_NUMBER" {
			return p.counter + 1, nil
		}
		return p.counter, nil
	case "AT_TIMESTAMP":
		if ts == nil {
			return 0, errs.E(op, errs.Invalid, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		want := ts.UnixMilli()
		if now := s.nowMs(); want > now {
			return 0, errs.E(op, errs.Invalid, fmt.Sprintf("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", want, now))
		}
		sh.mu.Lock()
		v := sh.visible
		sh.mu.Unlock()
		from := v + 1
		err := kv.Scan(ctx, s.store, kv.IterOptions{Lower: sh.key, Upper: recKey(sh.key, v+1)}, func(k, val []byte) bool {
			if len(val) >= 8 && int64(binary.BigEndian.Uint64(val)) >= want {
				from = binary.BigEndian.Uint64(k[len(k)-8:])
				return false
			}
			return true
		})
		if err != nil {
			return 0, errs.E(op, errs.Internal, err)
		}
		return from, nil
	}
	return 0, errs.E(op, errs.Invalid, "Invalid ShardIteratorType")
}

// GetShardIterator returns an iterator for a shard position.
func (s *Service) GetShardIterator(ctx context.Context, in IteratorInput) (string, error) {
	const op = "kinesis.GetShardIterator"
	st, sh, err := s.readShard(op, in.Name, in.ShardID)
	if err != nil {
		return "", err
	}
	hasSeq := in.Sequence != ""
	switch in.Type {
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		if !hasSeq {
			return "", errs.E(op, errs.Invalid, fmt.Sprintf("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and no StartingSequenceNumber.", in.Type))
		}
	case "TRIM_HORIZON", "LATEST":
		if hasSeq {
			return "", errs.E(op, errs.Invalid, fmt.Sprintf("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and also a StartingSequenceNumber.", in.Type))
		}
	}
	from, err := s.position(ctx, op, st, sh, in.Type, in.Sequence, in.Timestamp)
	if err != nil {
		return "", err
	}
	st.mu.RLock()
	created := st.meta.Created
	st.mu.RUnlock()
	return s.encodeIter(iterPos{created: s.nowMs(), streamTS: created, shard: sh.idx, from: from, name: in.Name}), nil
}

// Record is a record as read.
type Record struct {
	SequenceNumber              string    `json:"SequenceNumber"`
	ApproximateArrivalTimestamp Timestamp `json:"ApproximateArrivalTimestamp"`
	Data                        []byte    `json:"Data"`
	PartitionKey                string    `json:"PartitionKey"`
}

// Records is a GetRecords answer.
type Records struct {
	Records            []Record     `json:"Records"`
	NextShardIterator  *string      `json:"NextShardIterator"`
	MillisBehindLatest int64        `json:"MillisBehindLatest"`
	ChildShards        []ChildShard `json:"ChildShards,omitempty"`
	next               uint64
	end                bool
}

// GetRecords reads up to limit records from an iterator.
func (s *Service) GetRecords(ctx context.Context, iterator string, limit int) (Records, error) {
	const op = "kinesis.GetRecords"
	p, ok := s.decodeIter(iterator)
	if !ok {
		return Records{}, errs.E(op, errs.Invalid, "Invalid ShardIterator.")
	}
	now := s.nowMs()
	if now-p.created > IteratorTTL.Milliseconds() {
		return Records{}, errs.E(op, errs.Invalid, ErrExpiredIterator, fmt.Sprintf(
			"Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			time.UnixMilli(p.created).UTC().Format("Mon Jan 02 15:04:05 UTC 2006"), time.UnixMilli(now).UTC().Format("Mon Jan 02 15:04:05 UTC 2006"), IteratorTTL.Milliseconds()))
	}
	st, sh, err := s.readShard(op, p.name, ShardID(p.shard))
	if err != nil {
		return Records{}, err
	}
	st.mu.RLock()
	created := st.meta.Created
	st.mu.RUnlock()
	if created != p.streamTS {
		return Records{}, s.notFound(op, p.name)
	}
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	if !s.cfg.Unlimited {
		sh.mu.Lock()
		ok := sh.rCalls.take(now, ReadCallsPerSec, 1, 1)
		ok = ok && sh.rBytes.take(now, ReadBytesPerSec, 0, 1)
		sh.mu.Unlock()
		if !ok {
			return Records{}, errs.E(op, errs.RateLimited, fmt.Sprintf("Rate exceeded for shard %s in stream %s under account %s.", sh.id, p.name, s.cfg.AccountID))
		}
	}
	out, err := s.read(ctx, st, sh, p.from, limit, MaxGetRecordsBytes)
	if err != nil {
		return Records{}, err
	}
	if !s.cfg.Unlimited {
		n := 0
		for _, r := range out.Records {
			n += len(r.Data) + len(r.PartitionKey)
		}
		sh.mu.Lock()
		sh.rBytes.take(now, ReadBytesPerSec, float64(n), -1e18)
		sh.mu.Unlock()
	}
	if !out.end {
		it := s.encodeIter(iterPos{created: now, streamTS: p.streamTS, shard: p.shard, from: out.next, name: p.name})
		out.NextShardIterator = &it
	}
	return out, nil
}

// read scans a shard from counter from. It fills next (the next counter) and
// end (closed shard fully read; ChildShards set).
func (s *Service) read(ctx context.Context, st *stream, sh *shard, from uint64, limit, maxBytes int) (Records, error) {
	sh.mu.Lock()
	visible, closed, endCounter := sh.visible, sh.closed, sh.endCounter
	sh.mu.Unlock()
	st.mu.RLock()
	cutoff := s.nowMs() - int64(st.meta.Retention)*3600e3
	st.mu.RUnlock()
	out := Records{Records: []Record{}, next: from}
	var lastArrival int64
	bytesN := 0
	if from <= visible {
		err := kv.Scan(ctx, s.store, kv.IterOptions{Lower: recKey(sh.key, from), Upper: recKey(sh.key, visible+1)}, func(k, v []byte) bool {
			c := binary.BigEndian.Uint64(k[len(k)-8:])
			arr, pk, data, ok := decodeRecord(v)
			if !ok {
				out.next = c + 1
				return true
			}
			if arr < cutoff {
				out.next = c + 1
				return true
			}
			if len(out.Records) >= limit || (bytesN > 0 && bytesN+len(data) > maxBytes) {
				return false
			}
			bytesN += len(data)
			out.Records = append(out.Records, Record{
				SequenceNumber:              seqNum{created: sh.created, counter: c, arrival: uint64(arr / 1000), shard: sh.idx}.String(),
				ApproximateArrivalTimestamp: Timestamp(arr), Data: bytes.Clone(data), PartitionKey: pk})
			out.next = c + 1
			lastArrival = arr
			return true
		})
		if err != nil {
			return Records{}, errs.E("kinesis.read", errs.Internal, err)
		}
	}
	if out.next > visible {
		// caught up
		if closed && out.next > endCounter {
			out.end = true
			out.ChildShards = s.children(st, sh.id)
		}
	} else if lastArrival != 0 {
		out.MillisBehindLatest = max(0, s.nowMs()-lastArrival)
	}
	return out, nil
}

func (s *Service) children(st *stream, id string) []ChildShard {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := []ChildShard{}
	for _, m := range st.meta.Shards {
		if m.Parent == id || m.Adjacent == id {
			ps := []string{m.Parent}
			if m.Adjacent != "" {
				ps = append(ps, m.Adjacent)
			}
			out = append(out, ChildShard{ShardID: ShardID(m.Index), ParentShards: ps, HashKeyRange: HashKeyRange{m.Start, m.End}})
		}
	}
	return out
}

// trimLoop deletes records older than each stream's retention.
func (s *Service) trimLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TrimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Trim(ctx)
		}
	}
}

// Trim deletes expired records now; it returns how many were deleted.
func (s *Service) Trim(ctx context.Context) int {
	s.mu.RLock()
	sts := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		sts = append(sts, st)
	}
	s.mu.RUnlock()
	total := 0
	for _, st := range sts {
		st.mu.RLock()
		if st.deleting.Load() != 0 {
			st.mu.RUnlock()
			continue
		}
		cutoff := s.nowMs() - int64(st.meta.Retention)*3600e3
		shards := append([]*shard(nil), st.shards...)
		name := st.meta.Name
		st.mu.RUnlock()
		for _, sh := range shards {
			var last uint64
			n := 0
			kv.Scan(ctx, s.store, kv.Prefix(sh.key), func(k, v []byte) bool {
				if len(v) < 8 || int64(binary.BigEndian.Uint64(v)) >= cutoff {
					return false
				}
				last = binary.BigEndian.Uint64(k[len(k)-8:])
				n++
				return true
			})
			if n == 0 {
				continue
			}
			sh.mu.Lock()
			hwm := sh.next - 1
			sh.mu.Unlock()
			var hb [8]byte
			binary.BigEndian.PutUint64(hb[:], hwm)
			if err := s.store.Write(ctx, kv.Set(hwmKey(name, sh.idx), hb[:]), kv.DelRange(sh.key, recKey(sh.key, last+1))); err != nil {
				s.cfg.Log.Warn("kinesis trim", "stream", name, "err", err)
				continue
			}
			total += n
		}
	}
	return total
}
