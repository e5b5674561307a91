package sqs

import (
	"container/heap"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"skyhub/internal/kv"
)

// message is one message, in memory and (as JSON) in the store under
// sqs/m/<queue id>/<seq>. Times are Unix nanoseconds.
type message struct {
	Seq       uint64                      `json:"-"`
	ID        string                      `json:"i"`
	Body      string                      `json:"b"`
	Attrs     map[string]MessageAttribute `json:"a,omitempty"`
	Sys       map[string]MessageAttribute `json:"s,omitempty"`
	MD5Body   string                      `json:"mb"`
	MD5Attrs  string                      `json:"ma,omitempty"`
	MD5Sys    string                      `json:"ms,omitempty"`
	Sent      int64                       `json:"t"`
	FirstRecv int64                       `json:"f,omitempty"`
	Recv      int                         `json:"r,omitempty"`
	Visible   int64                       `json:"v"`
	Nonce     uint64                      `json:"n,omitempty"`
	Group     string                      `json:"g,omitempty"`
	Dedup     string                      `json:"d,omitempty"`
	Sender    string                      `json:"sid,omitempty"`
	DLQSource string                      `json:"src,omitempty"`

	gone     bool // removed from its queue (memory only)
	hasState bool // a receive-state record exists in the store
}

func (m *message) encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

// The receive state (visible-at, receive count, first receive, receipt
// nonce) changes on every receive; it is stored apart from the immutable
// message record (sqs/s/<queue id>/<seq>, 28 bytes) so a receive never
// rewrites the body.
const stateLen = 8 + 8 + 8 + 4

func (m *message) encodeState() []byte {
	b := make([]byte, stateLen)
	binary.BigEndian.PutUint64(b[0:], uint64(m.Visible))
	binary.BigEndian.PutUint64(b[8:], uint64(m.FirstRecv))
	binary.BigEndian.PutUint64(b[16:], m.Nonce)
	binary.BigEndian.PutUint32(b[24:], uint32(m.Recv))
	return b
}

func (m *message) decodeState(b []byte) bool {
	if len(b) != stateLen {
		return false
	}
	m.Visible = int64(binary.BigEndian.Uint64(b[0:]))
	m.FirstRecv = int64(binary.BigEndian.Uint64(b[8:]))
	m.Nonce = binary.BigEndian.Uint64(b[16:])
	m.Recv = int(binary.BigEndian.Uint32(b[24:]))
	m.hasState = true
	return true
}

// SendInput is one message to send.
type SendInput struct {
	Body string
	// DelaySeconds overrides the queue's delay (standard queues only).
	DelaySeconds *int
	Attributes   map[string]MessageAttribute
	// SystemAttributes: only AWSTraceHeader (String) exists.
	SystemAttributes map[string]MessageAttribute
	GroupID          string
	DeduplicationID  string
	// SenderID is reported as the SenderId attribute (the caller's key).
	SenderID string
}

// SendResult is what SendMessage reports for one message.
type SendResult struct {
	MessageID        string
	MD5OfBody        string
	MD5OfAttributes  string
	MD5OfSystemAttrs string
	SequenceNumber   string // FIFO only
}

// Message is a received message.
type Message struct {
	MessageID         string
	ReceiptHandle     string
	MD5OfBody         string
	Body              string
	Attributes        map[string]string
	MD5OfAttributes   string
	MessageAttributes map[string]MessageAttribute
}

// ReceiveInput configures a receive.
type ReceiveInput struct {
	MaxNumberOfMessages int  // 0 means 1
	VisibilityTimeout   *int // nil: the queue's
	WaitTimeSeconds     *int // nil: the queue's ReceiveMessageWaitTimeSeconds
	// AttributeNames are the system attributes to return ("All" for all).
	AttributeNames []string
	// MessageAttributeNames selects message attributes: "All", ".*",
	// "prefix.*" or exact names.
	MessageAttributeNames   []string
	ReceiveRequestAttemptID string
}

