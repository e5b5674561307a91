package sqs

import (
	"container/heap"
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"skyhub/internal/kv"
)

// Attrs are a queue's settable attributes.
type Attrs struct {
	DelaySeconds                  int    `json:"ds"`
	MaximumMessageSize            int    `json:"mms"`
	MessageRetentionPeriod        int    `json:"mrp"`
	ReceiveMessageWaitTimeSeconds int    `json:"rw"`
	VisibilityTimeout             int    `json:"vt"`
	Policy                        string `json:"pol,omitempty"`
	RedrivePolicy                 string `json:"rp,omitempty"`
	RedriveAllowPolicy            string `json:"rap,omitempty"`
	FifoQueue                     bool   `json:"fifo,omitempty"`
	ContentBasedDeduplication     bool   `json:"cbd,omitempty"`
	DeduplicationScope            string `json:"dscope,omitempty"`
	FifoThroughputLimit           string `json:"ftl,omitempty"`
	KmsMasterKeyID                string `json:"kms,omitempty"`
	KmsDataKeyReusePeriodSeconds  int    `json:"kmsr"`
	SqsManagedSseEnabled          bool   `json:"sse"`
}

// DefaultMaxMessageSize is the default MaximumMessageSize (256 KiB).
const DefaultMaxMessageSize = 262144

// MaxMessageSizeLimit is the largest MaximumMessageSize AWS allows (1 MiB).
const MaxMessageSizeLimit = 1048576

func defaultAttrs(fifo bool) Attrs {
	a := Attrs{MaximumMessageSize: DefaultMaxMessageSize, MessageRetentionPeriod: 345600,
		VisibilityTimeout: 30, KmsDataKeyReusePeriodSeconds: 300, SqsManagedSseEnabled: true, FifoQueue: fifo}
	if fifo {
		a.DeduplicationScope = "queue"
		a.FifoThroughputLimit = "perQueue"
	}
	return a
}

type redrive struct {
	Target string
	Max    int
}

// queueRec is the persisted queue record.
type queueRec struct {
	Name     string            `json:"n"`
	ID       uint64            `json:"id"`
	Created  int64             `json:"c"`
	Modified int64             `json:"m"`
	Attrs    Attrs             `json:"a"`
	Tags     map[string]string `json:"t,omitempty"`
}

type dedupEntry struct {
	MessageID string    `json:"id"`
	SeqNum    string    `json:"sn,omitempty"`
	Expires   time.Time `json:"e"`
}

type queue struct {
	name string
	id   uint64
	fifo bool

	// sendMu serialises FIFO sends across their store write, so messages
	// become visible in sequence-number order (lock order: sendMu, then mu).
	sendMu sync.Mutex

	mu      sync.Mutex
	rec     queueRec
	attrs   Attrs
	redrive *redrive
	msgs    map[uint64]*message
	vis     visHeap    // standard queues: candidates by visible time
	order   []*message // FIFO queues: messages by sequence
	dead    int        // removed entries still in order
	dedup   map[string]dedupEntry
	lastSeq uint64
	purged  time.Time
	wake    chan struct{}
	gone    bool // deleted
	// attempts remembers FIFO receives by ReceiveRequestAttemptId for 5
	// minutes (memory only), so a retried receive gets the same messages
	// and receipt handles while they are still in flight.
	attempts map[string]attempt
}

type attempt struct {
	seqs    []uint64
	nonces  []uint64
	expires int64
}

func newQueue(rec queueRec) *queue {
	q := &queue{name: rec.Name, id: rec.ID, fifo: rec.Attrs.FifoQueue, rec: rec, attrs: rec.Attrs,
		msgs: map[uint64]*message{}, dedup: map[string]dedupEntry{}, wake: make(chan struct{}),
		attempts: map[string]attempt{}}
	q.redrive = parseRedrive(rec.Attrs.RedrivePolicy)
	return q
}

// wakeLocked wakes every long poll on the queue.
func (q *queue) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *queue) nextSeqLocked(now time.Time) uint64 {
	s := uint64(now.UnixNano())
	if s <= q.lastSeq {
		s = q.lastSeq + 1
	}
	q.lastSeq = s
	return s
}

