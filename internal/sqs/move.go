package sqs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"skyhub/internal/kv"
)

// MoveTask describes a dead-letter-queue redrive (StartMessageMoveTask).
type MoveTask struct {
	TaskHandle                        string `json:"h"`
	Status                            string `json:"st"` // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
	SourceArn                         string `json:"src"`
	DestinationArn                    string `json:"dst,omitempty"`
	MaxNumberOfMessagesPerSecond      int    `json:"rate,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"moved"`
	ApproximateNumberOfMessagesToMove int64  `json:"tomove"`
	FailureReason                     string `json:"fail,omitempty"`
	StartedTimestamp                  int64  `json:"start"` // Unix ms
}

type moveTask struct {
	MoveTask
	mu     sync.Mutex
	cancel bool
	stop   chan struct{} // closed by CancelMessageMoveTask
}

func (t *moveTask) snapshot() MoveTask {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.MoveTask
}

func (s *Service) isDeadLetterQueue(name string) bool {
	arn := s.ARN(name)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, q := range s.queues {
		q.mu.Lock()
		ok := q.redrive != nil && q.redrive.Target == arn
		q.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// StartMessageMoveTask starts moving the messages of a dead-letter queue
// (sourceARN) to destARN, or back to each message's original source queue
// when destARN is empty. rate 0 means as fast as possible.
func (s *Service) StartMessageMoveTask(ctx context.Context, sourceARN, destARN string, rate int) (string, error) {
	const op = "sqs.StartMessageMoveTask"
	if sourceARN == "" {
		return "", Fail(op, CodeMissingParameter, "The request must contain the parameter SourceArn.")
	}
	src, ok := s.NameFromARN(sourceARN)
	if !ok || !s.Exists(src) {
		return "", Fail(op, CodeResourceNotFound, "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	if destARN != "" {
		d, ok := s.NameFromARN(destARN)
		if !ok || !s.Exists(d) {
			return "", Fail(op, CodeResourceNotFound, "The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
	}
	if rate < 0 || rate > 500 {
		return "", invalidParam(op, "Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500.", rate)
	}
	if !s.isDeadLetterQueue(src) {
		return "", invalidParam(op, "Source queue must be configured as a Dead Letter Queue.")
	}
	q, _ := s.get(op, src)
	q.mu.Lock()
	n := int64(len(q.msgs))
	q.mu.Unlock()
	s.mu.Lock()
	for _, t := range s.tasks {
		st := t.snapshot()
		if st.SourceArn == sourceARN && (st.Status == "RUNNING" || st.Status == "CANCELLING") {
			s.mu.Unlock()
			return "", Fail(op, CodeUnsupportedOperation, "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	h, _ := json.Marshal(map[string]string{"taskId": newID(), "sourceArn": sourceARN})
	t := &moveTask{stop: make(chan struct{}), MoveTask: MoveTask{TaskHandle: base64.StdEncoding.EncodeToString(h), Status: "RUNNING",
		SourceArn: sourceARN, DestinationArn: destARN, MaxNumberOfMessagesPerSecond: rate,
		ApproximateNumberOfMessagesToMove: n, StartedTimestamp: s.now().UnixMilli()}}
	s.tasks[t.TaskHandle] = t
	s.mu.Unlock()
	if err := s.saveTask(ctx, t); err != nil {
		s.mu.Lock()
		delete(s.tasks, t.TaskHandle)
		s.mu.Unlock()
		return "", internalErr(op, err)
	}
	s.wg.Add(1)
	go s.runTask(t)
	return t.TaskHandle, nil
}

func (s *Service) saveTask(ctx context.Context, t *moveTask) error {
	st := t.snapshot()
	b, _ := json.Marshal(st)
	return s.st.Write(ctx, kv.Set([]byte(prefixTask+st.TaskHandle), b))
}

func (s *Service) resumeTasks() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tasks {
		if st := t.snapshot().Status; st == "RUNNING" || st == "CANCELLING" {
			s.wg.Add(1)
			go s.runTask(t)
		}
	}
}

// runTask moves messages until the task's count is reached, the source is
// empty, or it is cancelled.
func (s *Service) runTask(t *moveTask) {
	defer s.wg.Done()
	ctx := s.ctx
	finish := func(status, reason string) {
		t.mu.Lock()
		t.Status, t.FailureReason = status, reason
		t.mu.Unlock()
		s.saveTask(context.Background(), t)
	}
	for {
		t.mu.Lock()
		cancel, st := t.cancel || t.Status == "CANCELLING", t.MoveTask
		t.mu.Unlock()
		if cancel {
			finish("CANCELLED", "")
			return
		}
		if ctx.Err() != nil {
			return // resumed at the next start
		}
		if st.ApproximateNumberOfMessagesMoved >= st.ApproximateNumberOfMessagesToMove {
			finish("COMPLETED", "")
			return
		}
		batch := 10
		if st.MaxNumberOfMessagesPerSecond > 0 && st.MaxNumberOfMessagesPerSecond < batch {
			batch = st.MaxNumberOfMessagesPerSecond
		}
		if left := st.ApproximateNumberOfMessagesToMove - st.ApproximateNumberOfMessagesMoved; int64(batch) > left {
			batch = int(left)
		}
		began := time.Now()
		n, err := s.moveBatch(ctx, st.SourceArn, st.DestinationArn, batch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			finish("FAILED", err.Error())
			return
		}
		if n == 0 {
			finish("COMPLETED", "")
			return
		}
		t.mu.Lock()
		t.ApproximateNumberOfMessagesMoved += int64(n)
		t.mu.Unlock()
		s.saveTask(ctx, t)
		if st.MaxNumberOfMessagesPerSecond > 0 {
			wait := time.Duration(n)*time.Second/time.Duration(st.MaxNumberOfMessagesPerSecond) - time.Since(began)
			if wait > 0 {
				tm := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					tm.Stop()
					return
				case <-t.stop:
				case <-tm.C:
				}
				tm.Stop()
			}
		}
	}
}

// moveBatch moves up to n visible messages from the queue srcARN to
// dstARN (or their recorded source queue).
func (s *Service) moveBatch(ctx context.Context, srcARN, dstARN string, n int) (int, error) {
	src, err := s.get("sqs.moveMessages", mustName(s, srcARN))
	if err != nil {
		return 0, err
	}
	now := s.now()
	nowNs := now.UnixNano()
	src.mu.Lock()
	var cands []*message
	for _, m := range src.msgs {
		if m.Visible <= nowNs {
			cands = append(cands, m)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Seq < cands[j].Seq })
	if len(cands) > n {
		cands = cands[:n]
	}
	for _, m := range cands {
		src.removeLocked(m)
	}
	src.mu.Unlock()
	if len(cands) == 0 {
		return 0, nil
	}
	var ops []kv.Op
	type inst struct {
		q *queue
		m *message
	}
	var installs []inst
	for _, m := range cands {
		target := dstARN
		if target == "" {
			target = m.DLQSource
		}
		dq, err := s.get("sqs.moveMessages", mustName(s, target))
		if err != nil {
			// No destination: the message stays in the dead-letter queue.
			installs = append(installs, inst{src, m})
			continue
		}
		ops = append(ops, delMsgOps(src.id, m)...)
		nm := *m
		nm.gone, nm.hasState = false, false
		nm.Recv, nm.FirstRecv, nm.Nonce, nm.DLQSource = 0, 0, 0, ""
		nm.Visible = nowNs
		dq.mu.Lock()
		nm.Seq = dq.nextSeqLocked(now)
		dq.mu.Unlock()
		ops = append(ops, kv.Set(msgKey(dq.id, nm.Seq), nm.encode()))
		installs = append(installs, inst{dq, &nm})
	}
	if len(ops) == 0 {
		ops = nil
	}
	if err := s.st.Write(ctx, ops...); err != nil {
		// Put them back; the store still has them in the source.
		src.mu.Lock()
		for _, m := range cands {
			m.gone = false
			src.insertLocked(m)
		}
		src.mu.Unlock()
		return 0, err
	}
	moved := 0
	for _, in := range installs {
		in.q.mu.Lock()
		if in.q == src {
			in.m.gone = false
		} else {
			moved++
		}
		if !in.q.gone {
			in.q.insertLocked(in.m)
			in.q.wakeLocked()
		}
		in.q.mu.Unlock()
	}
	if moved == 0 {
		return 0, nil
	}
	return moved, nil
}

func mustName(s *Service, arn string) string {
	n, _ := s.NameFromARN(arn)
	return n
}

// CancelMessageMoveTask cancels a running task and returns how many
// messages it moved.
func (s *Service) CancelMessageMoveTask(ctx context.Context, handle string) (int64, error) {
	const op = "sqs.CancelMessageMoveTask"
	if handle == "" {
		return 0, Fail(op, CodeMissingParameter, "The request must contain the parameter TaskHandle.")
	}
	s.mu.RLock()
	t := s.tasks[handle]
	s.mu.RUnlock()
	if t == nil {
		return 0, Fail(op, CodeResourceNotFound, "Task does not exist.")
	}
	t.mu.Lock()
	if t.Status != "RUNNING" {
		t.mu.Unlock()
		return 0, Fail(op, CodeUnsupportedOperation, "Only active tasks can be cancelled.")
	}
	t.cancel = true
	t.Status = "CANCELLING"
	close(t.stop)
	moved := t.ApproximateNumberOfMessagesMoved
	t.mu.Unlock()
	if err := s.saveTask(ctx, t); err != nil {
		return 0, internalErr(op, err)
	}
	return moved, nil
}

// ListMessageMoveTasks returns the most recent tasks of a source queue,
// newest first (max 1..10, 0 means 1).
func (s *Service) ListMessageMoveTasks(ctx context.Context, sourceARN string, max int) ([]MoveTask, error) {
	const op = "sqs.ListMessageMoveTasks"
	if sourceARN == "" {
		return nil, Fail(op, CodeMissingParameter, "The request must contain the parameter SourceArn.")
	}
	if max == 0 {
		max = 1
	}
	if max < 1 || max > 10 {
		return nil, invalidParam(op, "Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and 10.", max)
	}
	name, ok := s.NameFromARN(sourceARN)
	if !ok || !s.Exists(name) {
		return nil, Fail(op, CodeResourceNotFound, "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	var out []MoveTask
	s.mu.RLock()
	for _, t := range s.tasks {
		if st := t.snapshot(); st.SourceArn == sourceARN {
			out = append(out, st)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].StartedTimestamp > out[j].StartedTimestamp })
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}