// MessageSystemAttributeNames are the message attributes ReceiveMessage
// can return.
var MessageSystemAttributeNames = []string{"All", "SenderId", "SentTimestamp", "ApproximateReceiveCount",
	"ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageDeduplicationId", "MessageGroupId",
	"AWSTraceHeader", "DeadLetterQueueSourceArn"}

// ---- validation ----

func validMessageAttrName(n string) bool {
	if n == "" || len(n) > 256 || n[0] == '.' || n[len(n)-1] == '.' || strings.Contains(n, "..") {
		return false
	}
	l := strings.ToLower(n)
	if strings.HasPrefix(l, "aws.") || strings.HasPrefix(l, "amazon.") {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ValidateAttributes checks message attributes as SQS does and returns
// their size.
func ValidateAttributes(op string, attrs map[string]MessageAttribute, system bool) (int, error) {
	kind := "message (user)"
	if system {
		kind = "message system"
	}
	if len(attrs) > 10 {
		return 0, invalidParam(op, "Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	size := 0
	for _, n := range sortedAttrNames(attrs) {
		a := attrs[n]
		if system {
			if n != "AWSTraceHeader" {
				return 0, invalidParam(op, "Message system attribute name '%s' is invalid.", n)
			}
		} else if n == "" {
			return 0, invalidParam(op, "The request must contain non-empty message attribute name.")
		} else if !validMessageAttrName(n) {
			return 0, invalidParam(op, "Message (user) attribute name '%s' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters.", n)
		}
		if a.DataType == "" {
			return 0, invalidParam(op, "The message attribute '%s' must contain non-empty message attribute type.", n)
		}
		if len(a.DataType) > 256 {
			return 0, invalidParam(op, "Message attribute '%s' has a type name longer than 256 characters.", n)
		}
		switch baseType(a.DataType) {
		case "String", "Number":
			if a.StringValue == "" {
				return 0, invalidParam(op, "The message attribute '%s' with type '%s' must use field 'String'.", n, baseType(a.DataType))
			}
			if !validBodyChars(a.StringValue) {
				return 0, invalidParam(op, "The message attribute '%s' contains invalid characters.", n)
			}
			if baseType(a.DataType) == "Number" {
				if _, err := strconv.ParseFloat(strings.TrimSpace(a.StringValue), 64); err != nil {
					return 0, invalidParam(op, "Can't cast the value of %s attribute '%s' to a number.", kind, n)
				}
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return 0, invalidParam(op, "The message attribute '%s' with type 'Binary' must use field 'Binary'.", n)
			}
		default:
			return 0, invalidParam(op, "The type of %s attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", kind, n)
		}
		if system && a.DataType != "String" {
			return 0, invalidParam(op, "The message system attribute '%s' must be of type String.", n)
		}
		size += a.size(n)
	}
	return size, nil
}

func sortedAttrNames(m map[string]MessageAttribute) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

func validDedupToken(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// checkSend validates one message against the queue's settings.
func checkSend(op string, in *SendInput, a Attrs, fifo bool) error {
	if in.Body == "" {
		return Fail(op, CodeMissingParameter, "The request must contain the parameter MessageBody.")
	}
	if !validBodyChars(in.Body) {
		return Fail(op, CodeInvalidMessageContents, "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	asize, err := ValidateAttributes(op, in.Attributes, false)
	if err != nil {
		return err
	}
	if _, err := ValidateAttributes(op, in.SystemAttributes, true); err != nil {
		return err
	}
	if len(in.Body)+asize > a.MaximumMessageSize {
		return invalidParam(op, "One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", a.MaximumMessageSize)
	}
	if in.DelaySeconds != nil {
		if d := *in.DelaySeconds; d < 0 || d > 900 {
			return invalidParam(op, "Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", d)
		}
	}
	if fifo {
		if in.DelaySeconds != nil && *in.DelaySeconds != 0 {
			return invalidParam(op, "Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *in.DelaySeconds)
		}
		if in.GroupID == "" {
			return Fail(op, CodeMissingParameter, "The request must contain the parameter MessageGroupId.")
		}
		if !validDedupToken(in.GroupID) {
			return invalidParam(op, "Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", in.GroupID)
		}
		if in.DeduplicationID == "" && !a.ContentBasedDeduplication {
			return invalidParam(op, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		if !validDedupToken(in.DeduplicationID) {
			return invalidParam(op, "Value %s for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.", in.DeduplicationID)
		}
	} else {
		if in.DeduplicationID != "" {
			return invalidParam(op, "The request include parameter MessageDeduplicationId that is not valid for this queue type")
		}
		if in.GroupID != "" && !validDedupToken(in.GroupID) {
			return invalidParam(op, "Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", in.GroupID)
		}
	}
	return nil
}

// ---- send ----

// SendMessage sends one message and returns once it is durable.
func (s *Service) SendMessage(ctx context.Context, name string, in SendInput) (SendResult, error) {
	res, errsOut, err := s.SendMessages(ctx, name, []SendInput{in})
	if err != nil {
		return SendResult{}, err
	}
	if errsOut[0] != nil {
		return SendResult{}, errsOut[0]
	}
	return res[0], nil
}

// SendMessages sends several messages with one durable write. Per-message
// validation failures are reported in the errors slice (same index); err
// is a whole-request failure (unknown queue, storage error).
func (s *Service) SendMessages(ctx context.Context, name string, ins []SendInput) ([]SendResult, []error, error) {
	const op = "sqs.SendMessage"
	q, err := s.get(op, name)
	if err != nil {
		return nil, nil, err
	}
	results := make([]SendResult, len(ins))
	failures := make([]error, len(ins))
	msgs := make([]*message, len(ins))
	var ops []kv.Op
	var dedupAdded []string
	if q.fifo {
		q.sendMu.Lock()
		defer q.sendMu.Unlock()
	}
	now := s.now()
	nowNs := now.UnixNano()

	q.mu.Lock()
	a := q.attrs
	for i := range ins {
		in := &ins[i]
		if err := checkSend(op, in, a, q.fifo); err != nil {
			failures[i] = err
			continue
		}
		m := &message{ID: newID(), Body: in.Body, Attrs: in.Attributes, Sys: in.SystemAttributes,
			MD5Body: MD5OfBody(in.Body), MD5Attrs: MD5OfAttributes(in.Attributes),
			MD5Sys: MD5OfAttributes(in.SystemAttributes), Sent: nowNs, Group: in.GroupID, Sender: in.SenderID}
		if len(m.Attrs) == 0 {
			m.Attrs = nil
		}
		if len(m.Sys) == 0 {
			m.Sys = nil
		}
		delay := a.DelaySeconds
		if in.DelaySeconds != nil {
			delay = *in.DelaySeconds
		}
		m.Visible = nowNs + int64(delay)*int64(time.Second)
		if q.fifo {
			d := in.DeduplicationID
			if d == "" {
				sum := sha256.Sum256([]byte(in.Body))
				d = hex.EncodeToString(sum[:])
			}
			m.Dedup = d
			dk := d
			if a.DeduplicationScope == "messageGroup" {
				dk = in.GroupID + "\x00" + d
			}
			if e, ok := q.dedup[dk]; ok && now.Before(e.Expires) {
				results[i] = SendResult{MessageID: e.MessageID, MD5OfBody: m.MD5Body, MD5OfAttributes: m.MD5Attrs,
					MD5OfSystemAttrs: m.MD5Sys, SequenceNumber: e.SeqNum}
				continue
			}
			m.Seq = q.nextSeqLocked(now)
			e := dedupEntry{MessageID: m.ID, SeqNum: strconv.FormatUint(m.Seq, 10), Expires: now.Add(5 * time.Minute)}
			q.dedup[dk] = e
			dedupAdded = append(dedupAdded, dk)
			b, _ := json.Marshal(e)
			ops = append(ops, kv.Set(dedupKey(q.id, dk), b))
		} else {
			m.Seq = q.nextSeqLocked(now)
		}
		msgs[i] = m
		results[i] = SendResult{MessageID: m.ID, MD5OfBody: m.MD5Body, MD5OfAttributes: m.MD5Attrs, MD5OfSystemAttrs: m.MD5Sys}
		if q.fifo {
			results[i].SequenceNumber = strconv.FormatUint(m.Seq, 10)
		}
		ops = append(ops, kv.Set(msgKey(q.id, m.Seq), m.encode()))
	}
	q.mu.Unlock()
	if len(ops) == 0 {
		return results, failures, nil
	}
	if err := s.st.Write(ctx, ops...); err != nil {
		q.mu.Lock()
		for _, dk := range dedupAdded {
			delete(q.dedup, dk)
		}
		q.mu.Unlock()
		return nil, nil, internalErr(op, err)
	}
	q.mu.Lock()
	for _, m := range msgs {
		if m != nil && !q.deletedLocked() {
			q.insertLocked(m)
		}
	}
	q.wakeLocked()
	q.mu.Unlock()
	return results, failures, nil
}

// deletedLocked reports whether the queue was deleted (or recreated).
func (q *queue) deletedLocked() bool { return q.gone }

// ---- receive ----

type received struct {
	m    *message
	snap Message
}

func newNonce() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) | 1
}

// receiptHandle encodes queue id, sequence and nonce.
func receiptHandle(qid, seq, nonce uint64) string {
	var b [25]byte
	b[0] = 1
	binary.BigEndian.PutUint64(b[1:], qid)
	binary.BigEndian.PutUint64(b[9:], seq)
	binary.BigEndian.PutUint64(b[17:], nonce)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func parseReceiptHandle(h string) (qid, seq, nonce uint64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || len(b) != 25 || b[0] != 1 {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint64(b[1:]), binary.BigEndian.Uint64(b[9:]), binary.BigEndian.Uint64(b[17:]), true
}

func wantsAttr(names []string, n string) bool {
	for _, x := range names {
		if x == "All" || x == n {
			return true
		}
	}
	return false
}

func selectMessageAttrs(attrs map[string]MessageAttribute, names []string) map[string]MessageAttribute {
	if len(attrs) == 0 || len(names) == 0 {
		return nil
	}
	out := map[string]MessageAttribute{}
	for n, a := range attrs {
		for _, w := range names {
			if w == "All" || w == ".*" || w == n || strings.HasSuffix(w, ".*") && strings.HasPrefix(n, strings.TrimSuffix(w, "*")) {
				out[n] = a
				break
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (s *Service) snapshot(q *queue, m *message, in *ReceiveInput) Message {
	out := Message{MessageID: m.ID, ReceiptHandle: receiptHandle(q.id, m.Seq, m.Nonce), MD5OfBody: m.MD5Body, Body: m.Body}
	if len(in.AttributeNames) > 0 {
		at := map[string]string{}
		add := func(n, v string) {
			if wantsAttr(in.AttributeNames, n) {
				at[n] = v
			}
		}
		sender := m.Sender
		if sender == "" {
			sender = s.cfg.AccountID
		}
		add("SenderId", sender)
		add("SentTimestamp", strconv.FormatInt(m.Sent/int64(time.Millisecond), 10))
		add("ApproximateReceiveCount", strconv.Itoa(m.Recv))
		add("ApproximateFirstReceiveTimestamp", strconv.FormatInt(m.FirstRecv/int64(time.Millisecond), 10))
		if q.fifo {
			add("SequenceNumber", strconv.FormatUint(m.Seq, 10))
			add("MessageDeduplicationId", m.Dedup)
		}
		if m.Group != "" {
			add("MessageGroupId", m.Group)
		}
		if t, ok := m.Sys["AWSTraceHeader"]; ok {
			add("AWSTraceHeader", t.StringValue)
		}
		if m.DLQSource != "" {
			add("DeadLetterQueueSourceArn", m.DLQSource)
		}
		if len(at) > 0 {
			out.Attributes = at
		}
	}
	out.MessageAttributes = selectMessageAttrs(m.Attrs, in.MessageAttributeNames)
	if out.MessageAttributes != nil {
		out.MD5OfAttributes = MD5OfAttributes(out.MessageAttributes)
	}
	return out
}

func checkReceive(op string, in *ReceiveInput) error {
	if in.MaxNumberOfMessages == 0 {
		in.MaxNumberOfMessages = 1
	}
	if n := in.MaxNumberOfMessages; n < 1 || n > 10 {
		return invalidParam(op, "Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", n)
	}
	if in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200) {
		return invalidParam(op, "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", *in.VisibilityTimeout)
	}
	if in.WaitTimeSeconds != nil && (*in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > 20) {
		return invalidParam(op, "Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
	}
	for _, n := range in.AttributeNames {
		ok := false
		for _, k := range MessageSystemAttributeNames {
			if k == n {
				ok = true
			}
		}
		for _, k := range AttributeNames {
			if k == n {
				ok = true
			}
		}
		if !ok {
			return Fail(op, CodeInvalidAttributeName, "Unknown Attribute %s.", n)
		}
	}
	return nil
}

// ReceiveMessage returns up to MaxNumberOfMessages messages, waiting up
// to WaitTimeSeconds for the first one (woken by sends). The messages'
// new visibility state is durable before they are returned.
func (s *Service) ReceiveMessage(ctx context.Context, name string, in ReceiveInput) ([]Message, error) {
	const op = "sqs.ReceiveMessage"
	if err := checkReceive(op, &in); err != nil {
		return nil, err
	}
	q, err := s.get(op, name)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	wait := q.attrs.ReceiveMessageWaitTimeSeconds
	q.mu.Unlock()
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
	}
	waitDur := min(time.Duration(wait)*time.Second, s.cfg.MaxWait)
	deadline := time.Now().Add(waitDur)
	for {
		out, next, wake, err := s.receiveOnce(ctx, q, &in)
		if err != nil || len(out) > 0 || waitDur <= 0 {
			return out, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if next > 0 && next < left {
			left = next
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-s.ctx.Done():
			t.Stop()
			return nil, nil
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		if _, err := s.get(op, name); err != nil {
			return nil, err
		}
	}
}

// replayLocked answers a retried FIFO receive (same ReceiveRequestAttemptId
// within 5 minutes) with the same messages and receipt handles, if they are
// all still in flight from that receive.
func (s *Service) replayLocked(q *queue, in *ReceiveInput, nowNs int64) ([]Message, bool) {
	a, ok := q.attempts[in.ReceiveRequestAttemptID]
	if !ok || a.expires <= nowNs {
		return nil, false
	}
	out := make([]Message, 0, len(a.seqs))
	for i, seq := range a.seqs {
		m := q.msgs[seq]
		if m == nil || m.Nonce != a.nonces[i] || m.Visible <= nowNs {
			delete(q.attempts, in.ReceiveRequestAttemptID)
			return nil, false
		}
		out = append(out, s.snapshot(q, m, in))
	}
	return out, true
}

type dlqMove struct {
	m      *message
	target string
}

// receiveOnce takes what is available now. next is how long until
// something may become visible (0: unknown); wake fires on the next send.
func (s *Service) receiveOnce(ctx context.Context, q *queue, in *ReceiveInput) ([]Message, time.Duration, <-chan struct{}, error) {
	const op = "sqs.ReceiveMessage"
	now := s.now()
	nowNs := now.UnixNano()
	var picked []received
	var ops []kv.Op
	var moves []dlqMove
	var next int64

	q.mu.Lock()
	vt := q.attrs.VisibilityTimeout
	if in.VisibilityTimeout != nil {
		vt = *in.VisibilityTimeout
	}
	ret := int64(q.attrs.MessageRetentionPeriod) * int64(time.Second)
	rd := q.redrive
	if q.fifo && in.ReceiveRequestAttemptID != "" {
		if out, ok := s.replayLocked(q, in, nowNs); ok {
			q.mu.Unlock()
			return out, 0, nil, nil
		}
	}
	take := func(m *message) bool {
		if nowNs-m.Sent >= ret {
			q.removeLocked(m)
			ops = append(ops, delMsgOps(q.id, m)...)
			return false
		}
		if rd != nil && m.Recv >= rd.Max {
			q.removeLocked(m)
			moves = append(moves, dlqMove{m: m, target: rd.Target})
			return false
		}
		m.Recv++
		if m.FirstRecv == 0 {
			m.FirstRecv = nowNs
		}
		m.Visible = nowNs + int64(vt)*int64(time.Second)
		m.Nonce = newNonce()
		picked = append(picked, received{m: m, snap: s.snapshot(q, m, in)})
		m.hasState = true
		ops = append(ops, kv.Set(stateKey(q.id, m.Seq), m.encodeState()))
		return true
	}
	if q.fifo {
		blocked := map[string]bool{}
		for _, m := range q.order {
			if len(picked) >= in.MaxNumberOfMessages {
				break
			}
			if m.gone || blocked[m.Group] {
				continue
			}
			if m.Visible > nowNs {
				blocked[m.Group] = true
				if next == 0 || m.Visible-nowNs < next {
					next = m.Visible - nowNs
				}
				continue
			}
			take(m)
		}
	} else {
		for len(picked) < in.MaxNumberOfMessages && q.vis.Len() > 0 {
			e := q.vis[0]
			if e.stale() {
				heap.Pop(&q.vis)
				continue
			}
			if e.at > nowNs {
				next = e.at - nowNs
				break
			}
			heap.Pop(&q.vis)
			take(e.m)
		}
		for _, p := range picked {
			heap.Push(&q.vis, visEntry{at: p.m.Visible, m: p.m})
		}
	}
	if q.fifo && in.ReceiveRequestAttemptID != "" && len(picked) > 0 {
		a := attempt{expires: nowNs + int64(5*time.Minute)}
		for _, p := range picked {
			a.seqs = append(a.seqs, p.m.Seq)
			a.nonces = append(a.nonces, p.m.Nonce)
		}
		for id, old := range q.attempts {
			if old.expires <= nowNs {
				delete(q.attempts, id)
			}
		}
		q.attempts[in.ReceiveRequestAttemptID] = a
	}
	wake := q.wake
	q.mu.Unlock()

	if len(moves) > 0 {
		mops, after := s.prepareMoves(q, moves, now)
		ops = append(ops, mops...)
		defer after()
	}
	if len(ops) > 0 {
		if err := s.st.Write(ctx, ops...); err != nil {
			return nil, 0, nil, internalErr(op, err)
		}
	}
	out := make([]Message, len(picked))
	for i, p := range picked {
		out[i] = p.snap
	}
	if len(moves) > 0 && len(out) == 0 {
		// Moving to the dead-letter queue may have uncovered more messages.
		next = 1
	}
	return out, time.Duration(next), wake, nil
}

// prepareMoves builds the store ops that add moved messages to their
// dead-letter queues; after() installs them in memory (call it once the
// write is durable). Messages whose target is gone stay where they were.
func (s *Service) prepareMoves(src *queue, moves []dlqMove, now time.Time) ([]kv.Op, func()) {
	var ops []kv.Op
	type inst struct {
		q *queue
		m *message
	}
	var installs []inst
	for _, mv := range moves {
		ops = append(ops, delMsgOps(src.id, mv.m)...)
		tname, _ := s.NameFromARN(mv.target)
		s.mu.RLock()
		t := s.queues[tname]
		s.mu.RUnlock()
		if t == nil {
			// The dead-letter queue is gone: the message is dropped, as
			// AWS does when the target no longer exists.
			continue
		}
		nm := *mv.m
		nm.gone, nm.hasState = false, false
		nm.Recv, nm.FirstRecv, nm.Nonce = 0, 0, 0
		nm.Visible = now.UnixNano()
		nm.DLQSource = s.ARN(src.name)
		t.mu.Lock()
		nm.Seq = t.nextSeqLocked(now)
		t.mu.Unlock()
		ops = append(ops, kv.Set(msgKey(t.id, nm.Seq), nm.encode()))
		installs = append(installs, inst{t, &nm})
	}
	return ops, func() {
		for _, in := range installs {
			in.q.mu.Lock()
			if !in.q.gone {
				in.q.insertLocked(in.m)
				in.q.wakeLocked()
			}
			in.q.mu.Unlock()
		}
	}
}

// ---- delete and visibility ----

// HandleEntry is one entry of a delete or visibility batch.
type HandleEntry struct {
	ReceiptHandle     string
	VisibilityTimeout int
}

func invalidHandle(op, h string) error {
	return Fail(op, CodeReceiptHandleIsInvalid, "The input receipt handle \"%s\" is not a valid receipt handle.", h)
}

// DeleteMessage deletes the message a receipt handle names.
func (s *Service) DeleteMessage(ctx context.Context, name, handle string) error {
	errsOut, err := s.DeleteMessages(ctx, name, []string{handle})
	if err != nil {
		return err
	}
	return errsOut[0]
}

// DeleteMessages deletes several messages with one durable write.
func (s *Service) DeleteMessages(ctx context.Context, name string, handles []string) ([]error, error) {
	const op = "sqs.DeleteMessage"
	q, err := s.get(op, name)
	if err != nil {
		return nil, err
	}
	failures := make([]error, len(handles))
	var ops []kv.Op
	q.mu.Lock()
	for i, h := range handles {
		if h == "" {
			failures[i] = Fail(op, CodeMissingParameter, "The request must contain the parameter ReceiptHandle.")
			continue
		}
		qid, seq, _, ok := parseReceiptHandle(h)
		if !ok || qid != q.id {
			failures[i] = invalidHandle(op, h)
			continue
		}
		if m := q.msgs[seq]; m != nil {
			q.removeLocked(m)
			ops = append(ops, delMsgOps(q.id, m)...)
		}
	}
	q.mu.Unlock()
	if len(ops) > 0 {
		if err := s.st.Write(ctx, ops...); err != nil {
			return nil, internalErr(op, err)
		}
	}
	return failures, nil
}

// ChangeMessageVisibility makes an in-flight message visible again after
// timeout seconds from now.
func (s *Service) ChangeMessageVisibility(ctx context.Context, name, handle string, timeout int) error {
	errsOut, err := s.ChangeMessageVisibilities(ctx, name, []HandleEntry{{handle, timeout}})
	if err != nil {
		return err
	}
	return errsOut[0]
}

// ChangeMessageVisibilities changes several messages with one durable write.
func (s *Service) ChangeMessageVisibilities(ctx context.Context, name string, entries []HandleEntry) ([]error, error) {
	const op = "sqs.ChangeMessageVisibility"
	q, err := s.get(op, name)
	if err != nil {
		return nil, err
	}
	failures := make([]error, len(entries))
	var ops []kv.Op
	now := s.now().UnixNano()
	q.mu.Lock()
	changed := false
	for i, e := range entries {
		if e.ReceiptHandle == "" {
			failures[i] = Fail(op, CodeMissingParameter, "The request must contain the parameter ReceiptHandle.")
			continue
		}
		if e.VisibilityTimeout < 0 || e.VisibilityTimeout > 43200 {
			failures[i] = invalidParam(op, "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", e.VisibilityTimeout)
			continue
		}
		qid, seq, _, ok := parseReceiptHandle(e.ReceiptHandle)
		if !ok || qid != q.id {
			failures[i] = invalidHandle(op, e.ReceiptHandle)
			continue
		}
		m := q.msgs[seq]
		if m == nil {
			failures[i] = invalidHandle(op, e.ReceiptHandle)
			continue
		}
		if m.Recv == 0 || m.Visible <= now {
			failures[i] = Fail(op, CodeMessageNotInflight, "Message does not exist or is not available for visibility timeout change.")
			continue
		}
		m.Visible = now + int64(e.VisibilityTimeout)*int64(time.Second)
		if !q.fifo {
			heap.Push(&q.vis, visEntry{at: m.Visible, m: m})
		}
		changed = true
		m.hasState = true
		ops = append(ops, kv.Set(stateKey(q.id, seq), m.encodeState()))
	}
	if changed {
		q.wakeLocked()
	}
	q.mu.Unlock()
	if len(ops) > 0 {
		if err := s.st.Write(ctx, ops...); err != nil {
			return nil, internalErr(op, err)
		}
	}
	return failures, nil
}