func (q *queue) insertLocked(m *message) {
	q.msgs[m.Seq] = m
	if q.fifo {
		i := len(q.order)
		for i > 0 && q.order[i-1].Seq > m.Seq {
			i--
		}
		q.order = append(q.order, nil)
		copy(q.order[i+1:], q.order[i:])
		q.order[i] = m
	} else {
		heap.Push(&q.vis, visEntry{at: m.Visible, m: m})
	}
}

// reindexLocked rebuilds the visibility heap (standard queues) after the
// messages' visible times changed wholesale (loading).
func (q *queue) reindexLocked() {
	if q.fifo {
		return
	}
	q.vis = q.vis[:0]
	for _, m := range q.msgs {
		q.vis = append(q.vis, visEntry{at: m.Visible, m: m})
	}
	heap.Init(&q.vis)
}

func (q *queue) removeLocked(m *message) {
	if q.msgs[m.Seq] != m {
		return
	}
	delete(q.msgs, m.Seq)
	m.gone = true
	if q.fifo {
		q.dead++
		if q.dead > 64 && q.dead > len(q.order)/2 {
			out := q.order[:0]
			for _, o := range q.order {
				if !o.gone {
					out = append(out, o)
				}
			}
			for i := len(out); i < len(q.order); i++ {
				q.order[i] = nil
			}
			q.order, q.dead = out, 0
		}
	}
}

func (q *queue) clearLocked() {
	for _, m := range q.msgs {
		m.gone = true
	}
	q.msgs = map[uint64]*message{}
	q.vis = nil
	q.order = nil
	q.dead = 0
}

// visHeap orders standard-queue messages by the time they become visible.
// Entries go stale when a message is removed or its visibility changes;
// they are skipped when popped.
type visHeap []visEntry

type visEntry struct {
	at int64
	m  *message
}

func (h visHeap) Len() int { return len(h) }
func (h visHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].m.Seq < h[j].m.Seq
}
func (h visHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *visHeap) Push(x any)   { *h = append(*h, x.(visEntry)) }
func (h *visHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = visEntry{}
	*h = old[:len(old)-1]
	return e
}

func (e visEntry) stale() bool { return e.m.gone || e.m.Visible != e.at }

// ---- keys ----

const (
	prefixQueue = "sqs/q/"
	prefixMsg   = "sqs/m/"
	prefixDedup = "sqs/d/"
	prefixState = "sqs/s/"
	prefixTask  = "sqs/t/"
)

func queueKey(name string) []byte { return []byte(prefixQueue + name) }

func idHex(id uint64) string {
	s := strconv.FormatUint(id, 16)
	return strings.Repeat("0", 16-len(s)) + s
}

func msgPrefix(qid uint64) []byte { return []byte(prefixMsg + idHex(qid) + "/") }
func msgKey(qid, seq uint64) []byte {
	return append(msgPrefix(qid), idHex(seq)...)
}
func statePrefix(qid uint64) []byte { return []byte(prefixState + idHex(qid) + "/") }
func stateKey(qid, seq uint64) []byte {
	return append(statePrefix(qid), idHex(seq)...)
}

// delMsgOps deletes a message's record and, if it has one, its receive state.
func delMsgOps(qid uint64, m *message) []kv.Op {
	if m.hasState {
		return []kv.Op{kv.Del(msgKey(qid, m.Seq)), kv.Del(stateKey(qid, m.Seq))}
	}
	return []kv.Op{kv.Del(msgKey(qid, m.Seq))}
}

// allMsgOps deletes every message, state and dedup record of queue qid.
func allMsgOps(qid uint64) []kv.Op {
	return []kv.Op{kv.DelRange(msgPrefix(qid), kv.PrefixEnd(msgPrefix(qid))),
		kv.DelRange(statePrefix(qid), kv.PrefixEnd(statePrefix(qid)))}
}

func dedupPrefix(qid uint64) []byte { return []byte(prefixDedup + idHex(qid) + "/") }
func dedupKey(qid uint64, id string) []byte {
	return append(dedupPrefix(qid), id...)
}

// ---- names and attributes ----

