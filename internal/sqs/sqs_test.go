package sqs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"skyhub/internal/kv"
	"skyhub/internal/kv/pebblekv"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newStore(t *testing.T) kv.Store {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newSvc(t *testing.T, st kv.Store, clk *clock) *Service {
	t.Helper()
	cfg := Config{Store: st}
	if clk != nil {
		cfg.Now = clk.Now
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantCode(t *testing.T, err error, c *Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got nil", c.Type)
	}
	var got *Code
	if !errors.As(err, &got) || got != c {
		t.Fatalf("want %s, got %v", c.Type, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func ip(n int) *int { return &n }

func TestQueueLifecycle(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "q1", map[string]string{"VisibilityTimeout": "10"}, map[string]string{"env": "dev"}))
	must(t, s.CreateQueue(ctx, "q1", map[string]string{"VisibilityTimeout": "10"}, nil)) // idempotent
	wantCode(t, s.CreateQueue(ctx, "q1", map[string]string{"VisibilityTimeout": "11"}, nil), CodeQueueNameExists)
	wantCode(t, s.CreateQueue(ctx, "bad name", nil, nil), CodeInvalidParameterValue)
	wantCode(t, s.CreateQueue(ctx, strings.Repeat("a", 81), nil, nil), CodeInvalidParameterValue)
	wantCode(t, s.CreateQueue(ctx, "q2", map[string]string{"Nope": "1"}, nil), CodeInvalidAttributeName)
	wantCode(t, s.CreateQueue(ctx, "q2", map[string]string{"DelaySeconds": "901"}, nil), CodeInvalidAttributeValue)
	wantCode(t, s.CreateQueue(ctx, "q2", map[string]string{"FifoQueue": "true"}, nil), CodeInvalidParameterValue)
	wantCode(t, s.CreateQueue(ctx, "q2.fifo", nil, nil), CodeInvalidParameterValue)
	must(t, s.CreateQueue(ctx, "q2.fifo", map[string]string{"FifoQueue": "true"}, nil))

	if got := s.QueueNames("q"); len(got) != 2 || got[0] != "q1" || got[1] != "q2.fifo" {
		t.Fatalf("names = %v", got)
	}
	attrs, err := s.GetQueueAttributes(ctx, "q1", []string{"All"})
	must(t, err)
	if attrs["VisibilityTimeout"] != "10" || attrs["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:q1" ||
		attrs["MaximumMessageSize"] != "262144" || attrs["MessageRetentionPeriod"] != "345600" || attrs["FifoQueue"] != "" {
		t.Fatalf("attrs = %v", attrs)
	}
	_, err = s.GetQueueAttributes(ctx, "q1", []string{"Bogus"})
	wantCode(t, err, CodeInvalidAttributeName)
	must(t, s.SetQueueAttributes(ctx, "q1", map[string]string{"DelaySeconds": "5"}))
	attrs, _ = s.GetQueueAttributes(ctx, "q1", []string{"DelaySeconds"})
	if attrs["DelaySeconds"] != "5" || len(attrs) != 1 {
		t.Fatalf("attrs = %v", attrs)
	}
	wantCode(t, s.SetQueueAttributes(ctx, "q1", map[string]string{"FifoQueue": "true"}), CodeInvalidAttributeName)

	must(t, s.TagQueue(ctx, "q1", map[string]string{"team": "a"}))
	must(t, s.UntagQueue(ctx, "q1", []string{"env"}))
	tags, _ := s.ListQueueTags(ctx, "q1")
	if len(tags) != 1 || tags["team"] != "a" {
		t.Fatalf("tags = %v", tags)
	}

	must(t, s.AddPermission(ctx, "q1", "p1", []string{"111122223333"}, []string{"SendMessage"}))
	attrs, _ = s.GetQueueAttributes(ctx, "q1", []string{"Policy"})
	if !strings.Contains(attrs["Policy"], `"Sid":"p1"`) || !strings.Contains(attrs["Policy"], "SQS:SendMessage") {
		t.Fatalf("policy = %s", attrs["Policy"])
	}
	wantCode(t, s.AddPermission(ctx, "q1", "p1", []string{"1"}, []string{"SendMessage"}), CodeInvalidParameterValue)
	must(t, s.RemovePermission(ctx, "q1", "p1"))
	wantCode(t, s.RemovePermission(ctx, "q1", "p1"), CodeInvalidParameterValue)

	must(t, s.DeleteQueue(ctx, "q1"))
	wantCode(t, s.DeleteQueue(ctx, "q1"), CodeQueueDoesNotExist)
	_, err = s.SendMessage(ctx, "q1", SendInput{Body: "x"})
	wantCode(t, err, CodeQueueDoesNotExist)
	wantCode(t, s.CreateQueue(ctx, "q1", nil, nil), CodeQueueDeletedRecently)
	clk.Add(61 * time.Second)
	must(t, s.CreateQueue(ctx, "q1", nil, nil))
}

func TestSendReceiveVisibility(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "q", map[string]string{"VisibilityTimeout": "30"}, nil))
	res, err := s.SendMessage(ctx, "q", SendInput{Body: "hello", Attributes: map[string]MessageAttribute{
		"geo.city": {DataType: "String", StringValue: "Berlin"}, "n": {DataType: "Number", StringValue: "42"},
		"bin": {DataType: "Binary", BinaryValue: []byte{0, 1, 2}}}})
	must(t, err)
	if res.MD5OfBody != "5d41402abc4b2a76b9719d911017c592" || len(res.MD5OfAttributes) != 32 || res.MessageID == "" {
		t.Fatalf("send = %+v", res)
	}
	ms, err := s.ReceiveMessage(ctx, "q", ReceiveInput{AttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
	must(t, err)
	if len(ms) != 1 || ms[0].Body != "hello" || ms[0].MessageID != res.MessageID || ms[0].MD5OfAttributes != res.MD5OfAttributes ||
		ms[0].Attributes["ApproximateReceiveCount"] != "1" || len(ms[0].MessageAttributes) != 3 {
		t.Fatalf("receive = %+v", ms)
	}
	// In flight: invisible until the timeout.
	if ms2, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{}); len(ms2) != 0 {
		t.Fatal("in-flight message was received again")
	}
	attrs, _ := s.GetQueueAttributes(ctx, "q", []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
	if attrs["ApproximateNumberOfMessages"] != "0" || attrs["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Fatalf("counts = %v", attrs)
	}
	clk.Add(31 * time.Second)
	ms2, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{AttributeNames: []string{"ApproximateReceiveCount"}, MessageAttributeNames: []string{"geo.*"}})
	if len(ms2) != 1 || ms2[0].Attributes["ApproximateReceiveCount"] != "2" || ms2[0].ReceiptHandle == ms[0].ReceiptHandle ||
		len(ms2[0].MessageAttributes) != 1 || ms2[0].MessageAttributes["geo.city"].StringValue != "Berlin" {
		t.Fatalf("second receive = %+v", ms2)
	}
	// ChangeMessageVisibility to 0 makes it visible now.
	must(t, s.ChangeMessageVisibility(ctx, "q", ms2[0].ReceiptHandle, 0))
	wantCode(t, s.ChangeMessageVisibility(ctx, "q", ms2[0].ReceiptHandle, 10), CodeMessageNotInflight)
	wantCode(t, s.ChangeMessageVisibility(ctx, "q", "garbage", 10), CodeReceiptHandleIsInvalid)
	ms3, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{})
	if len(ms3) != 1 {
		t.Fatal("visibility 0 did not make the message visible")
	}
	wantCode(t, s.DeleteMessage(ctx, "q", "not-a-handle"), CodeReceiptHandleIsInvalid)
	must(t, s.DeleteMessage(ctx, "q", ms3[0].ReceiptHandle))
	must(t, s.DeleteMessage(ctx, "q", ms3[0].ReceiptHandle)) // already gone: still fine
	clk.Add(time.Hour)
	if ms4, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{}); len(ms4) != 0 {
		t.Fatal("deleted message came back")
	}
}

func TestValidation(t *testing.T) {
	s := newSvc(t, newStore(t), nil)
	must(t, s.CreateQueue(ctx, "q", nil, nil))
	send := func(in SendInput) error { _, err := s.SendMessage(ctx, "q", in); return err }
	wantCode(t, send(SendInput{}), CodeMissingParameter)
	wantCode(t, send(SendInput{Body: "a\x00b"}), CodeInvalidMessageContents)
	wantCode(t, send(SendInput{Body: strings.Repeat("x", 262145)}), CodeInvalidParameterValue)
	must(t, send(SendInput{Body: strings.Repeat("x", 262144)}))
	wantCode(t, send(SendInput{Body: "x", DelaySeconds: ip(901)}), CodeInvalidParameterValue)
	wantCode(t, send(SendInput{Body: "x", DeduplicationID: "d"}), CodeInvalidParameterValue)
	wantCode(t, send(SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "Float", StringValue: "1"}}}), CodeInvalidParameterValue)
	wantCode(t, send(SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "Number", StringValue: "one"}}}), CodeInvalidParameterValue)
	wantCode(t, send(SendInput{Body: "x", Attributes: map[string]MessageAttribute{"AWS.x": {DataType: "String", StringValue: "1"}}}), CodeInvalidParameterValue)
	wantCode(t, send(SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "String"}}}), CodeInvalidParameterValue)
	many := map[string]MessageAttribute{}
	for i := 0; i < 11; i++ {
		many[string(rune('a'+i))] = MessageAttribute{DataType: "String", StringValue: "v"}
	}
	wantCode(t, send(SendInput{Body: "x", Attributes: many}), CodeInvalidParameterValue)
	// Attributes count towards the size limit.
	wantCode(t, send(SendInput{Body: strings.Repeat("x", 262140), Attributes: map[string]MessageAttribute{"a": {DataType: "String", StringValue: "vv"}}}), CodeInvalidParameterValue)
	_, err := s.ReceiveMessage(ctx, "q", ReceiveInput{MaxNumberOfMessages: 11})
	wantCode(t, err, CodeInvalidParameterValue)
	_, err = s.ReceiveMessage(ctx, "q", ReceiveInput{WaitTimeSeconds: ip(21)})
	wantCode(t, err, CodeInvalidParameterValue)
	_, err = s.ReceiveMessage(ctx, "q", ReceiveInput{VisibilityTimeout: ip(43201)})
	wantCode(t, err, CodeInvalidParameterValue)
	must(t, s.SetQueueAttributes(ctx, "q", map[string]string{"MaximumMessageSize": "1048576"}))
	must(t, send(SendInput{Body: strings.Repeat("x", 1048576)}))
	wantCode(t, s.SetQueueAttributes(ctx, "q", map[string]string{"MaximumMessageSize": "1048577"}), CodeInvalidAttributeValue)
}

