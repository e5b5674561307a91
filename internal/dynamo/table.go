// Package dynamo is Skyhub's DynamoDB: tables with a hash key and an optional
// range key, items stored in the ordered KV store under "ddb/" with an
// order-preserving key encoding (so Query is an ordered range scan), global
// and local secondary indexes written atomically with their item,
// conditional writes, transactions, TTL expiry, tags and DynamoDB Streams.
// The wire protocols live in dynamo/ddbapi.
package dynamo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"skyhub/internal/dynamo/attr"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Config configures the service.
type Config struct {
	KV        kv.Store
	Region    string
	AccountID string
	Log       *slog.Logger
	// TTLInterval is how often expired items are swept (default 30s).
	TTLInterval time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// ReadCacheBytes bounds the cache of recently read items that GetItem
	// answers from (0: 32 MiB; negative: no cache).
	ReadCacheBytes int64
}

// KeyElem is a key attribute and its scalar type.
type KeyElem struct {
	Name string    `json:"name"`
	Type attr.Type `json:"type"`
}

// Index is a global or local secondary index.
type Index struct {
	Name       string   `json:"name"`
	Global     bool     `json:"global"`
	No         uint16   `json:"no"` // storage id within the table
	Hash       KeyElem  `json:"hash"`
	Range      *KeyElem `json:"range,omitempty"`
	Projection string   `json:"projection"` // ALL, KEYS_ONLY, INCLUDE
	NonKey     []string `json:"nonKey,omitempty"`
	RCU        int64    `json:"rcu"`
	WCU        int64    `json:"wcu"`
	Status     string   `json:"status"`
}

// StreamSpec is a table's stream setting.
type StreamSpec struct {
	Enabled  bool   `json:"enabled"`
	ViewType string `json:"viewType"`
	Label    string `json:"label"`
}

