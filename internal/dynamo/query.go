package dynamo

import (
	"bytes"
	"context"
	"hash/fnv"

	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// MaxPageBytes is how much Query and Scan read before returning a page.
const MaxPageBytes = 1 << 20

// RangeCond is a sort-key condition: = < <= > >= BETWEEN BEGINS_WITH.
type RangeCond struct {
	Op     string
	V, V2  attr.Value
	Column string
}

// QueryInput is a Query.
type QueryInput struct {
	Table, Index string
	Hash         attr.Value
	Range        *RangeCond
	Backward     bool
	Limit        int
	Start        attr.Item
	Filter       expr.Cond
	Consistent   bool
	// Raw returns the items in storage form (Page.Raw) when there is no
	// filter, for callers that render them directly.
	Raw bool
	// Scratch, if given, backs Page.Raw (one buffer for all the items
	// instead of a copy each) and is set to the buffer used, which the
	// caller may reuse once it is done with the page.
	Scratch *[]byte
}

// ScanInput is a Scan.
type ScanInput struct {
	Table, Index   string
	Limit          int
	Start          attr.Item
	Filter         expr.Cond
	Segment, Total int
	Consistent     bool
}

// Page is one page of results.
type Page struct {
	Items     []attr.Item
	Raw       [][]byte // storage form, instead of Items, for QueryInput.Raw
	Scanned   int
	LastKey   attr.Item
	ReadBytes int
}

// target is the table or index a read goes to.
type target struct {
	def    *Table
	ix     *Index
	hash   KeyElem
	rng    *KeyElem
	prefix []byte
}

func (s *Service) target(table, index string, consistent bool) (*target, error) {
	_, def, err := s.get(table)
	if err != nil {
		return nil, err
	}
	tg := &target{def: def, hash: def.Hash, rng: def.Range, prefix: itemPrefix(def.ID)}
	if index != "" {
		for _, ix := range def.Indexes {
			if ix.Name == index {
				tg.ix = ix
			}
		}
		if tg.ix == nil {
			return nil, invalid("The table does not have the specified index: " + index)
		}
		if tg.ix.Global && consistent {
			return nil, invalid("Consistent reads are not supported on global secondary indexes")
		}
		tg.hash, tg.rng, tg.prefix = tg.ix.Hash, tg.ix.Range, indexPrefix(def.ID, tg.ix.No)
	}
	return tg, nil
}

// keyNames names the attributes lastKey takes.
func (tg *target) keyNames() []string {
	names := make([]string, 0, 4)
	names = append(names, tg.def.Hash.Name)
	if tg.def.Range != nil {
		names = append(names, tg.def.Range.Name)
	}
	if tg.ix != nil {
		names = append(names, tg.ix.Hash.Name)
		if tg.ix.Range != nil {
			names = append(names, tg.ix.Range.Name)
		}
	}
	return names
}

// lastKey returns the LastEvaluatedKey of it: the table key plus index keys.
func (tg *target) lastKey(it attr.Item) attr.Item {
	k := KeyOf(tg.def, it)
	if tg.ix != nil {
		k[tg.ix.Hash.Name] = it[tg.ix.Hash.Name]
		if tg.ix.Range != nil {
			k[tg.ix.Range.Name] = it[tg.ix.Range.Name]
		}
	}
	return k
}

// fullKey encodes the storage key of a (start) key.
func (tg *target) fullKey(k attr.Item) ([]byte, error) {
	bad := func() error {
		return invalid("The provided starting key is invalid: The provided key element does not match the schema")
	}
	want := keyElems(tg.def)
	if tg.ix != nil {
		want = append(want, tg.ix.Hash)
		if tg.ix.Range != nil {
			want = append(want, *tg.ix.Range)
		}
	}
	n := 0
	seen := map[string]bool{}
	for _, w := range want {
		if seen[w.Name] {
			continue
		}
		seen[w.Name] = true
		n++
		v, ok := k[w.Name]
		if !ok || v.T != w.Type {
			return nil, bad()
		}
	}
	if len(k) != n {
		return nil, bad()
	}
	b := append([]byte(nil), tg.prefix...)
	if tg.ix != nil {
		b = attr.AppendKey(b, k[tg.ix.Hash.Name])
		if tg.ix.Range != nil {
			b = attr.AppendKey(b, k[tg.ix.Range.Name])
		}
	}
	b = attr.AppendKey(b, k[tg.def.Hash.Name])
	if tg.def.Range != nil {
		b = attr.AppendKey(b, k[tg.def.Range.Name])
	}
	return b, nil
}

// KeyCondition analyses a KeyConditionExpression for the table or index.
func (s *Service) KeyCondition(table, index string, c expr.Cond) (attr.Value, *RangeCond, error) {
	tg, err := s.target(table, index, false)
	if err != nil {
		return attr.Value{}, nil, err
	}
	var parts []expr.Cond
	var flatten func(c expr.Cond) error
	flatten = func(c expr.Cond) error {
		switch c := c.(type) {
		case expr.And:
			if err := flatten(c.L); err != nil {
				return err
			}
			return flatten(c.R)
		case expr.Or:
			return invalid("Invalid operator used in KeyConditionExpression: OR")
		case expr.Not:
			return invalid("Invalid operator used in KeyConditionExpression: NOT")
		case expr.In:
			return invalid("Invalid operator used in KeyConditionExpression: IN")
		case expr.Compare:
			if c.Op == "<>" {
				return invalid("Unsupported operator in KeyConditionExpression: <>")
			}
		case expr.Func:
			if c.Name != "begins_with" {
				return invalid("Invalid operator used in KeyConditionExpression: " + c.Name)
			}
		}
		parts = append(parts, c)
		return nil
	}
	if err := flatten(c); err != nil {
		return attr.Value{}, nil, err
	}
	if len(parts) > 2 {
		return attr.Value{}, nil, invalid("Conditions can be of length 1 or 2 only")
	}
	var hash *attr.Value
	var rc *RangeCond
	nameOf := func(o expr.Operand) (string, bool) {
		p, ok := o.(expr.PathOperand)
		if !ok || len(p.Path) != 1 || p.Path[0].IsIndex {
			return "", false
		}
		return p.Path[0].Name, true
	}
	valOf := func(o expr.Operand) (attr.Value, bool) {
		v, ok := o.(expr.ValueOperand)
		return v.V, ok
	}
	unsupported := func() error { return invalid("Query key condition not supported") }
	for _, p := range parts {
		switch p := p.(type) {
		case expr.Compare:
			name, ok := nameOf(p.L)
			v, ok2 := valOf(p.R)
			op := p.Op
			if !ok || !ok2 {
				// value op path: flip
				name, ok = nameOf(p.R)
				v, ok2 = valOf(p.L)
				op = flip(op)
				if !ok || !ok2 {
					return attr.Value{}, nil, unsupported()
				}
			}
			switch {
			case name == tg.hash.Name && op == "=" && hash == nil:
				vv := v
				hash = &vv
			case tg.rng != nil && name == tg.rng.Name && rc == nil:
				rc = &RangeCond{Op: op, V: v, Column: name}
			default:
				return attr.Value{}, nil, unsupported()
			}
		case expr.Between:
			name, ok := nameOf(p.V)
			lo, ok2 := valOf(p.Lo)
			hi, ok3 := valOf(p.Hi)
			if !ok || !ok2 || !ok3 || tg.rng == nil || name != tg.rng.Name || rc != nil {
				return attr.Value{}, nil, unsupported()
			}
			rc = &RangeCond{Op: "BETWEEN", V: lo, V2: hi, Column: name}
		case expr.Func:
			name, ok := nameOf(p.Args[0])
			v, ok2 := valOf(p.Args[1])
			if !ok || !ok2 || tg.rng == nil || name != tg.rng.Name || rc != nil {
				return attr.Value{}, nil, unsupported()
			}
			rc = &RangeCond{Op: "BEGINS_WITH", V: v, Column: name}
		}
	}
	if hash == nil {
		return attr.Value{}, nil, invalid("Query condition missed key schema element: " + tg.hash.Name)
	}
	return *hash, rc, nil
}

func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// Query reads one partition of a table or index in sort-key order.
func (s *Service) Query(ctx context.Context, in QueryInput) (Page, error) {
	tg, err := s.target(in.Table, in.Index, in.Consistent)
	if err != nil {
		return Page{}, err
	}
	if in.Hash.T != tg.hash.Type {
		return Page{}, invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
	}
	p := attr.AppendKey(append([]byte(nil), tg.prefix...), in.Hash)
	lo, hi := p, kv.PrefixEnd(p)
	if rc := in.Range; rc != nil {
		if rc.V.T != tg.rng.Type || (rc.Op == "BETWEEN" && rc.V2.T != tg.rng.Type) {
			return Page{}, invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
		}
		ek := func(v attr.Value) []byte { return attr.AppendKey(append([]byte(nil), p...), v) }
		switch rc.Op {
		case "=":
			lo, hi = ek(rc.V), kv.PrefixEnd(ek(rc.V))
		case "<":
			hi = ek(rc.V)
		case "<=":
			hi = kv.PrefixEnd(ek(rc.V))
		case ">":
			lo = kv.PrefixEnd(ek(rc.V))
		case ">=":
			lo = ek(rc.V)
		case "BETWEEN":
			if c, _ := attr.Compare(rc.V, rc.V2); c > 0 {
				return Page{}, invalid("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
			}
			lo, hi = ek(rc.V), kv.PrefixEnd(ek(rc.V2))
		case "BEGINS_WITH":
			if rc.V.T == attr.N {
				return Page{}, invalid("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
			}
			e := ek(rc.V)
			e = e[:len(e)-2] // drop the terminator: a prefix of the escaped bytes
			lo, hi = e, kv.PrefixEnd(e)
		default:
			return Page{}, invalid("Query key condition not supported")
		}
	}
	var scratch *[]byte
	if in.Raw && in.Filter == nil {
		scratch = in.Scratch
		if scratch == nil {
			scratch = new([]byte)
		}
	}
	return s.readRange(ctx, tg, lo, hi, in.Backward, in.Limit, in.Start, in.Filter, -1, 0, scratch)
}

// Scan reads a whole table or index (or one segment of it).
func (s *Service) Scan(ctx context.Context, in ScanInput) (Page, error) {
	tg, err := s.target(in.Table, in.Index, in.Consistent)
	if err != nil {
		return Page{}, err
	}
	seg := -1
	if in.Total > 0 {
		seg = in.Segment
	}
	return s.readRange(ctx, tg, tg.prefix, kv.PrefixEnd(tg.prefix), false, in.Limit, in.Start, in.Filter, seg, in.Total, nil)
}

// readRange reads [lo, hi). With raw non-nil the page holds the items in
// storage form, copied one after the other into *raw.
func (s *Service) readRange(ctx context.Context, tg *target, lo, hi []byte, backward bool, limit int, start attr.Item, filter expr.Cond, seg, total int, raw *[]byte) (Page, error) {
	if start != nil {
		sk, err := tg.fullKey(start)
		if err != nil {
			return Page{}, err
		}
		if backward {
			if bytes.Compare(sk, hi) < 0 {
				hi = sk
			}
		} else if e := kv.PrefixEnd(sk); bytes.Compare(e, lo) > 0 {
			lo = e
		}
	}
	var pg Page
	if bytes.Compare(lo, hi) >= 0 {
		return pg, nil
	}
	it := s.kv.Iter(ctx, kv.IterOptions{Lower: lo, Upper: hi, Reverse: backward})
	defer it.Close()
	var last attr.Item
	var buf []byte
	var ends []int
	if raw != nil {
		buf = (*raw)[:0]
		ends = make([]int, 0, max(0, min(limit, 128)))
	}
	stopped := false
	for it.Next() {
		if stopped {
			if raw != nil {
				var err error
				if last, err = attr.DecodeAttrs(buf[ends[len(ends)-2]:], tg.keyNames()...); err != nil {
					return Page{}, errs.E("dynamo.read", errs.Internal, err)
				}
			}
			pg.LastKey = tg.lastKey(last)
			break
		}
		if seg >= 0 && segmentOf(it.Key(), tg, total) != seg {
			continue
		}
		if raw != nil {
			if len(ends) == 0 {
				ends = append(ends, 0)
			}
			v := it.Value()
			buf = append(buf, v...)
			ends = append(ends, len(buf))
			pg.Scanned++
			pg.ReadBytes += len(v)
			if (limit > 0 && pg.Scanned >= limit) || pg.ReadBytes >= MaxPageBytes {
				stopped = true
			}
			continue
		}
		item, err := attr.DecodeItem(it.Value())
		if err != nil {
			return Page{}, errs.E("dynamo.read", errs.Internal, err)
		}
		pg.Scanned++
		pg.ReadBytes += item.Size()
		last = item
		if filter == nil || expr.Eval(filter, item) {
			pg.Items = append(pg.Items, item)
		}
		if (limit > 0 && pg.Scanned >= limit) || pg.ReadBytes >= MaxPageBytes {
			stopped = true
		}
	}
	if err := it.Err(); err != nil {
		return Page{}, err
	}
	if raw != nil {
		*raw = buf
		if len(ends) > 1 {
			pg.Raw = make([][]byte, len(ends)-1)
			for i := range pg.Raw {
				pg.Raw[i] = buf[ends[i]:ends[i+1]:ends[i+1]]
			}
		}
	}
	return pg, nil
}

// segmentOf assigns a stored entry to a parallel-scan segment by its
// partition key bytes.
func segmentOf(key []byte, tg *target, total int) int {
	rest := key[len(tg.prefix):]
	// the partition key encoding ends at its terminator: for S/B 0x00 0x01,
	// numbers are self-delimiting; hashing the whole remainder up to the
	// first terminator-ish boundary is enough for an even, stable split.
	end := len(rest)
	switch tg.hash.Type {
	case attr.S, attr.B:
		for i := 0; i+1 < len(rest); i++ {
			if rest[i] == 0 {
				if rest[i+1] == 1 {
					end = i + 2
					break
				}
				i++
			}
		}
	case attr.N:
		for i := 1; i < len(rest); i++ {
			if (rest[0] == 0x81 && rest[i] == 0 && i >= 3) || (rest[0] == 0x7f && rest[i] == 0xff && i >= 3) || rest[0] == 0x80 {
				end = i + 1
				if rest[0] == 0x80 {
					end = 1
				}
				break
			}
		}
	}
	h := fnv.New32a()
	h.Write(rest[:end])
	return int(h.Sum32() % uint32(max(1, total)))
}