func TestDelays(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "q", map[string]string{"DelaySeconds": "10"}, nil))
	_, err := s.SendMessage(ctx, "q", SendInput{Body: "queue-delay"})
	must(t, err)
	_, err = s.SendMessage(ctx, "q", SendInput{Body: "msg-delay", DelaySeconds: ip(20)})
	must(t, err)
	_, err = s.SendMessage(ctx, "q", SendInput{Body: "no-delay", DelaySeconds: ip(0)})
	must(t, err)
	body := func() []string {
		ms, err := s.ReceiveMessage(ctx, "q", ReceiveInput{MaxNumberOfMessages: 10})
		must(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, m.Body)
		}
		return out
	}
	attrs, _ := s.GetQueueAttributes(ctx, "q", []string{"ApproximateNumberOfMessagesDelayed"})
	if attrs["ApproximateNumberOfMessagesDelayed"] != "2" {
		t.Fatalf("delayed = %v", attrs)
	}
	if got := body(); len(got) != 1 || got[0] != "no-delay" {
		t.Fatalf("t=0: %v", got)
	}
	clk.Add(11 * time.Second)
	if got := body(); len(got) != 1 || got[0] != "queue-delay" {
		t.Fatalf("t=11: %v", got)
	}
	clk.Add(10 * time.Second)
	if got := body(); len(got) != 1 || got[0] != "msg-delay" {
		t.Fatalf("t=21: %v", got)
	}
}

