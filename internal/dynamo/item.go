package dynamo

import (
	"context"
	"encoding/binary"
	"errors"
	"sort"

	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// MaxItemSize is DynamoDB's item size limit.
const MaxItemSize = 400 * 1024

// CondFailedError is a failed ConditionExpression; Item is the current item
// (for ReturnValuesOnConditionCheckFailure).
type CondFailedError struct{ Item attr.Item }

func (e *CondFailedError) Error() string { return "The conditional request failed" }

// Reason is one entry of a transaction's CancellationReasons.
type Reason struct {
	Code    string
	Message string
	Item    attr.Item
}

// TxCanceledError is a cancelled transaction.
type TxCanceledError struct{ Reasons []Reason }

func (e *TxCanceledError) Error() string {
	codes := ""
	for i, r := range e.Reasons {
		if i > 0 {
			codes += ", "
		}
		codes += r.Code
	}
	return "Transaction cancelled, please refer cancellation reasons for specific reasons [" + codes + "]"
}

// Op kinds.
const (
	OpPut = iota
	OpDelete
	OpUpdate
	OpCheck
)

// WriteOp is one item write.
type WriteOp struct {
	Kind   int
	Table  string
	Item   attr.Item // OpPut
	Key    attr.Item // OpDelete, OpUpdate, OpCheck
	Update *expr.Update
	Cond   expr.Cond
	// ReturnOldOnFail includes the item in a condition failure.
	ReturnOldOnFail bool
	// OldNotNeeded says the caller does not read WriteResult.Old, so an
	// unconditional put on a table without indexes or a stream need not
	// decode the previous version (only its size is needed, for the table's
	// statistics).
	OldNotNeeded bool
	// ttl marks a TTL expiry (stream userIdentity).
	ttl bool
}

// WriteResult is the item before and after a write.
type WriteResult struct {
	Old, New attr.Item
}

// Key is an encoded primary key.
func encodeKey(def *Table, it attr.Item) []byte {
	hv := it[def.Hash.Name]
	n := len(prefixItems) + 8 + len(hv.Str) + len(hv.Bin) + 8
	var rv attr.Value
	if def.Range != nil {
		rv = it[def.Range.Name]
		n += len(rv.Str) + len(rv.Bin) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, prefixItems...)
	b = binary.BigEndian.AppendUint64(b, def.ID)
	b = attr.AppendKey(b, hv)
	if def.Range != nil {
		b = attr.AppendKey(b, rv)
	}
	return b
}

// checkKey validates that key holds exactly the table's key attributes.
func checkKey(def *Table, key attr.Item) error {
	n := 1
	if def.Range != nil {
		n = 2
	}
	if len(key) != n {
		return invalid("The provided key element does not match the schema")
	}
	for _, k := range keyElems(def) {
		v, ok := key[k.Name]
		if !ok || v.T != k.Type {
			return invalid("The provided key element does not match the schema")
		}
		if err := checkKeyValue(k, v); err != nil {
			return err
		}
	}
	return nil
}

func keyElems(def *Table) []KeyElem {
	if def.Range != nil {
		return []KeyElem{def.Hash, *def.Range}
	}
	return []KeyElem{def.Hash}
}

func checkKeyValue(k KeyElem, v attr.Value) error {
	if (v.T == attr.S && v.Str == "") || (v.T == attr.B && len(v.Bin) == 0) {
		return invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty " + map[attr.Type]string{attr.S: "string", attr.B: "binary"}[v.T] + " value. Key: " + k.Name)
	}
	return nil
}

// checkItem validates a whole item against the schema and the size limit.
func checkItem(def *Table, it attr.Item) error {
	for _, k := range keyElems(def) {
		v, ok := it[k.Name]
		if !ok {
			return invalid("One or more parameter values were invalid: Missing the key " + k.Name + " in the item")
		}
		if v.T != k.Type {
			return invalid("One or more parameter values were invalid: Type mismatch for key " + k.Name + " expected: " + k.Type.String() + " actual: " + v.T.String())
		}
		if err := checkKeyValue(k, v); err != nil {
			return err
		}
	}
	for _, ix := range def.Indexes {
		for _, k := range []*KeyElem{&ix.Hash, ix.Range} {
			if k == nil {
				continue
			}
			if v, ok := it[k.Name]; ok {
				if v.T != k.Type {
					return invalid("One or more parameter values were invalid: Type mismatch for Index Key " + k.Name + " Expected: " + k.Type.String() + " Actual: " + v.T.String() + " IndexName: " + ix.Name)
				}
				if (v.T == attr.S && v.Str == "") || (v.T == attr.B && len(v.Bin) == 0) {
					return invalid("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: " + ix.Name + ", IndexKey: " + k.Name)
				}
			}
		}
	}
	if it.Size() > MaxItemSize {
		return invalid("Item size has exceeded the maximum allowed size")
	}
	return nil
}

// KeyOf returns the primary-key attributes of item.
func KeyOf(def *Table, it attr.Item) attr.Item {
	k := attr.Item{def.Hash.Name: it[def.Hash.Name]}
	if def.Range != nil {
		k[def.Range.Name] = it[def.Range.Name]
	}
	return k
}

// indexEntry returns the KV entry of it in ix, if it has the index keys.
func indexEntry(def *Table, ix *Index, it attr.Item) ([]byte, []byte, bool) {
	hv, ok := it[ix.Hash.Name]
	if !ok || hv.T != ix.Hash.Type {
		return nil, nil, false
	}
	k := indexPrefix(def.ID, ix.No)
	k = attr.AppendKey(k, hv)
	if ix.Range != nil {
		rv, ok := it[ix.Range.Name]
		if !ok || rv.T != ix.Range.Type {
			return nil, nil, false
		}
		k = attr.AppendKey(k, rv)
	}
	k = attr.AppendKey(k, it[def.Hash.Name])
	if def.Range != nil {
		k = attr.AppendKey(k, it[def.Range.Name])
	}
	return k, attr.EncodeItem(nil, projectForIndex(def, ix, it)), true
}

func projectForIndex(def *Table, ix *Index, it attr.Item) attr.Item {
	if ix.Projection == "ALL" {
		return it
	}
	out := KeyOf(def, it)
	out[ix.Hash.Name] = it[ix.Hash.Name]
	if ix.Range != nil {
		out[ix.Range.Name] = it[ix.Range.Name]
	}
	if ix.Projection == "INCLUDE" {
		for _, n := range ix.NonKey {
			if v, ok := it[n]; ok {
				out[n] = v
			}
		}
	}
	return out
}

// stripe is the lock stripe of an item key (FNV-1a).
func (s *Service) stripe(key []byte) int {
	h := uint32(2166136261)
	for _, c := range key {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % uint32(len(s.locks)))
}

func (s *Service) readItem(ctx context.Context, key []byte) (attr.Item, error) {
	v, err := s.readRaw(ctx, key)
	if err != nil || v == nil {
		return nil, err
	}
	it, err := attr.DecodeItem(v)
	if err != nil {
		return nil, errs.E("dynamo.read", errs.Internal, err)
	}
	return it, nil
}

// prepared is a validated write ready to commit.
type prepared struct {
	t       *table
	def     *Table
	key     []byte
	old     attr.Item
	new     attr.Item // nil: delete (or unchanged for OpCheck)
	kind    int
	ttl     bool
	oldSize int
}

func (s *Service) resolve(op *WriteOp) (*table, *Table, []byte, error) {
	t, def, err := s.get(op.Table)
	if err != nil {
		return nil, nil, nil, err
	}
	switch op.Kind {
	case OpPut:
		if err := checkItem(def, op.Item); err != nil {
			return nil, nil, nil, err
		}
		return t, def, encodeKey(def, op.Item), nil
	default:
		if err := checkKey(def, op.Key); err != nil {
			return nil, nil, nil, err
		}
		if op.Kind == OpUpdate && op.Update != nil {
			for _, a := range op.Update.Actions {
				for _, k := range keyElems(def) {
					if a.Path[0].Name == k.Name {
						return nil, nil, nil, invalid("One or more parameter values were invalid: Cannot update attribute " + k.Name + ". This attribute is part of the key")
					}
				}
			}
		}
		return t, def, encodeKey(def, op.Key), nil
	}
}

// apply computes the new item given the old one and checks the condition.
func apply(op *WriteOp, def *Table, old attr.Item) (attr.Item, error) {
	if op.Cond != nil && !expr.Eval(op.Cond, old) {
		ce := &CondFailedError{}
		if op.ReturnOldOnFail {
			ce.Item = old
		}
		return nil, errs.E("dynamo.write", errs.Conflict, ce.Error(), ce)
	}
	switch op.Kind {
	case OpPut:
		return op.Item, nil
	case OpDelete:
		return nil, nil
	case OpCheck:
		return old, nil
	case OpUpdate:
		base := old
		if base == nil {
			base = op.Key.Clone()
		}
		if op.Update == nil {
			return base, nil
		}
		nu, err := op.Update.Apply(base)
		if err != nil {
			var ee *expr.Error
			if errors.As(err, &ee) {
				return nil, invalid(ee.Msg)
			}
			return nil, err
		}
		for _, k := range keyElems(def) {
			nu[k.Name] = op.Key[k.Name]
		}
		for _, ix := range def.Indexes {
			for _, k := range []*KeyElem{&ix.Hash, ix.Range} {
				if k == nil {
					continue
				}
				if v, ok := nu[k.Name]; ok && v.T != k.Type {
					return nil, invalid("One or more parameter values were invalid: Type mismatch for Index Key " + k.Name + " Expected: " + k.Type.String() + " Actual: " + v.T.String() + " IndexName: " + ix.Name)
				}
			}
		}
		if nu.Size() > MaxItemSize {
			return nil, invalid("Item size has exceeded the maximum allowed size")
		}
		return nu, nil
	}
	return nil, invalid("unknown operation")
}

// kvOps returns the KV mutations of p: item, index entries, stream record.
func (s *Service) kvOps(p *prepared, ops []kv.Op) ([]kv.Op, uint64) {
	if p.kind == OpCheck {
		return ops, 0
	}
	if p.old != nil && p.new != nil && attr.Equal(attr.Value{T: attr.M, Map: p.old}, attr.Value{T: attr.M, Map: p.new}) {
		// nothing changes: no write, and (as on AWS) no stream record
		return ops, 0
	}
	if p.new != nil {
		ops = append(ops, kv.Set(p.key, attr.EncodeItem(nil, p.new)))
	} else if p.old != nil {
		ops = append(ops, kv.Del(p.key))
	} else {
		return ops, 0 // delete of a missing item
	}
	for _, ix := range p.def.Indexes {
		var ok1, ok2 bool
		var k1, k2, v2 []byte
		if p.old != nil {
			k1, _, ok1 = indexEntry(p.def, ix, p.old)
		}
		if p.new != nil {
			k2, v2, ok2 = indexEntry(p.def, ix, p.new)
		}
		if ok1 && (!ok2 || string(k1) != string(k2)) {
			ops = append(ops, kv.Del(k1))
		}
		if ok2 {
			ops = append(ops, kv.Set(k2, v2))
		}
	}
	var seq uint64
	if p.def.Stream.Enabled {
		var rec kv.Op
		seq, rec = s.streamRecord(p)
		ops = append(ops, rec)
	}
	return ops, seq
}

func (s *Service) account(p *prepared) {
	switch {
	case p.old == nil && p.new != nil:
		p.t.items.Add(1)
	case p.old != nil && p.new == nil && p.kind != OpCheck:
		p.t.items.Add(-1)
	}
	if p.kind != OpCheck {
		p.t.bytes.Add(int64(p.new.Size() - p.oldSize))
	}
}

// Write performs one conditional item write.
func (s *Service) Write(ctx context.Context, op WriteOp) (WriteResult, error) {
	t, def, key, err := s.resolve(&op)
	if err != nil {
		return WriteResult{}, err
	}
	t.schema.RLock()
	defer t.schema.RUnlock()
	if t.deleted.Load() {
		return WriteResult{}, notFound()
	}
	def = t.def.Load()
	mu := &s.locks[s.stripe(key)]
	mu.Lock()
	defer mu.Unlock()
	if op.Kind == OpPut && op.Cond == nil && op.OldNotNeeded && !def.Stream.Enabled && len(def.Indexes) == 0 &&
		t.items.Load()+t.blind.Load() < s.blindLimit {
		return s.blindPut(ctx, t, key, &op)
	}
	old, err := s.readItem(ctx, key)
	if err != nil {
		return WriteResult{}, err
	}
	nu, err := apply(&op, def, old)
	if err != nil {
		return WriteResult{}, err
	}
	p := &prepared{t: t, def: def, key: key, old: old, new: nu, kind: op.Kind, ttl: op.ttl, oldSize: old.Size()}
	ops, seq := s.kvOps(p, nil)
	if len(ops) > 0 {
		err = s.writeItems(ctx, [][]byte{key}, ops)
		if seq != 0 {
			t.stream.done(seq)
		}
		if err != nil {
			return WriteResult{}, err
		}
		s.account(p)
	}
	return WriteResult{Old: old, New: nu}, nil
}

// blindPutLimit bounds the items a recount after blind puts may scan while
// it holds the table's writers (a table this large then pays one read of
// the previous version per put instead).
const blindPutLimit = 200000

// blindPut writes an unconditional put on a table without indexes or a
// stream. Nothing depends on the previous version then but the table's item
// count and size, so the put neither reads nor decodes it: it marks the
// table for a recount, which the next DescribeTable (or UpdateTable,
// DeleteTable) does under the schema lock, so descriptions stay exact. (An
// unchanged item is then rewritten with identical bytes, invisible to
// readers; with no stream there is no record to suppress.) The caller holds
// the item's stripe and the table's schema lock for reading.
//
// The recount scans the whole table while writers wait, so blind puts are
// used only while the table's last count plus the blind puts since then is
// under blindPutLimit: the recount then stays a scan of a small table, and a
// large table takes the exact path (one read of the previous version).
func (s *Service) blindPut(ctx context.Context, t *table, key []byte, op *WriteOp) (WriteResult, error) {
	t.blind.Add(1)
	t.recount.Store(true)
	if err := s.writeItems(ctx, [][]byte{key}, []kv.Op{kv.Set(key, attr.EncodeItem(nil, op.Item))}); err != nil {
		return WriteResult{}, err
	}
	return WriteResult{New: op.Item}, nil
}

// writeItems commits ops, which write the items at keys (and their index
// entries and stream records), keeping the read cache coherent.
func (s *Service) writeItems(ctx context.Context, keys [][]byte, ops []kv.Op) error {
	if s.cache == nil {
		return s.kv.Write(ctx, ops...)
	}
	for _, k := range keys {
		s.cache.begin(s.stripe(k), k)
	}
	err := s.kv.Write(ctx, ops...)
	for _, k := range keys {
		s.cache.end(s.stripe(k), k)
	}
	return err
}

// GetItem returns an item (nil if absent).
func (s *Service) GetItem(ctx context.Context, table string, key attr.Item) (attr.Item, error) {
	_, def, err := s.get(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(def, key); err != nil {
		return nil, err
	}
	return s.readItem(ctx, encodeKey(def, key))
}

// Schema returns a table's definition.
func (s *Service) Schema(table string) (*Table, error) {
	_, def, err := s.get(table)
	return def, err
}

// TransactWrite applies ops all-or-nothing. token is the idempotency token
// (may be empty); hash identifies the request for token reuse checks.
func (s *Service) TransactWrite(ctx context.Context, ops []WriteOp, token, hash string) error {
	if token != "" {
		if done, err := s.txTok.check(token, hash, s.cfg.Now()); done || err != nil {
			return err
		}
	}
	type slot struct {
		t   *table
		def *Table
		key []byte
	}
	slots := make([]slot, len(ops))
	seen := map[string]bool{}
	for i := range ops {
		t, def, key, err := s.resolve(&ops[i])
		if err != nil {
			return err
		}
		if seen[string(key)] {
			return invalid("Transaction request cannot include multiple operations on one item")
		}
		seen[string(key)] = true
		slots[i] = slot{t, def, key}
	}
	// lock schema (read) per table, then stripes in order
	tabs := map[*table]bool{}
	for _, sl := range slots {
		if !tabs[sl.t] {
			tabs[sl.t] = true
		}
	}
	tlist := make([]*table, 0, len(tabs))
	for t := range tabs {
		tlist = append(tlist, t)
	}
	sort.Slice(tlist, func(i, j int) bool { return tlist[i].def.Load().ID < tlist[j].def.Load().ID })
	for _, t := range tlist {
		t.schema.RLock()
		defer t.schema.RUnlock()
	}
	stripes := map[int]bool{}
	for _, sl := range slots {
		stripes[s.stripe(sl.key)] = true
	}
	sl := make([]int, 0, len(stripes))
	for n := range stripes {
		sl = append(sl, n)
	}
	sort.Ints(sl)
	for _, n := range sl {
		s.locks[n].Lock()
		defer s.locks[n].Unlock()
	}
	preps := make([]*prepared, len(ops))
	reasons := make([]Reason, len(ops))
	failed := false
	for i := range ops {
		def := slots[i].t.def.Load()
		old, err := s.readItem(ctx, slots[i].key)
		if err != nil {
			return err
		}
		nu, err := apply(&ops[i], def, old)
		reasons[i] = Reason{Code: "None"}
		if err != nil {
			failed = true
			var ce *CondFailedError
			if errors.As(err, &ce) {
				reasons[i] = Reason{Code: "ConditionalCheckFailed", Message: "The conditional request failed", Item: ce.Item}
			} else {
				reasons[i] = Reason{Code: "ValidationError", Message: errs.Message(err, "invalid")}
			}
			continue
		}
		preps[i] = &prepared{t: slots[i].t, def: def, key: slots[i].key, old: old, new: nu, kind: ops[i].Kind, oldSize: old.Size()}
	}
	if failed {
		te := &TxCanceledError{Reasons: reasons}
		return errs.E("dynamo.TransactWrite", errs.Conflict, te.Error(), te)
	}
	var kops []kv.Op
	var seqs []struct {
		t   *table
		seq uint64
	}
	for _, p := range preps {
		var seq uint64
		kops, seq = s.kvOps(p, kops)
		if seq != 0 {
			seqs = append(seqs, struct {
				t   *table
				seq uint64
			}{p.t, seq})
		}
	}
	keys := make([][]byte, len(slots))
	for i := range slots {
		keys[i] = slots[i].key
	}
	err := s.writeItems(ctx, keys, kops)
	for _, x := range seqs {
		x.t.stream.done(x.seq)
	}
	if err != nil {
		return err
	}
	for _, p := range preps {
		s.account(p)
	}
	if token != "" {
		s.txTok.put(token, hash, s.cfg.Now())
	}
	return nil
}

// GetRef names an item to read in a transaction.
type GetRef struct {
	Table string
	Key   attr.Item
}

// TransactGet reads items from one consistent snapshot... as far as the KV
// allows: each read holds its key's stripe so no write is half-visible.
func (s *Service) TransactGet(ctx context.Context, refs []GetRef) ([]attr.Item, error) {
	keys := make([][]byte, len(refs))
	for i, r := range refs {
		_, def, err := s.get(r.Table)
		if err != nil {
			return nil, err
		}
		if err := checkKey(def, r.Key); err != nil {
			return nil, err
		}
		keys[i] = encodeKey(def, r.Key)
	}
	stripes := map[int]bool{}
	for _, k := range keys {
		stripes[s.stripe(k)] = true
	}
	sl := make([]int, 0, len(stripes))
	for n := range stripes {
		sl = append(sl, n)
	}
	sort.Ints(sl)
	for _, n := range sl {
		s.locks[n].Lock()
		defer s.locks[n].Unlock()
	}
	out := make([]attr.Item, len(refs))
	for i, k := range keys {
		it, err := s.readItem(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = it
	}
	return out, nil
}

// GetItemRaw returns an item in storage form (nil if absent), for callers
// that render it directly (attr.AppendStoredJSON); the bytes may be shared
// with the read cache and must not be modified.
func (s *Service) GetItemRaw(ctx context.Context, table string, key attr.Item) ([]byte, error) {
	_, def, err := s.get(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(def, key); err != nil {
		return nil, err
	}
	return s.readRaw(ctx, encodeKey(def, key))
}

// readRaw returns the stored form of the item at key (nil if absent),
// through the read cache. A cached value is never older than the last
// acknowledged write of its key (see itemCache), so writers, which hold the
// key's stripe, read the current version from it too.
func (s *Service) readRaw(ctx context.Context, k []byte) ([]byte, error) {
	var shard int
	var ver uint64
	if s.cache != nil {
		shard = s.stripe(k)
		v, vr, ok := s.cache.get(shard, k)
		if ok {
			return v, nil
		}
		ver = vr
	}
	v, err := s.kv.Get(ctx, k)
	if err != nil {
		if errs.KindOf(err) == errs.NotFound {
			return nil, nil
		}
		return nil, err
	}
	if s.cache != nil {
		s.cache.put(shard, k, v, ver)
	}
	return v, nil
}

// CheckWrite validates op against the table's schema (key shape, types,
// size) without writing, so a batch can be rejected before any of it is
// applied.
func (s *Service) CheckWrite(op WriteOp) error {
	_, _, _, err := s.resolve(&op)
	return err
}
