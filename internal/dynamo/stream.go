package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"skyhub/internal/dynamo/attr"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// streamState numbers a table's stream records and knows up to which
// number every record is committed (writers commit concurrently, readers
// must not skip a record that is still being written).
type streamState struct {
	mu      sync.Mutex
	next    uint64
	visible uint64
	pending map[uint64]bool
}

func (st *streamState) alloc() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.next++
	if st.pending == nil {
		st.pending = map[uint64]bool{}
	}
	st.pending[st.next] = true
	return st.next
}

func (st *streamState) done(seq uint64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.pending, seq)
	lowest := st.next + 1
	for p := range st.pending {
		if p < lowest {
			lowest = p
		}
	}
	st.visible = lowest - 1
}

func (st *streamState) snapshot() (next, visible uint64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.next, st.visible
}

func streamKey(id, seq uint64) []byte {
	b := append([]byte(prefixStream), idBytes(id)...)
	return binary.BigEndian.AppendUint64(b, seq)
}

func (s *Service) loadStream(ctx context.Context, t *table) error {
	def := t.def.Load()
	p := append([]byte(prefixStream), idBytes(def.ID)...)
	it := s.kv.Iter(ctx, kv.IterOptions{Lower: p, Upper: kv.PrefixEnd(p), Reverse: true})
	defer it.Close()
	if it.Next() {
		k := it.Key()
		seq := binary.BigEndian.Uint64(k[len(k)-8:])
		t.stream.next, t.stream.visible = seq, seq
	}
	return it.Err()
}

// SeqString renders a stream sequence number (fixed width, so string order
// is numeric order).
func SeqString(seq uint64) string { return fmt.Sprintf("%021d", seq) }

func parseSeq(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// streamRecord builds the stream record of a prepared write.
func (s *Service) streamRecord(p *prepared) (uint64, kv.Op) {
	seq := p.t.stream.alloc()
	name := "MODIFY"
	switch {
	case p.old == nil:
		name = "INSERT"
	case p.new == nil:
		name = "REMOVE"
	}
	view := p.def.Stream.ViewType
	keySrc := p.new
	if keySrc == nil {
		keySrc = p.old
	}
	b := []byte(`{"eventID":"`)
	b = append(b, randomID()...)
	b = append(b, `","eventName":"`...)
	b = append(b, name...)
	b = append(b, `","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"`...)
	b = append(b, s.cfg.Region...)
	b = append(b, `","dynamodb":{"ApproximateCreationDateTime":`...)
	b = strconv.AppendInt(b, s.cfg.Now().Unix(), 10)
	b = append(b, `,"Keys":`...)
	b = attr.AppendItemJSON(b, KeyOf(p.def, keySrc))
	if p.new != nil && (view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES") {
		b = append(b, `,"NewImage":`...)
		b = attr.AppendItemJSON(b, p.new)
	}
	if p.old != nil && (view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES") {
		b = append(b, `,"OldImage":`...)
		b = attr.AppendItemJSON(b, p.old)
	}
	b = append(b, `,"SequenceNumber":"`...)
	b = append(b, SeqString(seq)...)
	b = append(b, `","SizeBytes":`...)
	b = strconv.AppendInt(b, int64(max(p.new.Size(), p.old.Size())), 10)
	b = append(b, `,"StreamViewType":"`...)
	b = append(b, view...)
	b = append(b, `"}`...)
	if p.ttl {
		b = append(b, `,"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`...)
	}
	b = append(b, '}')
	return seq, kv.Set(streamKey(p.def.ID, seq), b)
}

// StreamInfo describes a table's stream.
type StreamInfo struct {
	ARN, Label, Table, ViewType, Status string
	ShardID                             string
	StartSeq, EndSeq                    string // EndSeq empty while enabled
	Created                             time.Time
	KeySchema                           []KeyElem
}

func shardID(def *Table) string {
	return fmt.Sprintf("shardId-%020d-%08x", def.Created.UnixMilli(), def.ID)
}

func (s *Service) streamInfo(t *table) StreamInfo {
	def := t.def.Load()
	next, _ := t.stream.snapshot()
	si := StreamInfo{ARN: s.streamARN(def), Label: def.Stream.Label, Table: def.Name,
		ViewType: def.Stream.ViewType, Status: "ENABLED", ShardID: shardID(def),
		StartSeq: SeqString(s.firstSeq(context.Background(), def.ID, next)), KeySchema: keyElems(def)}
	si.Created, _ = time.Parse("2006-01-02T15:04:05.000", def.Stream.Label)
	if !def.Stream.Enabled {
		si.Status = "DISABLED"
		si.EndSeq = SeqString(next)
	}
	return si
}

func (s *Service) tableByStream(arn string) (*table, error) {
	i := strings.Index(arn, ":table/")
	j := strings.Index(arn, "/stream/")
	if i < 0 || j < i {
		return nil, invalid("Invalid StreamArn")
	}
	name := arn[i+7 : j]
	s.mu.RLock()
	t := s.tabs[name]
	s.mu.RUnlock()
	if t == nil || s.streamARN(t.def.Load()) != arn || t.def.Load().Stream.Label == "" {
		return nil, errs.E("dynamo", errs.NotFound, "Requested resource not found: Stream: "+arn+" not found")
	}
	return t, nil
}

// ListStreams lists streams (of one table if table != "").
func (s *Service) ListStreams(tableName string) []StreamInfo {
	s.mu.RLock()
	var ts []*table
	for n, t := range s.tabs {
		if (tableName == "" || n == tableName) && t.def.Load().Stream.Label != "" {
			ts = append(ts, t)
		}
	}
	s.mu.RUnlock()
	out := make([]StreamInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.streamInfo(t))
	}
	return out
}