func TestRetention(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	st := newStore(t)
	s := newSvc(t, st, clk)
	must(t, s.CreateQueue(ctx, "q", map[string]string{"MessageRetentionPeriod": "60"}, nil))
	_, err := s.SendMessage(ctx, "q", SendInput{Body: "old"})
	must(t, err)
	clk.Add(61 * time.Second)
	must(t, s.Sweep(ctx))
	if ms, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{}); len(ms) != 0 {
		t.Fatal("expired message delivered")
	}
	n := 0
	kv.Scan(ctx, st, kv.Prefix([]byte(prefixMsg)), func(k, v []byte) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d expired records left in the store", n)
	}
}

func TestFIFO(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "f.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil))
	send := func(body, group, dedup string) SendResult {
		t.Helper()
		r, err := s.SendMessage(ctx, "f.fifo", SendInput{Body: body, GroupID: group, DeduplicationID: dedup})
		must(t, err)
		return r
	}
	a1 := send("a1", "A", "")
	a2 := send("a2", "A", "")
	send("b1", "B", "")
	if dup := send("a1", "A", ""); dup.MessageID != a1.MessageID || dup.SequenceNumber != a1.SequenceNumber {
		t.Fatalf("content-based duplicate got a new id: %+v vs %+v", dup, a1)
	}
	if a2.SequenceNumber <= a1.SequenceNumber {
		t.Fatalf("sequence numbers not increasing: %s %s", a1.SequenceNumber, a2.SequenceNumber)
	}
	x := send("same body", "C", "explicit-1")
	if y := send("other body", "C", "explicit-1"); y.MessageID != x.MessageID {
		t.Fatal("explicit dedup id not honoured")
	}
	_, err := s.SendMessage(ctx, "f.fifo", SendInput{Body: "x"})
	wantCode(t, err, CodeMissingParameter)
	_, err = s.SendMessage(ctx, "f.fifo", SendInput{Body: "x", GroupID: "A", DelaySeconds: ip(5)})
	wantCode(t, err, CodeInvalidParameterValue)

	// First receive: one message at a time shows group order and blocking.
	ms, err := s.ReceiveMessage(ctx, "f.fifo", ReceiveInput{MaxNumberOfMessages: 1, AttributeNames: []string{"All"}})
	must(t, err)
	if len(ms) != 1 || ms[0].Body != "a1" || ms[0].Attributes["MessageGroupId"] != "A" || ms[0].Attributes["SequenceNumber"] != a1.SequenceNumber {
		t.Fatalf("first = %+v", ms)
	}
	// Group A is blocked while a1 is in flight: the rest come from B and C.
	rest, _ := s.ReceiveMessage(ctx, "f.fifo", ReceiveInput{MaxNumberOfMessages: 10})
	for _, m := range rest {
		if m.Body == "a2" {
			t.Fatal("a2 delivered while a1 in flight")
		}
	}
	if len(rest) != 2 {
		t.Fatalf("rest = %+v", rest)
	}
	must(t, s.DeleteMessage(ctx, "f.fifo", ms[0].ReceiptHandle))
	next, _ := s.ReceiveMessage(ctx, "f.fifo", ReceiveInput{MaxNumberOfMessages: 10})
	if len(next) != 1 || next[0].Body != "a2" {
		t.Fatalf("after delete = %+v", next)
	}
	// The 5-minute window: the same content is accepted as new afterwards.
	clk.Add(6 * time.Minute)
	if again := send("a1", "A", ""); again.MessageID == a1.MessageID {
		t.Fatal("dedup window did not expire")
	}
	// Without content-based dedup an id is required.
	must(t, s.CreateQueue(ctx, "g.fifo", map[string]string{"FifoQueue": "true"}, nil))
	_, err = s.SendMessage(ctx, "g.fifo", SendInput{Body: "x", GroupID: "A"})
	wantCode(t, err, CodeInvalidParameterValue)
}