// Table is a table's definition.
type Table struct {
	ID          uint64            `json:"id"`
	Name        string            `json:"name"`
	Hash        KeyElem           `json:"hash"`
	Range       *KeyElem          `json:"range,omitempty"`
	AttrDefs    []KeyElem         `json:"attrDefs"`
	Indexes     []*Index          `json:"indexes,omitempty"`
	Created     time.Time         `json:"created"`
	BillingMode string            `json:"billingMode"`
	RCU         int64             `json:"rcu"`
	WCU         int64             `json:"wcu"`
	Stream      StreamSpec        `json:"stream"`
	TTLAttr     string            `json:"ttlAttr,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	NextIndexNo uint16            `json:"nextIndexNo"`
	Deletion    bool              `json:"deletionProtection,omitempty"`
}

// table is a live table: its definition plus counters.
type table struct {
	def    atomic.Pointer[Table]
	schema sync.RWMutex // write-locked while an index is backfilled
	items  atomic.Int64
	bytes  atomic.Int64
	// recount: blind puts (see blindPut) wrote since items and bytes were
	// last counted; the next description counts them again.
	recount atomic.Bool
	// blind: blind puts since the last count (an upper bound on the items
	// they added).
	blind   atomic.Int64
	stream  streamState
	deleted atomic.Bool
}

// Service is the DynamoDB domain service.
type Service struct {
	cfg   Config
	kv    kv.Store
	log   *slog.Logger
	mu    sync.RWMutex
	tabs  map[string]*table
	ids   atomic.Uint64
	locks [256]sync.Mutex
	cache *itemCache // nil: no read cache
	txTok tokenCache
	// blindLimit bounds blind puts (see blindPutLimit); a field for tests.
	blindLimit int64

	stop chan struct{}
	wg   sync.WaitGroup
}

var (
	prefixMeta   = []byte("ddb/meta/")
	prefixItems  = "ddb/i/"
	prefixIndex  = "ddb/x/"
	prefixStream = "ddb/s/"
)

// New loads every table and starts the TTL sweeper.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TTLInterval <= 0 {
		cfg.TTLInterval = 30 * time.Second
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	s := &Service{cfg: cfg, kv: cfg.KV, log: cfg.Log, tabs: map[string]*table{}, stop: make(chan struct{}),
		blindLimit: blindPutLimit}
	if cfg.ReadCacheBytes == 0 {
		cfg.ReadCacheBytes = defaultReadCache
	}
	s.cache = newItemCache(cfg.ReadCacheBytes, len(s.locks))
	s.txTok.m = map[string]tokenEntry{}
	var loadErr error
	err := kv.Scan(ctx, s.kv, kv.Prefix(prefixMeta), func(k, v []byte) bool {
		var def Table
		if err := json.Unmarshal(v, &def); err != nil {
			loadErr = err
			return false
		}
		t := &table{}
		t.def.Store(&def)
		s.tabs[def.Name] = t
		if def.ID > s.ids.Load() {
			s.ids.Store(def.ID)
		}
		return true
	})
	if err == nil {
		err = loadErr
	}
	if err != nil {
		return nil, errs.E("dynamo.New", errs.Internal, err)
	}
	for _, t := range s.tabs {
		if err := s.loadCounts(ctx, t); err != nil {
			return nil, errs.E("dynamo.New", errs.Internal, err)
		}
	}
	s.wg.Add(1)
	go s.ttlLoop()
	return s, nil
}

// Close stops the background sweeper.
func (s *Service) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	return nil
}

func (s *Service) loadCounts(ctx context.Context, t *table) error {
	if err := s.countItems(ctx, t); err != nil {
		return err
	}
	return s.loadStream(ctx, t)
}

// countItems sets the table's item count and size (Item.Size, as the write
// path counts) from its stored items. Writers must be excluded (t.schema
// write-locked, or the table not yet in use).
func (s *Service) countItems(ctx context.Context, t *table) error {
	def := t.def.Load()
	var n, b int64
	t.recount.Store(false)
	t.blind.Store(0)
	err := kv.Scan(ctx, s.kv, kv.Prefix(itemPrefix(def.ID)), func(k, v []byte) bool {
		n++
		if size, err := attr.StoredSize(v); err == nil {
			b += int64(size)
		} else {
			b += int64(len(v))
		}
		return true
	})
	t.items.Store(n)
	t.bytes.Store(b)
	return err
}

// freshCounts recounts a table that blind puts have written since its last
// count; locked says the caller already holds t.schema for writing.
func (s *Service) freshCounts(ctx context.Context, t *table, locked bool) {
	if !t.recount.Load() {
		return
	}
	if !locked {
		t.schema.Lock()
		defer t.schema.Unlock()
		if !t.recount.Load() {
			return
		}
	}
	if err := s.countItems(ctx, t); err != nil {
		t.recount.Store(true)
		s.log.Warn("dynamodb: counting items failed", "table", t.def.Load().Name, "err", err)
	}
}

func idBytes(id uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	return b[:]
}

func itemPrefix(id uint64) []byte {
	return append([]byte(prefixItems), idBytes(id)...)
}

func indexPrefix(id uint64, no uint16) []byte {
	b := append([]byte(prefixIndex), idBytes(id)...)
	return append(b, byte(no>>8), byte(no))
}

// ---- validation helpers ----

func invalid(msg string) error { return errs.E("dynamo", errs.Invalid, msg) }

// ErrNotFound is the message of a missing table.
const msgNotFound = "Requested resource not found"

func notFound() error { return errs.E("dynamo", errs.NotFound, msgNotFound) }

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// ValidTableName checks a table name as DynamoDB does.
func ValidTableName(param, name string) error {
	if len(name) < 3 || len(name) > 255 {
		return invalid("TableName must be at least 3 characters long and at most 255 characters long")
	}
	if !tableNameRE.MatchString(name) {
		return invalid(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name, param))
	}
	return nil
}

func (s *Service) get(name string) (*table, *Table, error) {
	s.mu.RLock()
	t := s.tabs[name]
	s.mu.RUnlock()
	if t == nil {
		return nil, nil, notFound()
	}
	return t, t.def.Load(), nil
}

// CreateInput describes a new table.
type CreateInput struct {
	Name        string
	Hash        KeyElem
	Range       *KeyElem
	AttrDefs    []KeyElem
	Indexes     []*Index
	BillingMode string
	RCU, WCU    int64
	Stream      StreamSpec
	Tags        map[string]string
}

// Description is a table's state for DescribeTable.
type Description struct {
	Table
	Status    string
	ItemCount int64
	SizeBytes int64
	StreamARN string
}

func (s *Service) describe(t *table) Description {
	def := t.def.Load()
	d := Description{Table: *def, Status: "ACTIVE", ItemCount: t.items.Load(), SizeBytes: t.bytes.Load()}
	if t.deleted.Load() {
		d.Status = "DELETING"
	}
	if def.Stream.Label != "" {
		d.StreamARN = s.streamARN(def)
	}
	return d
}

// TableARN returns the table's ARN.
func (s *Service) TableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.cfg.Region, s.cfg.AccountID, name)
}

func (s *Service) streamARN(def *Table) string {
	return s.TableARN(def.Name) + "/stream/" + def.Stream.Label
}

// CreateTable creates a table (immediately ACTIVE).
func (s *Service) CreateTable(ctx context.Context, in CreateInput) (Description, error) {
	if err := ValidTableName("tableName", in.Name); err != nil {
		return Description{}, err
	}
	if err := validateSchema(&in); err != nil {
		return Description{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tabs[in.Name] != nil {
		return Description{}, errs.E("dynamo.CreateTable", errs.Exists, "Table already exists: "+in.Name)
	}
	def := &Table{
		ID: s.ids.Add(1), Name: in.Name, Hash: in.Hash, Range: in.Range, AttrDefs: in.AttrDefs,
		Created: s.cfg.Now(), BillingMode: in.BillingMode, RCU: in.RCU, WCU: in.WCU, Tags: in.Tags,
	}
	for i, ix := range in.Indexes {
		ix.No = uint16(i + 1)
		ix.Status = "ACTIVE"
		def.Indexes = append(def.Indexes, ix)
	}
	def.NextIndexNo = uint16(len(in.Indexes) + 1)
	if in.Stream.Enabled {
		def.Stream = StreamSpec{Enabled: true, ViewType: in.Stream.ViewType, Label: streamLabel(s.cfg.Now())}
	}
	if err := s.saveDef(ctx, def); err != nil {
		return Description{}, err
	}
	t := &table{}
	t.def.Store(def)
	s.tabs[in.Name] = t
	d := s.describe(t)
	return d, nil
}

func streamLabel(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000") }

func (s *Service) saveDef(ctx context.Context, def *Table) error {
	b, err := json.Marshal(def)
	if err != nil {
		return errs.E("dynamo.saveDef", errs.Internal, err)
	}
	return s.kv.Write(ctx, kv.Set(append(append([]byte(nil), prefixMeta...), def.Name...), b))
}

func validateSchema(in *CreateInput) error {
	defs := map[string]attr.Type{}
	for _, d := range in.AttrDefs {
		if d.Type != attr.S && d.Type != attr.N && d.Type != attr.B {
			return invalid("1 validation error detected: Value '" + d.Type.String() + "' at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
		}
		if _, dup := defs[d.Name]; dup {
			return invalid("Cannot have two attributes with the same name")
		}
		defs[d.Name] = d.Type
	}
	used := map[string]bool{}
	check := func(k *KeyElem) error {
		t, ok := defs[k.Name]
		if !ok {
			return invalid("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [" + k.Name + "], AttributeDefinitions: [" + defNames(in.AttrDefs) + "]")
		}
		k.Type = t
		used[k.Name] = true
		return nil
	}
	if err := check(&in.Hash); err != nil {
		return err
	}
	if in.Range != nil {
		if in.Range.Name == in.Hash.Name {
			return invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
		if err := check(in.Range); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	nG, nL := 0, 0
	for _, ix := range in.Indexes {
		if names[ix.Name] {
			return invalid("One or more parameter values were invalid: Duplicate index name: " + ix.Name)
		}
		names[ix.Name] = true
		if ix.Global {
			nG++
		} else {
			nL++
			if in.Range == nil {
				return invalid("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
			}
			if ix.Hash.Name != in.Hash.Name {
				return invalid("One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: " + ix.Name + ". index hash key: " + ix.Hash.Name + ", table hash key: " + in.Hash.Name)
			}
			if ix.Range == nil {
				return invalid("One or more parameter values were invalid: Index KeySchema must have a range key for index: " + ix.Name)
			}
		}
		if err := check(&ix.Hash); err != nil {
			return err
		}
		if ix.Range != nil {
			if err := check(ix.Range); err != nil {
				return err
			}
		}
		if ix.Projection == "" {
			ix.Projection = "ALL"
		}
	}
	if nG > 20 {
		return errs.E("dynamo", errs.RateLimited, "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20")
	}
	if nL > 5 {
		return invalid("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5")
	}
	if len(used) != len(defs) {
		return invalid("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func defNames(defs []KeyElem) string {
	out := ""
	for i, d := range defs {
		if i > 0 {
			out += ", "
		}
		out += d.Name
	}
	return out
}

// DescribeTable returns a table's description.
func (s *Service) DescribeTable(ctx context.Context, name string) (Description, error) {
	t, _, err := s.get(name)
	if err != nil {
		return Description{}, errs.E("dynamo.DescribeTable", errs.NotFound, "Requested resource not found: Table: "+name+" not found")
	}
	s.freshCounts(ctx, t, false)
	return s.describe(t), nil
}

// DeleteTable removes a table and all its items, index entries and stream records.
func (s *Service) DeleteTable(ctx context.Context, name string) (Description, error) {
	s.mu.Lock()
	t := s.tabs[name]
	if t == nil {
		s.mu.Unlock()
		return Description{}, errs.E("dynamo.DeleteTable", errs.NotFound, "Requested resource not found: Table: "+name+" not found")
	}
	def := t.def.Load()
	if def.Deletion {
		s.mu.Unlock()
		return Description{}, invalid("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	delete(s.tabs, name)
	s.mu.Unlock()
	t.schema.Lock()
	defer t.schema.Unlock()
	t.deleted.Store(true)
	s.freshCounts(ctx, t, true)
	d := s.describe(t)
	id := idBytes(def.ID)
	ops := []kv.Op{kv.Del(append(append([]byte(nil), prefixMeta...), name...))}
	for _, p := range []string{prefixItems, prefixIndex, prefixStream} {
		start := append([]byte(p), id...)
		ops = append(ops, kv.DelRange(start, kv.PrefixEnd(start)))
	}
	err := s.kv.Write(ctx, ops...)
	if s.cache != nil {
		s.cache.dropPrefix(itemPrefix(def.ID))
	}
	if err != nil {
		return Description{}, err
	}
	return d, nil
}

// ListTables lists table names after start, at most limit (0 = 100).
func (s *Service) ListTables(ctx context.Context, start string, limit int) ([]string, string) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	s.mu.RLock()
	names := make([]string, 0, len(s.tabs))
	for n := range s.tabs {
		if n > start {
			names = append(names, n)
		}
	}
	s.mu.RUnlock()
	sort.Strings(names)
	last := ""
	if len(names) > limit {
		names = names[:limit]
		last = names[limit-1]
	}
	return names, last
}

// UpdateInput changes a table.
type UpdateInput struct {
	Name        string
	AttrDefs    []KeyElem
	BillingMode string
	RCU, WCU    *int64
	Stream      *StreamSpec
	CreateGSI   []*Index
	DeleteGSI   []string
	UpdateGSI   map[string][2]int64
	Deletion    *bool
}

// UpdateTable applies throughput, stream and GSI changes; new GSIs are
// backfilled before the call returns.
func (s *Service) UpdateTable(ctx context.Context, in UpdateInput) (Description, error) {
	t, _, err := s.get(in.Name)
	if err != nil {
		return Description{}, errs.E("dynamo.UpdateTable", errs.NotFound, "Requested resource not found: Table: "+in.Name+" not found")
	}
	t.schema.Lock()
	defer t.schema.Unlock()
	old := t.def.Load()
	def := *old
	def.Indexes = append([]*Index(nil), old.Indexes...)
	if in.BillingMode != "" {
		def.BillingMode = in.BillingMode
	}
	if in.RCU != nil {
		def.RCU = *in.RCU
	}
	if in.WCU != nil {
		def.WCU = *in.WCU
	}
	if in.Deletion != nil {
		def.Deletion = *in.Deletion
	}
	if in.Stream != nil {
		if in.Stream.Enabled {
			if old.Stream.Enabled {
				return Description{}, errs.E("dynamo.UpdateTable", errs.Invalid, "Table already has an enabled stream: "+s.streamARN(old))
			}
			def.Stream = StreamSpec{Enabled: true, ViewType: in.Stream.ViewType, Label: streamLabel(s.cfg.Now())}
		} else {
			if !old.Stream.Enabled {
				return Description{}, invalid("Table already has stream disabled")
			}
			def.Stream.Enabled = false
		}
	}
	for name, tp := range in.UpdateGSI {
		found := false
		for i, ix := range def.Indexes {
			if ix.Name == name && ix.Global {
				c := *ix
				c.RCU, c.WCU = tp[0], tp[1]
				def.Indexes[i] = &c
				found = true
			}
		}
		if !found {
			return Description{}, errs.E("dynamo.UpdateTable", errs.NotFound, "Requested resource not found: Index: "+name+" not found")
		}
	}
	var dropOps []kv.Op
	for _, name := range in.DeleteGSI {
		found := false
		for i, ix := range def.Indexes {
			if ix.Name == name && ix.Global {
				p := indexPrefix(def.ID, ix.No)
				dropOps = append(dropOps, kv.DelRange(p, kv.PrefixEnd(p)))
				def.Indexes = append(def.Indexes[:i:i], def.Indexes[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			return Description{}, errs.E("dynamo.UpdateTable", errs.NotFound, "Requested resource not found: Index: "+name+" not found")
		}
	}
	defs := map[string]attr.Type{}
	for _, d := range def.AttrDefs {
		defs[d.Name] = d.Type
	}
	for _, d := range in.AttrDefs {
		if t, ok := defs[d.Name]; ok && t != d.Type {
			return Description{}, invalid("Cannot change the type of an existing attribute: " + d.Name)
		}
		if _, ok := defs[d.Name]; !ok {
			def.AttrDefs = append(def.AttrDefs, d)
			defs[d.Name] = d.Type
		}
	}
	var fresh []*Index
	for _, ix := range in.CreateGSI {
		for _, e := range def.Indexes {
			if e.Name == ix.Name {
				return Description{}, invalid("One or more parameter values were invalid: Duplicate index name: " + ix.Name)
			}
		}
		for _, k := range []*KeyElem{&ix.Hash, ix.Range} {
			if k == nil {
				continue
			}
			t, ok := defs[k.Name]
			if !ok {
				return Description{}, invalid("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [" + k.Name + "], AttributeDefinitions: [" + defNames(def.AttrDefs) + "]")
			}
			k.Type = t
		}
		if ix.Projection == "" {
			ix.Projection = "ALL"
		}
		ix.Global = true
		ix.No = def.NextIndexNo
		def.NextIndexNo++
		ix.Status = "ACTIVE"
		def.Indexes = append(def.Indexes, ix)
		fresh = append(fresh, ix)
	}
	if n := countGSI(def.Indexes); n > 20 {
		return Description{}, errs.E("dynamo", errs.RateLimited, "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20")
	}
	// backfill new indexes from the items (writers are excluded by the schema lock)
	if len(fresh) > 0 {
		var ops []kv.Op
		err := kv.Scan(ctx, s.kv, kv.Prefix(itemPrefix(def.ID)), func(k, v []byte) bool {
			it, err := attr.DecodeItem(v)
			if err != nil {
				return true
			}
			for _, ix := range fresh {
				if ik, iv, ok := indexEntry(&def, ix, it); ok {
					ops = append(ops, kv.Set(ik, iv))
				}
			}
			if len(ops) >= 1000 {
				if err := s.kv.Write(ctx, ops...); err != nil {
					return false
				}
				ops = ops[:0]
			}
			return true
		})
		if err != nil {
			return Description{}, err
		}
		if len(ops) > 0 {
			if err := s.kv.Write(ctx, ops...); err != nil {
				return Description{}, err
			}
		}
	}
	b, err := json.Marshal(&def)
	if err != nil {
		return Description{}, err
	}
	ops := append(dropOps, kv.Set(append(append([]byte(nil), prefixMeta...), def.Name...), b))
	if err := s.kv.Write(ctx, ops...); err != nil {
		return Description{}, err
	}
	t.def.Store(&def)
	s.freshCounts(ctx, t, true)
	return s.describe(t), nil
}

func countGSI(ix []*Index) int {
	n := 0
	for _, i := range ix {
		if i.Global {
			n++
		}
	}
	return n
}

// UpdateTTL sets or clears the TTL attribute.
func (s *Service) UpdateTTL(ctx context.Context, name, attrName string, enabled bool) error {
	t, _, err := s.get(name)
	if err != nil {
		return err
	}
	t.schema.Lock()
	defer t.schema.Unlock()
	def := *t.def.Load()
	if enabled {
		if def.TTLAttr != "" {
			return invalid("TimeToLive is already enabled")
		}
		def.TTLAttr = attrName
	} else {
		if def.TTLAttr == "" {
			return invalid("TimeToLive is already disabled")
		}
		def.TTLAttr = ""
	}
	if err := s.saveDef(ctx, &def); err != nil {
		return err
	}
	t.def.Store(&def)
	return nil
}

// TTL returns the TTL attribute ("" when disabled).
func (s *Service) TTL(name string) (string, error) {
	_, def, err := s.get(name)
	if err != nil {
		return "", err
	}
	return def.TTLAttr, nil
}

// tableByARN finds a table by its ARN.
func (s *Service) tableByARN(arn string) (*table, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, t := range s.tabs {
		if s.TableARN(name) == arn {
			return t, nil
		}
	}
	return nil, errs.E("dynamo", errs.NotFound, "Requested resource not found: ResourcArn: "+arn+" not found")
}

// TagResource adds tags to the table named by arn.
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	return s.editTags(ctx, arn, func(m map[string]string) {
		for k, v := range tags {
			m[k] = v
		}
	})
}

// UntagResource removes tag keys.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	return s.editTags(ctx, arn, func(m map[string]string) {
		for _, k := range keys {
			delete(m, k)
		}
	})
}

func (s *Service) editTags(ctx context.Context, arn string, fn func(map[string]string)) error {
	t, err := s.tableByARN(arn)
	if err != nil {
		return err
	}
	t.schema.Lock()
	defer t.schema.Unlock()
	def := *t.def.Load()
	m := map[string]string{}
	for k, v := range def.Tags {
		m[k] = v
	}
	fn(m)
	if len(m) > 50 {
		return errs.E("dynamo", errs.RateLimited, "One or more parameter values were invalid: The number of tags exceeds the limit of 50")
	}
	def.Tags = m
	if err := s.saveDef(ctx, &def); err != nil {
		return err
	}
	t.def.Store(&def)
	return nil
}

// ListTags returns the tags of the table named by arn.
func (s *Service) ListTags(arn string) (map[string]string, error) {
	t, err := s.tableByARN(arn)
	if err != nil {
		return nil, err
	}
	return t.def.Load().Tags, nil
}