func validQueueName(name string, fifo bool) bool {
	base := name
	if fifo {
		var ok bool
		base, ok = strings.CutSuffix(name, ".fifo")
		if !ok {
			return false
		}
	}
	if len(name) < 1 || len(name) > 80 || base == "" {
		return false
	}
	for _, c := range base {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// AttributeNames are the queue attributes GetQueueAttributes knows.
var AttributeNames = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
	"ApproximateNumberOfMessagesNotVisible", "ContentBasedDeduplication", "CreatedTimestamp",
	"DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
	"KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "LastModifiedTimestamp",
	"MaximumMessageSize", "MessageRetentionPeriod", "Policy", "QueueArn",
	"ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy",
	"SqsManagedSseEnabled", "VisibilityTimeout",
}

func intAttr(op, name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, Fail(op, CodeInvalidAttributeValue, "Invalid value for the parameter %s.", name)
	}
	return n, nil
}

func boolAttr(op, name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, Fail(op, CodeInvalidAttributeValue, "Invalid value for the parameter %s.", name)
}

// setAttr validates and applies one attribute to a. fifo is the queue's
// kind; creating allows FifoQueue.
func (s *Service) setAttr(op string, a *Attrs, qname, name, v string, fifo, creating bool) error {
	var err error
	switch name {
	case "DelaySeconds":
		a.DelaySeconds, err = intAttr(op, name, v, 0, 900)
	case "MaximumMessageSize":
		a.MaximumMessageSize, err = intAttr(op, name, v, 1024, MaxMessageSizeLimit)
	case "MessageRetentionPeriod":
		a.MessageRetentionPeriod, err = intAttr(op, name, v, 60, 1209600)
	case "ReceiveMessageWaitTimeSeconds":
		a.ReceiveMessageWaitTimeSeconds, err = intAttr(op, name, v, 0, 20)
	case "VisibilityTimeout":
		a.VisibilityTimeout, err = intAttr(op, name, v, 0, 43200)
	case "KmsDataKeyReusePeriodSeconds":
		a.KmsDataKeyReusePeriodSeconds, err = intAttr(op, name, v, 60, 86400)
	case "KmsMasterKeyId":
		a.KmsMasterKeyID = v
	case "SqsManagedSseEnabled":
		a.SqsManagedSseEnabled, err = boolAttr(op, name, v)
	case "Policy":
		if v != "" && !json.Valid([]byte(v)) {
			return Fail(op, CodeInvalidAttributeValue, "Invalid value for the parameter Policy.")
		}
		a.Policy = v
	case "RedrivePolicy":
		if v == "" {
			a.RedrivePolicy = ""
			return nil
		}
		rd, err := s.checkRedrive(op, qname, v, fifo)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": rd.Target, "maxReceiveCount": rd.Max})
		a.RedrivePolicy = string(b)
	case "RedriveAllowPolicy":
		if v == "" {
			a.RedriveAllowPolicy = ""
			return nil
		}
		if err := checkRedriveAllow(op, v); err != nil {
			return err
		}
		a.RedriveAllowPolicy = v
	case "FifoQueue":
		if !creating {
			return Fail(op, CodeInvalidAttributeName, "Unknown Attribute FifoQueue.")
		}
		f, err := boolAttr(op, name, v)
		if err != nil {
			return err
		}
		if f != fifo {
			return invalidParam(op, "Invalid value for the parameter FifoQueue. Reason: The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
	case "ContentBasedDeduplication":
		if !fifo {
			return Fail(op, CodeInvalidAttributeName, "Unknown Attribute ContentBasedDeduplication.")
		}
		a.ContentBasedDeduplication, err = boolAttr(op, name, v)
	case "DeduplicationScope":
		if !fifo {
			return Fail(op, CodeInvalidAttributeName, "Unknown Attribute DeduplicationScope.")
		}
		if v != "messageGroup" && v != "queue" {
			return Fail(op, CodeInvalidAttributeValue, "Invalid value for the parameter DeduplicationScope.")
		}
		a.DeduplicationScope = v
	case "FifoThroughputLimit":
		if !fifo {
			return Fail(op, CodeInvalidAttributeName, "Unknown Attribute FifoThroughputLimit.")
		}
		if v != "perQueue" && v != "perMessageGroupId" {
			return Fail(op, CodeInvalidAttributeValue, "Invalid value for the parameter FifoThroughputLimit.")
		}
		a.FifoThroughputLimit = v
	default:
		return Fail(op, CodeInvalidAttributeName, "Unknown Attribute %s.", name)
	}
	return err
}

func parseRedrive(v string) *redrive {
	if v == "" {
		return nil
	}
	var raw struct {
		Target string          `json:"deadLetterTargetArn"`
		Max    json.RawMessage `json:"maxReceiveCount"`
	}
	if json.Unmarshal([]byte(v), &raw) != nil || raw.Target == "" {
		return nil
	}
	ms := strings.Trim(string(raw.Max), `"`)
	n, err := strconv.Atoi(ms)
	if err != nil {
		return nil
	}
	return &redrive{Target: raw.Target, Max: n}
}

func (s *Service) checkRedrive(op, qname, v string, fifo bool) (*redrive, error) {
	bad := func(reason string) error {
		return invalidParam(op, "Value %s for parameter RedrivePolicy is invalid. Reason: %s", v, reason)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, bad("Redrive policy is not a valid JSON map.")
	}
	if _, ok := raw["deadLetterTargetArn"]; !ok {
		return nil, bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	if _, ok := raw["maxReceiveCount"]; !ok {
		return nil, bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
	}
	rd := parseRedrive(v)
	if rd == nil {
		return nil, bad("Invalid value for maxReceiveCount or deadLetterTargetArn.")
	}
	if rd.Max < 1 || rd.Max > 1000 {
		return nil, bad("Invalid value for maxReceiveCount: " + strconv.Itoa(rd.Max) + ", valid values are from 1 to 1000 both inclusive.")
	}
	tname, ok := s.NameFromARN(rd.Target)
	if !ok {
		return nil, bad("Invalid value for deadLetterTargetArn.")
	}
	s.mu.RLock()
	t := s.queues[tname]
	s.mu.RUnlock()
	if t == nil {
		return nil, bad("Dead letter target does not exist.")
	}
	if t.fifo != fifo {
		return nil, bad("Dead-letter queue must be same type of queue as the source.")
	}
	t.mu.Lock()
	allow := t.attrs.RedriveAllowPolicy
	t.mu.Unlock()
	if !redriveAllowed(allow, s.ARN(qname)) {
		return nil, bad("Dead letter target does not allow this queue as a source.")
	}
	return rd, nil
}

type redriveAllow struct {
	Permission string   `json:"redrivePermission"`
	Sources    []string `json:"sourceQueueArns"`
}

func checkRedriveAllow(op, v string) error {
	var ra redriveAllow
	if err := json.Unmarshal([]byte(v), &ra); err != nil {
		return invalidParam(op, "Value %s for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't parse the JSON policy.", v)
	}
	switch ra.Permission {
	case "allowAll", "denyAll":
		if len(ra.Sources) > 0 {
			return invalidParam(op, "Value %s for parameter RedriveAllowPolicy is invalid. Reason: Only when permission is set to byQueue can sourceQueueArns be included.", v)
		}
	case "byQueue":
		if len(ra.Sources) == 0 || len(ra.Sources) > 10 {
			return invalidParam(op, "Value %s for parameter RedriveAllowPolicy is invalid. Reason: You must specify 1 to 10 source queue ARNs when permission is set to byQueue.", v)
		}
	default:
		return invalidParam(op, "Value %s for parameter RedriveAllowPolicy is invalid. Reason: Invalid value for redrivePermission.", v)
	}
	return nil
}

func redriveAllowed(policy, sourceARN string) bool {
	if policy == "" {
		return true
	}
	var ra redriveAllow
	if json.Unmarshal([]byte(policy), &ra) != nil {
		return true
	}
	switch ra.Permission {
	case "denyAll":
		return false
	case "byQueue":
		for _, a := range ra.Sources {
			if a == sourceARN {
				return true
			}
		}
		return false
	}
	return true
}

// attrValue renders one attribute; ok is false for unknown names.
func (s *Service) attrValueLocked(q *queue, name string, now time.Time) (string, bool) {
	a := q.attrs
	itoa := strconv.Itoa
	switch name {
	case "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed":
		vis, inflight, delayed := q.countsLocked(now)
		switch name {
		case "ApproximateNumberOfMessages":
			return itoa(vis), true
		case "ApproximateNumberOfMessagesNotVisible":
			return itoa(inflight), true
		}
		return itoa(delayed), true
	case "CreatedTimestamp":
		return strconv.FormatInt(q.rec.Created, 10), true
	case "LastModifiedTimestamp":
		return strconv.FormatInt(q.rec.Modified, 10), true
	case "QueueArn":
		return s.ARN(q.name), true
	case "DelaySeconds":
		return itoa(a.DelaySeconds), true
	case "MaximumMessageSize":
		return itoa(a.MaximumMessageSize), true
	case "MessageRetentionPeriod":
		return itoa(a.MessageRetentionPeriod), true
	case "ReceiveMessageWaitTimeSeconds":
		return itoa(a.ReceiveMessageWaitTimeSeconds), true
	case "VisibilityTimeout":
		return itoa(a.VisibilityTimeout), true
	case "SqsManagedSseEnabled":
		return strconv.FormatBool(a.SqsManagedSseEnabled), true
	case "KmsMasterKeyId":
		return a.KmsMasterKeyID, a.KmsMasterKeyID != ""
	case "KmsDataKeyReusePeriodSeconds":
		return itoa(a.KmsDataKeyReusePeriodSeconds), a.KmsMasterKeyID != ""
	case "Policy":
		return a.Policy, a.Policy != ""
	case "RedrivePolicy":
		return a.RedrivePolicy, a.RedrivePolicy != ""
	case "RedriveAllowPolicy":
		return a.RedriveAllowPolicy, a.RedriveAllowPolicy != ""
	case "FifoQueue":
		return "true", q.fifo
	case "ContentBasedDeduplication":
		return strconv.FormatBool(a.ContentBasedDeduplication), q.fifo
	case "DeduplicationScope":
		return a.DeduplicationScope, q.fifo
	case "FifoThroughputLimit":
		return a.FifoThroughputLimit, q.fifo
	}
	return "", false
}

func (q *queue) countsLocked(now time.Time) (visible, inflight, delayed int) {
	n := now.UnixNano()
	for _, m := range q.msgs {
		switch {
		case m.Visible <= n:
			visible++
		case m.Recv > 0:
			inflight++
		default:
			delayed++
		}
	}
	return
}

// ---- queue operations ----

// CreateQueue creates a queue (or returns the existing one when its
// attributes match) and returns its name.
func (s *Service) CreateQueue(ctx context.Context, name string, attrs map[string]string, tags map[string]string) error {
	const op = "sqs.CreateQueue"
	if name == "" {
		return Fail(op, CodeMissingParameter, "The request must contain the parameter QueueName.")
	}
	fifo := strings.HasSuffix(name, ".fifo")
	if v, ok := attrs["FifoQueue"]; ok && strings.EqualFold(v, "true") && !fifo {
		return invalidParam(op, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	if fifo && !strings.EqualFold(attrs["FifoQueue"], "true") {
		if _, ok := attrs["FifoQueue"]; ok {
			return invalidParam(op, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return invalidParam(op, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if !validQueueName(name, fifo) {
		if fifo {
			return invalidParam(op, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return invalidParam(op, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if err := checkTags(op, tags); err != nil {
		return err
	}
	a := defaultAttrs(fifo)
	names := sortedKeys(attrs)
	for _, k := range names {
		if err := s.setAttr(op, &a, name, k, attrs[k], fifo, true); err != nil {
			return err
		}
	}
	now := s.now()
	s.mu.Lock()
	if q := s.queues[name]; q != nil {
		s.mu.Unlock()
		q.mu.Lock()
		defer q.mu.Unlock()
		for _, k := range names {
			if k == "FifoQueue" {
				continue
			}
			want, _ := s.attrValueLocked(&queue{name: name, fifo: fifo, attrs: a, rec: q.rec}, k, now)
			have, _ := s.attrValueLocked(q, k, now)
			if want != have {
				return Fail(op, CodeQueueNameExists, "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return nil
	}
	if at, ok := s.deleted[name]; ok && s.cfg.DeletedCooldown > 0 && now.Sub(at) < s.cfg.DeletedCooldown {
		s.mu.Unlock()
		return Fail(op, CodeQueueDeletedRecently, "You must wait 60 seconds after deleting a queue before you can create another with the same name.")
	}
	rec := queueRec{Name: name, ID: uint64(now.UnixNano()), Created: now.Unix(), Modified: now.Unix(), Attrs: a, Tags: copyMap(tags)}
	for _, q := range s.queues {
		if q.id >= rec.ID {
			rec.ID = q.id + 1
		}
	}
	q := newQueue(rec)
	b, _ := json.Marshal(rec)
	// Holding s.mu across the write keeps two creates of one name from
	// both succeeding; queue creation is rare.
	err := s.st.Write(ctx, kv.Set(queueKey(name), b))
	if err == nil {
		s.queues[name] = q
		delete(s.deleted, name)
	}
	s.mu.Unlock()
	if err != nil {
		return internalErr(op, err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Exists reports whether the queue exists.
func (s *Service) Exists(name string) bool {
	_, err := s.get("", name)
	return err == nil
}

// DeleteQueue deletes a queue and all its messages.
func (s *Service) DeleteQueue(ctx context.Context, name string) error {
	const op = "sqs.DeleteQueue"
	s.mu.Lock()
	q := s.queues[name]
	if q == nil {
		s.mu.Unlock()
		return noQueue(op)
	}
	ops := append(allMsgOps(q.id), kv.Del(queueKey(name)),
		kv.DelRange(dedupPrefix(q.id), kv.PrefixEnd(dedupPrefix(q.id))))
	err := s.st.Write(ctx, ops...)
	if err == nil {
		delete(s.queues, name)
		s.deleted[name] = s.now()
	}
	s.mu.Unlock()
	if err != nil {
		return internalErr(op, err)
	}
	q.mu.Lock()
	q.gone = true
	q.clearLocked()
	q.wakeLocked()
	q.mu.Unlock()
	return nil
}

// GetQueueAttributes returns the named attributes ("All" for every one).
func (s *Service) GetQueueAttributes(ctx context.Context, name string, names []string) (map[string]string, error) {
	const op = "sqs.GetQueueAttributes"
	q, err := s.get(op, name)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		if n == "All" {
			for _, a := range AttributeNames {
				want[a] = true
			}
			continue
		}
		known := false
		for _, a := range AttributeNames {
			if a == n {
				known = true
				break
			}
		}
		if !known {
			return nil, Fail(op, CodeInvalidAttributeName, "Unknown Attribute %s.", n)
		}
		want[n] = true
	}
	now := s.now()
	out := map[string]string{}
	q.mu.Lock()
	defer q.mu.Unlock()
	for n := range want {
		if v, ok := s.attrValueLocked(q, n, now); ok {
			out[n] = v
		}
	}
	return out, nil
}

// SetQueueAttributes changes queue attributes.
func (s *Service) SetQueueAttributes(ctx context.Context, name string, attrs map[string]string) error {
	const op = "sqs.SetQueueAttributes"
	q, err := s.get(op, name)
	if err != nil {
		return err
	}
	q.mu.Lock()
	a := q.attrs
	q.mu.Unlock()
	for _, k := range sortedKeys(attrs) {
		if err := s.setAttr(op, &a, name, k, attrs[k], q.fifo, false); err != nil {
			return err
		}
	}
	return s.updateQueue(ctx, op, q, func(r *queueRec) { r.Attrs = a; r.Modified = s.now().Unix() })
}

// updateQueue applies fn to a copy of the queue record, persists it, then
// installs it.
func (s *Service) updateQueue(ctx context.Context, op string, q *queue, fn func(*queueRec)) error {
	q.mu.Lock()
	rec := q.rec
	rec.Tags = copyMap(rec.Tags)
	fn(&rec)
	b, _ := json.Marshal(rec)
	// Queue record updates are rare: persisting under the queue lock keeps
	// concurrent updates ordered.
	err := s.st.Write(ctx, kv.Set(queueKey(q.name), b))
	if err == nil {
		q.rec = rec
		q.attrs = rec.Attrs
		q.redrive = parseRedrive(rec.Attrs.RedrivePolicy)
		q.wakeLocked()
	}
	q.mu.Unlock()
	if err != nil {
		return internalErr(op, err)
	}
	return nil
}

// PurgeQueue deletes every message in the queue.
func (s *Service) PurgeQueue(ctx context.Context, name string) error {
	const op = "sqs.PurgeQueue"
	q, err := s.get(op, name)
	if err != nil {
		return err
	}
	now := s.now()
	q.mu.Lock()
	if !q.purged.IsZero() && s.cfg.PurgeCooldown > 0 && now.Sub(q.purged) < s.cfg.PurgeCooldown {
		q.mu.Unlock()
		return Fail(op, CodePurgeQueueInProgress, "Only one PurgeQueue operation on %s is allowed every 60 seconds.", name)
	}
	q.purged = now
	q.clearLocked()
	q.mu.Unlock()
	if err := s.st.Write(ctx, allMsgOps(q.id)...); err != nil {
		return internalErr(op, err)
	}
	return nil
}

// ListDeadLetterSourceQueues returns the queues whose redrive policy
// targets name, sorted.
func (s *Service) ListDeadLetterSourceQueues(ctx context.Context, name string) ([]string, error) {
	const op = "sqs.ListDeadLetterSourceQueues"
	if _, err := s.get(op, name); err != nil {
		return nil, err
	}
	arn := s.ARN(name)
	s.mu.RLock()
	qs := make([]*queue, 0, len(s.queues))
	for _, q := range s.queues {
		qs = append(qs, q)
	}
	s.mu.RUnlock()
	var out []string
	for _, q := range qs {
		q.mu.Lock()
		if q.redrive != nil && q.redrive.Target == arn {
			out = append(out, q.name)
		}
		q.mu.Unlock()
	}
	sort.Strings(out)
	return out, nil
}

func checkTags(op string, tags map[string]string) error {
	if len(tags) > 50 {
		return invalidParam(op, "Too many tags added for queue. Maximum number of tags is 50.")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return invalidParam(op, "Tag keys must be 1 to 128 characters and values at most 256 characters.")
		}
	}
	return nil
}

// TagQueue adds or replaces tags.
func (s *Service) TagQueue(ctx context.Context, name string, tags map[string]string) error {
	const op = "sqs.TagQueue"
	q, err := s.get(op, name)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return Fail(op, CodeMissingParameter, "The request must contain the parameter Tags.")
	}
	if err := checkTags(op, tags); err != nil {
		return err
	}
	q.mu.Lock()
	n := len(q.rec.Tags)
	for k := range tags {
		if _, ok := q.rec.Tags[k]; !ok {
			n++
		}
	}
	q.mu.Unlock()
	if n > 50 {
		return invalidParam(op, "Too many tags added for queue. Maximum number of tags is 50.")
	}
	return s.updateQueue(ctx, op, q, func(r *queueRec) {
		if r.Tags == nil {
			r.Tags = map[string]string{}
		}
		for k, v := range tags {
			r.Tags[k] = v
		}
	})
}

// UntagQueue removes tags.
func (s *Service) UntagQueue(ctx context.Context, name string, keys []string) error {
	const op = "sqs.UntagQueue"
	q, err := s.get(op, name)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return Fail(op, CodeMissingParameter, "The request must contain the parameter TagKeys.")
	}
	return s.updateQueue(ctx, op, q, func(r *queueRec) {
		for _, k := range keys {
			delete(r.Tags, k)
		}
	})
}

// ListQueueTags returns the queue's tags.
func (s *Service) ListQueueTags(ctx context.Context, name string) (map[string]string, error) {
	q, err := s.get("sqs.ListQueueTags", name)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return copyMap(q.rec.Tags), nil
}

type policyDoc struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id,omitempty"`
	Statement []json.RawMessage `json:"Statement"`
}

type policyStatement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal"`
	Action    any            `json:"Action"`
	Resource  string         `json:"Resource"`
}

var permissionActions = map[string]bool{"*": true, "SendMessage": true, "ReceiveMessage": true,
	"DeleteMessage": true, "ChangeMessageVisibility": true, "GetQueueAttributes": true, "GetQueueUrl": true,
	"ListDeadLetterSourceQueues": true, "PurgeQueue": true, "ListQueueTags": true}

// AddPermission adds a statement to the queue's Policy.
func (s *Service) AddPermission(ctx context.Context, name, label string, accounts, actions []string) error {
	const op = "sqs.AddPermission"
	q, err := s.get(op, name)
	if err != nil {
		return err
	}
	switch {
	case label == "":
		return Fail(op, CodeMissingParameter, "The request must contain the parameter Label.")
	case len(accounts) == 0:
		return Fail(op, CodeMissingParameter, "The request must contain the parameter AWSAccountIds.")
	case len(actions) == 0:
		return Fail(op, CodeMissingParameter, "The request must contain the parameter Actions.")
	}
	if len(label) > 80 || !validQueueName(label, false) {
		return invalidParam(op, "Value %s for parameter Label is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.", label)
	}
	if len(actions) > 7 {
		return Fail(op, CodeOverLimit, "%d Actions were found, maximum allowed is 7.", len(actions))
	}
	var acts []string
	for _, a := range actions {
		if !permissionActions[a] {
			return invalidParam(op, "Value SQS:%s for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions.", a)
		}
		acts = append(acts, "SQS:"+a)
	}
	var principals []string
	for _, a := range accounts {
		principals = append(principals, "arn:aws:iam::"+a+":root")
	}
	q.mu.Lock()
	pol := q.attrs.Policy
	q.mu.Unlock()
	var doc policyDoc
	if pol != "" {
		json.Unmarshal([]byte(pol), &doc)
	}
	if doc.Version == "" {
		doc.Version = "2012-10-17"
		doc.ID = s.ARN(name) + "/SQSDefaultPolicy"
	}
	for _, raw := range doc.Statement {
		var st policyStatement
		if json.Unmarshal(raw, &st) == nil && st.Sid == label {
			return invalidParam(op, "Value %s for parameter Label is invalid. Reason: Already exists.", label)
		}
	}
	var pr any = principals
	if len(principals) == 1 {
		pr = principals[0]
	}
	var ac any = acts
	if len(acts) == 1 {
		ac = acts[0]
	}
	st, _ := json.Marshal(policyStatement{Sid: label, Effect: "Allow", Principal: map[string]any{"AWS": pr}, Action: ac, Resource: s.ARN(name)})
	doc.Statement = append(doc.Statement, st)
	b, _ := json.Marshal(doc)
	return s.updateQueue(ctx, op, q, func(r *queueRec) { r.Attrs.Policy = string(b) })
}

// RemovePermission removes the statement with label from the Policy.
func (s *Service) RemovePermission(ctx context.Context, name, label string) error {
	const op = "sqs.RemovePermission"
	q, err := s.get(op, name)
	if err != nil {
		return err
	}
	if label == "" {
		return Fail(op, CodeMissingParameter, "The request must contain the parameter Label.")
	}
	q.mu.Lock()
	pol := q.attrs.Policy
	q.mu.Unlock()
	var doc policyDoc
	if pol != "" {
		json.Unmarshal([]byte(pol), &doc)
	}
	found := false
	var keep []json.RawMessage
	for _, raw := range doc.Statement {
		var st policyStatement
		if json.Unmarshal(raw, &st) == nil && st.Sid == label {
			found = true
			continue
		}
		keep = append(keep, raw)
	}
	if !found {
		return invalidParam(op, "Value %s for parameter Label is invalid. Reason: can't find label on existing policy.", label)
	}
	newPol := ""
	if len(keep) > 0 {
		doc.Statement = keep
		b, _ := json.Marshal(doc)
		newPol = string(b)
	}
	return s.updateQueue(ctx, op, q, func(r *queueRec) { r.Attrs.Policy = newPol })
}