func TestLongPoll(t *testing.T) {
	s := newSvc(t, newStore(t), nil)
	must(t, s.CreateQueue(ctx, "q", nil, nil))
	got := make(chan []Message, 1)
	go func() {
		ms, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{WaitTimeSeconds: ip(20)})
		got <- ms
	}()
	time.Sleep(50 * time.Millisecond) // let the poll start waiting
	start := time.Now()
	_, err := s.SendMessage(ctx, "q", SendInput{Body: "wake"})
	must(t, err)
	select {
	case ms := <-got:
		if len(ms) != 1 || ms[0].Body != "wake" {
			t.Fatalf("long poll got %+v", ms)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("long poll was not woken by the send")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll not woken")
	}
	// A cancelled context ends the poll.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := s.ReceiveMessage(cctx, "q", ReceiveInput{WaitTimeSeconds: ip(20)})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("poll ignored its context")
	}
}

func TestDeadLetterAndMoveTask(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "dlq", nil, nil))
	dlqARN := s.ARN("dlq")
	wantCode(t, s.CreateQueue(ctx, "src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + s.ARN("nope") + `","maxReceiveCount":2}`}, nil), CodeInvalidParameterValue)
	wantCode(t, s.CreateQueue(ctx, "src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":0}`}, nil), CodeInvalidParameterValue)
	must(t, s.CreateQueue(ctx, "src", map[string]string{"VisibilityTimeout": "1",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"2"}`}, nil))
	srcs, err := s.ListDeadLetterSourceQueues(ctx, "dlq")
	must(t, err)
	if len(srcs) != 1 || srcs[0] != "src" {
		t.Fatalf("sources = %v", srcs)
	}
	sent, err := s.SendMessage(ctx, "src", SendInput{Body: "poison"})
	must(t, err)
	for i := 0; i < 2; i++ {
		ms, _ := s.ReceiveMessage(ctx, "src", ReceiveInput{})
		if len(ms) != 1 {
			t.Fatalf("receive %d: %v", i, ms)
		}
		clk.Add(2 * time.Second)
	}
	if ms, _ := s.ReceiveMessage(ctx, "src", ReceiveInput{}); len(ms) != 0 {
		t.Fatal("message exceeded maxReceiveCount but was delivered")
	}
	ms, _ := s.ReceiveMessage(ctx, "dlq", ReceiveInput{AttributeNames: []string{"DeadLetterQueueSourceArn"}})
	if len(ms) != 1 || ms[0].MessageID != sent.MessageID || ms[0].Attributes["DeadLetterQueueSourceArn"] != s.ARN("src") {
		t.Fatalf("dlq = %+v", ms)
	}
	must(t, s.ChangeMessageVisibility(ctx, "dlq", ms[0].ReceiptHandle, 0))

	// A denying RedriveAllowPolicy refuses new sources.
	must(t, s.CreateQueue(ctx, "strict", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`}, nil))
	wantCode(t, s.CreateQueue(ctx, "src2", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + s.ARN("strict") + `","maxReceiveCount":2}`}, nil), CodeInvalidParameterValue)

	// Redrive back to the source.
	_, err = s.StartMessageMoveTask(ctx, s.ARN("src"), "", 0)
	wantCode(t, err, CodeInvalidParameterValue) // not a DLQ
	_, err = s.StartMessageMoveTask(ctx, s.ARN("missing"), "", 0)
	wantCode(t, err, CodeResourceNotFound)
	h, err := s.StartMessageMoveTask(ctx, dlqARN, "", 0)
	must(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts, err := s.ListMessageMoveTasks(ctx, dlqARN, 10)
		must(t, err)
		if len(ts) == 1 && ts[0].Status == "COMPLETED" {
			if ts[0].ApproximateNumberOfMessagesMoved != 1 || ts[0].TaskHandle != h {
				t.Fatalf("task = %+v", ts[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task did not complete: %+v", ts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	back, _ := s.ReceiveMessage(ctx, "src", ReceiveInput{AttributeNames: []string{"ApproximateReceiveCount"}})
	if len(back) != 1 || back[0].MessageID != sent.MessageID || back[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("redriven = %+v", back)
	}
	_, err = s.CancelMessageMoveTask(ctx, h)
	wantCode(t, err, CodeUnsupportedOperation)
	_, err = s.CancelMessageMoveTask(ctx, "nope")
	wantCode(t, err, CodeResourceNotFound)
}

func TestDurableAcrossRestart(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	st := newStore(t)
	s1, err := New(ctx, Config{Store: st, Now: clk.Now})
	must(t, err)
	must(t, s1.CreateQueue(ctx, "q", map[string]string{"VisibilityTimeout": "30"}, nil))
	must(t, s1.CreateQueue(ctx, "f.fifo", map[string]string{"FifoQueue": "true"}, nil))
	for _, b := range []string{"m1", "m2", "m3"} {
		_, err := s1.SendMessage(ctx, "q", SendInput{Body: b})
		must(t, err)
	}
	fr, err := s1.SendMessage(ctx, "f.fifo", SendInput{Body: "f", GroupID: "g", DeduplicationID: "d1"})
	must(t, err)
	ms, _ := s1.ReceiveMessage(ctx, "q", ReceiveInput{MaxNumberOfMessages: 1})
	must(t, s1.DeleteMessage(ctx, "q", ms[0].ReceiptHandle))
	inflight, _ := s1.ReceiveMessage(ctx, "q", ReceiveInput{MaxNumberOfMessages: 1})
	s1.Close()

	s2 := newSvc(t, st, clk)
	got, _ := s2.ReceiveMessage(ctx, "q", ReceiveInput{MaxNumberOfMessages: 10, VisibilityTimeout: ip(300)})
	if len(got) != 1 {
		t.Fatalf("after restart: %d visible, want 1 (one deleted, one in flight)", len(got))
	}
	clk.Add(31 * time.Second)
	again, _ := s2.ReceiveMessage(ctx, "q", ReceiveInput{MaxNumberOfMessages: 10, AttributeNames: []string{"ApproximateReceiveCount"}})
	if len(again) != 1 || again[0].MessageID != inflight[0].MessageID || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("in-flight message after its timeout: %+v", again)
	}
	// The dedup window survives the restart.
	dup, err := s2.SendMessage(ctx, "f.fifo", SendInput{Body: "f", GroupID: "g", DeduplicationID: "d1"})
	must(t, err)
	if dup.MessageID != fr.MessageID {
		t.Fatal("dedup entry lost across restart")
	}
}

func TestMD5OfAttributes(t *testing.T) {
	// Independent construction of the encoding for one string attribute.
	a := map[string]MessageAttribute{"k": {DataType: "String", StringValue: "v"}}
	enc := []byte{0, 0, 0, 1, 'k', 0, 0, 0, 6, 'S', 't', 'r', 'i', 'n', 'g', 1, 0, 0, 0, 1, 'v'}
	if got, want := MD5OfAttributes(a), MD5OfBody(string(enc)); got != want {
		t.Fatalf("md5 = %s, want %s", got, want)
	}
	if MD5OfAttributes(nil) != "" {
		t.Fatal("md5 of no attributes must be empty")
	}
}

func TestPurge(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "q", nil, nil))
	_, err := s.SendMessage(ctx, "q", SendInput{Body: "x"})
	must(t, err)
	must(t, s.PurgeQueue(ctx, "q"))
	wantCode(t, s.PurgeQueue(ctx, "q"), CodePurgeQueueInProgress)
	if ms, _ := s.ReceiveMessage(ctx, "q", ReceiveInput{}); len(ms) != 0 {
		t.Fatal("purged message delivered")
	}
}

func TestReceiveRequestAttemptID(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := newSvc(t, newStore(t), clk)
	must(t, s.CreateQueue(ctx, "a.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil))
	for _, b := range []string{"1", "2"} {
		_, err := s.SendMessage(ctx, "a.fifo", SendInput{Body: b, GroupID: "g"})
		must(t, err)
	}
	first, err := s.ReceiveMessage(ctx, "a.fifo", ReceiveInput{MaxNumberOfMessages: 10, ReceiveRequestAttemptID: "try-1"})
	must(t, err)
	again, err := s.ReceiveMessage(ctx, "a.fifo", ReceiveInput{MaxNumberOfMessages: 10, ReceiveRequestAttemptID: "try-1"})
	must(t, err)
	if len(first) != 2 || len(again) != 2 || again[0].ReceiptHandle != first[0].ReceiptHandle || again[1].ReceiptHandle != first[1].ReceiptHandle {
		t.Fatalf("retry with the same attempt id: %+v vs %+v", again, first)
	}
	if other, _ := s.ReceiveMessage(ctx, "a.fifo", ReceiveInput{MaxNumberOfMessages: 10, ReceiveRequestAttemptID: "try-2"}); len(other) != 0 {
		t.Fatalf("a new attempt id got in-flight messages: %+v", other)
	}
}

func TestSendToARN(t *testing.T) {
	s := newSvc(t, newStore(t), nil)
	must(t, s.CreateQueue(ctx, "events", nil, nil))
	var snd Sender = s
	id, err := snd.SendToARN(ctx, snd.ARN("events"), `{"Records":[]}`)
	must(t, err)
	ms, _ := s.ReceiveMessage(ctx, "events", ReceiveInput{})
	if len(ms) != 1 || ms[0].MessageID != id || ms[0].Body != `{"Records":[]}` {
		t.Fatalf("got %+v", ms)
	}
	_, err = snd.SendToARN(ctx, snd.ARN("missing"), "x")
	wantCode(t, err, CodeQueueDoesNotExist)
	_, err = snd.SendToARN(ctx, "not-an-arn", "x")
	wantCode(t, err, CodeInvalidParameterValue)
}

func TestFIFOConcurrentSendersDeliverInSequenceOrder(t *testing.T) {
	s := newSvc(t, newStore(t), nil)
	must(t, s.CreateQueue(ctx, "c.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := s.SendMessage(ctx, "c.fifo", SendInput{Body: strings.Repeat("x", w+1) + string(rune('a'+i)), GroupID: "g"}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	done := make(chan struct{})
	var got []string
	go func() { // receive concurrently with the sends
		defer close(done)
		for len(got) < 200 {
			ms, err := s.ReceiveMessage(ctx, "c.fifo", ReceiveInput{MaxNumberOfMessages: 10, WaitTimeSeconds: ip(1), AttributeNames: []string{"SequenceNumber"}})
			if err != nil {
				t.Error(err)
				return
			}
			for _, m := range ms {
				got = append(got, m.Attributes["SequenceNumber"])
				must(t, s.DeleteMessage(ctx, "c.fifo", m.ReceiptHandle))
			}
		}
	}()
	wg.Wait()
	<-done
	for i := 1; i < len(got); i++ {
		a, _ := strconv.ParseUint(got[i-1], 10, 64)
		b, _ := strconv.ParseUint(got[i], 10, 64)
		if b <= a {
			t.Fatalf("delivery %d has sequence %s after %s", i, got[i], got[i-1])
		}
	}
	if len(got) != 200 {
		t.Fatalf("got %d messages", len(got))
	}
}

func TestMoveTaskCancelAndDestination(t *testing.T) {
	s := newSvc(t, newStore(t), nil)
	must(t, s.CreateQueue(ctx, "dlq", nil, nil))
	must(t, s.CreateQueue(ctx, "src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + s.ARN("dlq") + `","maxReceiveCount":1}`}, nil))
	must(t, s.CreateQueue(ctx, "other", nil, nil))
	for i := 0; i < 20; i++ {
		_, err := s.SendMessage(ctx, "dlq", SendInput{Body: "m"})
		must(t, err)
	}
	// Rate 1/s: cancel long before it could finish.
	h, err := s.StartMessageMoveTask(ctx, s.ARN("dlq"), s.ARN("other"), 1)
	must(t, err)
	_, err = s.StartMessageMoveTask(ctx, s.ARN("dlq"), "", 0)
	wantCode(t, err, CodeUnsupportedOperation) // one active task per source
	moved, err := s.CancelMessageMoveTask(ctx, h)
	must(t, err)
	if moved > 2 {
		t.Fatalf("moved %d before cancel", moved)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts, _ := s.ListMessageMoveTasks(ctx, s.ARN("dlq"), 1)
		if ts[0].Status == "CANCELLED" {
			if ts[0].DestinationArn != s.ARN("other") || ts[0].ApproximateNumberOfMessagesToMove != 20 {
				t.Fatalf("task = %+v", ts[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not cancelled: %+v", ts[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
	attrs, _ := s.GetQueueAttributes(ctx, "other", []string{"ApproximateNumberOfMessages"})
	left, _ := s.GetQueueAttributes(ctx, "dlq", []string{"ApproximateNumberOfMessages"})
	o, _ := strconv.Atoi(attrs["ApproximateNumberOfMessages"])
	l, _ := strconv.Atoi(left["ApproximateNumberOfMessages"])
	if o+l != 20 || o > 2 {
		t.Fatalf("other=%d dlq=%d", o, l)
	}
}

func TestReceiptHandleSurvivesRestart(t *testing.T) {
	st := newStore(t)
	s1, err := New(ctx, Config{Store: st})
	must(t, err)
	must(t, s1.CreateQueue(ctx, "q", nil, nil))
	_, err = s1.SendMessage(ctx, "q", SendInput{Body: "x"})
	must(t, err)
	ms, _ := s1.ReceiveMessage(ctx, "q", ReceiveInput{VisibilityTimeout: ip(0)})
	s1.Close()
	s2 := newSvc(t, st, nil)
	must(t, s2.DeleteMessage(ctx, "q", ms[0].ReceiptHandle))
	if again, _ := s2.ReceiveMessage(ctx, "q", ReceiveInput{}); len(again) != 0 {
		t.Fatal("delete with a pre-restart handle did not delete")
	}
}
