package sqs

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// load reads every queue, message, dedup entry and move task. Records of
// queues that no longer exist (a write that raced a DeleteQueue) are removed.
func (s *Service) load(ctx context.Context) error {
	const op = "sqs.load"
	byID := map[uint64]*queue{}
	err := kv.Scan(ctx, s.st, kv.Prefix([]byte(prefixQueue)), func(k, v []byte) bool {
		var rec queueRec
		if json.Unmarshal(v, &rec) != nil || rec.Name == "" {
			return true
		}
		q := newQueue(rec)
		s.queues[rec.Name] = q
		byID[rec.ID] = q
		return true
	})
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	var orphans []kv.Op
	now := s.now()
	err = kv.Scan(ctx, s.st, kv.Prefix([]byte(prefixMsg)), func(k, v []byte) bool {
		qid, rest, ok := splitIDKey(k[len(prefixMsg):])
		q := byID[qid]
		if !ok || q == nil {
			orphans = append(orphans, kv.Del(bytes.Clone(k)))
			return true
		}
		seq, err := strconv.ParseUint(string(rest), 16, 64)
		m := &message{}
		if err != nil || json.Unmarshal(v, m) != nil {
			orphans = append(orphans, kv.Del(bytes.Clone(k)))
			return true
		}
		m.Seq = seq
		if seq > q.lastSeq {
			q.lastSeq = seq
		}
		q.insertLocked(m)
		return true
	})
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	err = kv.Scan(ctx, s.st, kv.Prefix([]byte(prefixState)), func(k, v []byte) bool {
		qid, rest, ok := splitIDKey(k[len(prefixState):])
		q := byID[qid]
		var m *message
		if ok && q != nil {
			if seq, err := strconv.ParseUint(string(rest), 16, 64); err == nil {
				m = q.msgs[seq]
			}
		}
		if m == nil || !m.decodeState(v) {
			orphans = append(orphans, kv.Del(bytes.Clone(k)))
		}
		return true
	})
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	// Messages were indexed before their receive state was applied.
	for _, q := range byID {
		q.reindexLocked()
	}
	err = kv.Scan(ctx, s.st, kv.Prefix([]byte(prefixDedup)), func(k, v []byte) bool {
		qid, rest, ok := splitIDKey(k[len(prefixDedup):])
		q := byID[qid]
		var e dedupEntry
		if !ok || q == nil || json.Unmarshal(v, &e) != nil || !now.Before(e.Expires) {
			orphans = append(orphans, kv.Del(bytes.Clone(k)))
			return true
		}
		q.dedup[string(rest)] = e
		return true
	})
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	err = kv.Scan(ctx, s.st, kv.Prefix([]byte(prefixTask)), func(k, v []byte) bool {
		var t MoveTask
		if json.Unmarshal(v, &t) == nil && t.TaskHandle != "" {
			s.tasks[t.TaskHandle] = &moveTask{MoveTask: t, stop: make(chan struct{})}
		}
		return true
	})
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	if len(orphans) > 0 {
		if err := s.st.Write(ctx, orphans...); err != nil {
			return errs.E(op, errs.Internal, err)
		}
	}
	return nil
}

// splitIDKey splits "<16 hex>/<rest>".
func splitIDKey(k []byte) (uint64, []byte, bool) {
	if len(k) < 17 || k[16] != '/' {
		return 0, nil, false
	}
	id, err := strconv.ParseUint(string(k[:16]), 16, 64)
	if err != nil {
		return 0, nil, false
	}
	return id, k[17:], true
}

// SendToARN enqueues body on the queue named by an SQS ARN. It is the
// seam other services (S3 bucket notifications) use; see Sender.
func (s *Service) SendToARN(ctx context.Context, arn, body string) (string, error) {
	name, ok := s.NameFromARN(arn)
	if !ok {
		return "", invalidParam("sqs.SendToARN", "Invalid queue ARN %s.", arn)
	}
	res, err := s.SendMessage(ctx, name, SendInput{Body: body})
	if err != nil {
		return "", err
	}
	return res.MessageID, nil
}

// Sender is what other services use to put messages on a queue: S3 bucket
// notifications send their event JSON with SendToARN. *Service implements it.
type Sender interface {
	// SendToARN sends body to the queue arn (arn:aws:sqs:<region>:<account>:<name>)
	// and returns the message ID once the message is durable. Errors carry
	// CodeQueueDoesNotExist when the queue does not exist.
	SendToARN(ctx context.Context, arn, body string) (string, error)
	// ARN returns the ARN of queue name.
	ARN(name string) string
}

var _ Sender = (*Service)(nil)