// DescribeStream describes one stream.
func (s *Service) DescribeStream(arn string) (StreamInfo, error) {
	t, err := s.tableByStream(arn)
	if err != nil {
		return StreamInfo{}, err
	}
	return s.streamInfo(t), nil
}

type iterState struct {
	ARN   string `json:"a"`
	Shard string `json:"s"`
	Seq   uint64 `json:"q"` // next sequence number to read
}

// ShardIterator returns an iterator token.
func (s *Service) ShardIterator(arn, shard, typ, seqStr string) (string, error) {
	t, err := s.tableByStream(arn)
	if err != nil {
		return "", err
	}
	def := t.def.Load()
	if shard != shardID(def) {
		return "", errs.E("dynamo", errs.NotFound, "Requested resource not found: Shard does not exist")
	}
	next, _ := t.stream.snapshot()
	var seq uint64
	switch typ {
	case "TRIM_HORIZON":
		seq = 1
	case "LATEST":
		seq = next + 1
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		n, err := parseSeq(seqStr)
		if err != nil || seqStr == "" {
			return "", invalid("1 validation error detected: Value '" + seqStr + "' at 'sequenceNumber' failed to satisfy constraint: Member must have length greater than or equal to 21")
		}
		seq = n
		if typ == "AFTER_SEQUENCE_NUMBER" {
			seq++
		}
	default:
		return "", invalid("1 validation error detected: Value '" + typ + "' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]")
	}
	return encodeIter(iterState{ARN: arn, Shard: shard, Seq: seq}), nil
}

func encodeIter(st iterState) string {
	b, _ := json.Marshal(st)
	return base64.RawURLEncoding.EncodeToString(b)
}

// GetRecords returns up to limit records (raw JSON) and the next iterator
// ("" when the stream is disabled and fully read).
func (s *Service) GetRecords(ctx context.Context, iter string, limit int) ([]json.RawMessage, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(iter)
	var st iterState
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil || st.ARN == "" {
		return nil, "", invalid("Invalid ShardIterator")
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	t, err := s.tableByStream(st.ARN)
	if err != nil {
		return nil, "", err
	}
	def := t.def.Load()
	_, visible := t.stream.snapshot()
	var recs []json.RawMessage
	seq := st.Seq
	if seq <= visible {
		lo := streamKey(def.ID, seq)
		hi := streamKey(def.ID, visible+1)
		err = kv.Scan(ctx, s.kv, kv.IterOptions{Lower: lo, Upper: hi}, func(k, v []byte) bool {
			recs = append(recs, append(json.RawMessage(nil), v...))
			seq = binary.BigEndian.Uint64(k[len(k)-8:]) + 1
			return len(recs) < limit
		})
		if err != nil {
			return nil, "", err
		}
		if len(recs) < limit {
			seq = max(seq, visible+1)
		}
	}
	if !def.Stream.Enabled && seq > visible {
		return recs, "", nil
	}
	st.Seq = seq
	return recs, encodeIter(st), nil
}

// ---- TTL ----

func (s *Service) ttlLoop() {
	defer s.wg.Done()
	tk := time.NewTicker(s.cfg.TTLInterval)
	defer tk.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tk.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.TTLInterval)
			if _, err := s.ExpireNow(ctx); err != nil {
				s.log.Warn("ttl sweep", "err", err)
			}
			if _, err := s.TrimStreams(ctx); err != nil {
				s.log.Warn("stream trim", "err", err)
			}
			cancel()
		}
	}
}

// StreamRetention is how long stream records are kept.
const StreamRetention = 24 * time.Hour

// TrimStreams deletes stream records older than StreamRetention and returns
// how many were deleted.
func (s *Service) TrimStreams(ctx context.Context) (int, error) {
	s.mu.RLock()
	var ids []uint64
	for _, t := range s.tabs {
		if d := t.def.Load(); d.Stream.Label != "" {
			ids = append(ids, d.ID)
		}
	}
	s.mu.RUnlock()
	cutoff := s.cfg.Now().Add(-StreamRetention).Unix()
	n := 0
	for _, id := range ids {
		p := append([]byte(prefixStream), idBytes(id)...)
		var end []byte
		err := kv.Scan(ctx, s.kv, kv.Prefix(p), func(k, v []byte) bool {
			var rec struct {
				Dynamodb struct{ ApproximateCreationDateTime int64 } `json:"dynamodb"`
			}
			if json.Unmarshal(v, &rec) != nil || rec.Dynamodb.ApproximateCreationDateTime > cutoff {
				return false
			}
			end = append(end[:0], k...)
			n++
			return n%10000 != 0
		})
		if err != nil {
			return n, err
		}
		if end != nil {
			if err := s.kv.Write(ctx, kv.DelRange(p, kv.PrefixEnd(end))); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// firstSeq is the oldest stream record still kept (next when none).
func (s *Service) firstSeq(ctx context.Context, id, next uint64) uint64 {
	p := append([]byte(prefixStream), idBytes(id)...)
	it := s.kv.Iter(ctx, kv.Prefix(p))
	defer it.Close()
	if it.Next() {
		k := it.Key()
		return binary.BigEndian.Uint64(k[len(k)-8:])
	}
	return next + 1
}

// ExpireNow deletes every item whose TTL attribute is in the past and
// returns how many were deleted.
func (s *Service) ExpireNow(ctx context.Context) (int, error) {
	s.mu.RLock()
	var ts []*Table
	for _, t := range s.tabs {
		if d := t.def.Load(); d.TTLAttr != "" {
			ts = append(ts, d)
		}
	}
	s.mu.RUnlock()
	now := strconv.FormatInt(s.cfg.Now().Unix(), 10)
	n := 0
	for _, def := range ts {
		var keys []attr.Item
		err := kv.Scan(ctx, s.kv, kv.Prefix(itemPrefix(def.ID)), func(k, v []byte) bool {
			it, err := attr.DecodeItem(v)
			if err != nil {
				return true
			}
			if tv, ok := it[def.TTLAttr]; ok && tv.T == attr.N && attr.CompareNumbers(tv.Str, now) <= 0 {
				keys = append(keys, KeyOf(def, it))
			}
			return len(keys) < 10000
		})
		if err != nil {
			return n, err
		}
		for _, k := range keys {
			cond := ttlCond(def.TTLAttr, now)
			_, err := s.Write(ctx, WriteOp{Kind: OpDelete, Table: def.Name, Key: k, Cond: cond, ttl: true})
			if err == nil {
				n++
			} else if errs.KindOf(err) != errs.Conflict && errs.KindOf(err) != errs.NotFound {
				return n, err
			}
		}
	}
	return n, nil
}

// ---- transaction tokens ----

type tokenEntry struct {
	hash string
	at   time.Time
}

type tokenCache struct {
	mu sync.Mutex
	m  map[string]tokenEntry
}

// IdempotencyError is a ClientRequestToken reused with a different request.
type IdempotencyError struct{}

func (IdempotencyError) Error() string {
	return "The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical."
}

func (c *tokenCache) check(token, hash string, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if now.Sub(e.at) > 10*time.Minute {
			delete(c.m, k)
		}
	}
	e, ok := c.m[token]
	if !ok {
		return false, nil
	}
	if e.hash != hash {
		ie := IdempotencyError{}
		return true, errs.E("dynamo.TransactWrite", errs.Invalid, ie.Error(), ie)
	}
	return true, nil
}

func (c *tokenCache) put(token, hash string, now time.Time) {
	c.mu.Lock()
	c.m[token] = tokenEntry{hash, now}
	c.mu.Unlock()
}
