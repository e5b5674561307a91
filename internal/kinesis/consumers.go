package kinesis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"skyhub/internal/errs"
)

// Consumer describes a registered stream consumer.
type Consumer struct {
	ConsumerName              string    `json:"ConsumerName"`
	ConsumerARN               string    `json:"ConsumerARN"`
	ConsumerStatus            string    `json:"ConsumerStatus"`
	ConsumerCreationTimestamp Timestamp `json:"ConsumerCreationTimestamp"`
	StreamARN                 string    `json:"StreamARN,omitempty"`
}

func (s *Service) consumerOut(st *stream, c consumerMeta, withStream bool) Consumer {
	status := StatusActive
	if c.Ready > s.nowMs() {
		status = StatusCreating
	}
	out := Consumer{ConsumerName: c.Name, ConsumerARN: c.ARN, ConsumerStatus: status, ConsumerCreationTimestamp: Timestamp(c.Created)}
	if withStream {
		out.StreamARN = st.meta.ARN
	}
	return out
}

func (s *Service) streamFromARN(op, arn string) (*stream, error) {
	name, err := s.ResolveName("", arn)
	if err != nil {
		return nil, err
	}
	st, err := s.lookup(op, name)
	if err != nil {
		return nil, err
	}
	if st.meta.ARN != arn {
		return nil, s.notFound(op, name)
	}
	return st, nil
}

// RegisterConsumer registers an enhanced fan-out consumer.
func (s *Service) RegisterConsumer(ctx context.Context, streamARN, name string) (Consumer, error) {
	const op = "kinesis.RegisterConsumer"
	st, err := s.streamFromARN(op, streamARN)
	if err != nil {
		return Consumer{}, err
	}
	var out Consumer
	err = s.modify(ctx, op, st.meta.Name, true, func(st *stream) error {
		for _, c := range st.meta.Consumers {
			if c.Name == name {
				return errs.E(op, errs.Exists, fmt.Sprintf("Consumer %s under stream %s already exists for account %s.", name, st.meta.Name, s.cfg.AccountID))
			}
		}
		if len(st.meta.Consumers) >= MaxConsumers {
			return errs.E(op, errs.Invalid, ErrLimitExceeded, fmt.Sprintf("Consumer limit of %d exceeded for stream %s.", MaxConsumers, st.meta.Name))
		}
		now := s.nowMs()
		c := consumerMeta{Name: name, ARN: fmt.Sprintf("%s/consumer/%s:%d", st.meta.ARN, name, now/1000), Created: now,
			Ready: now + s.cfg.StatusDelay.Milliseconds()}
		st.meta.Consumers = append(st.meta.Consumers, c)
		out = s.consumerOut(st, c, false)
		return nil
	})
	return out, err
}

// findConsumer locates a consumer by ARN or stream ARN + name.
func (s *Service) findConsumer(op, streamARN, name, arn string) (*stream, consumerMeta, error) {
	if arn != "" {
		sa, _, ok := strings.Cut(arn, "/consumer/")
		if !ok {
			return nil, consumerMeta{}, errs.E(op, errs.Invalid, fmt.Sprintf("ConsumerARN %s is invalid.", arn))
		}
		streamARN = sa
	}
	st, err := s.streamFromARN(op, streamARN)
	if err != nil {
		return nil, consumerMeta{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, c := range st.meta.Consumers {
		if (arn != "" && c.ARN == arn) || (arn == "" && c.Name == name) {
			return st, c, nil
		}
	}
	return nil, consumerMeta{}, errs.E(op, errs.NotFound, fmt.Sprintf("Consumer %s under stream %s not found for account %s.", name+arn, st.meta.Name, s.cfg.AccountID))
}

// DescribeConsumer describes a consumer.
func (s *Service) DescribeConsumer(ctx context.Context, streamARN, name, arn string) (Consumer, error) {
	st, c, err := s.findConsumer("kinesis.DescribeConsumer", streamARN, name, arn)
	if err != nil {
		return Consumer{}, err
	}
	return s.consumerOut(st, c, true), nil
}

// ListConsumers lists a stream's consumers.
func (s *Service) ListConsumers(ctx context.Context, streamARN string) ([]Consumer, error) {
	st, err := s.streamFromARN("kinesis.ListConsumers", streamARN)
	if err != nil {
		return nil, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := []Consumer{}
	for _, c := range st.meta.Consumers {
		out = append(out, s.consumerOut(st, c, false))
	}
	return out, nil
}

// DeregisterConsumer removes a consumer.
func (s *Service) DeregisterConsumer(ctx context.Context, streamARN, name, arn string) error {
	const op = "kinesis.DeregisterConsumer"
	st, c, err := s.findConsumer(op, streamARN, name, arn)
	if err != nil {
		return err
	}
	return s.modify(ctx, op, st.meta.Name, true, func(st *stream) error {
		for i, x := range st.meta.Consumers {
			if x.ARN == c.ARN {
				st.meta.Consumers = append(st.meta.Consumers[:i:i], st.meta.Consumers[i+1:]...)
			}
		}
		return nil
	})
}

// SubscribeEvent is one SubscribeToShardEvent.
type SubscribeEvent struct {
	Records                    []Record     `json:"Records"`
	ContinuationSequenceNumber string       `json:"ContinuationSequenceNumber"`
	MillisBehindLatest         int64        `json:"MillisBehindLatest"`
	ChildShards                []ChildShard `json:"ChildShards,omitempty"`
}

// Subscription pushes a shard's records to an enhanced fan-out consumer.
type Subscription struct {
	s     *Service
	st    *stream
	sh    *shard
	from  uint64
	until time.Time
	done  bool
}

// SubscriptionTTL is how long a SubscribeToShard call lasts.
const SubscriptionTTL = 5 * time.Minute

// Subscribe starts a subscription at a starting position.
func (s *Service) Subscribe(ctx context.Context, consumerARN, shardID, typ, seq string, ts *time.Time) (*Subscription, error) {
	const op = "kinesis.SubscribeToShard"
	st, c, err := s.findConsumer(op, "", "", consumerARN)
	if err != nil {
		return nil, err
	}
	if c.Ready > s.nowMs() {
		return nil, errs.E(op, errs.Conflict, fmt.Sprintf("Consumer %s under stream %s is not ACTIVE.", c.ARN, st.meta.Name))
	}
	_, sh, err := s.readShard(op, st.meta.Name, shardID)
	if err != nil {
		return nil, err
	}
	from, err := s.position(ctx, op, st, sh, typ, seq, ts)
	if err != nil {
		return nil, err
	}
	return &Subscription{s: s, st: st, sh: sh, from: from, until: s.now().Add(SubscriptionTTL)}, nil
}

// Next waits up to wait for records and returns the next event; ok is false
// when the subscription has ended (closed shard exhausted or TTL reached).
func (sub *Subscription) Next(ctx context.Context, wait time.Duration) (SubscribeEvent, bool, error) {
	if sub.done || sub.s.now().After(sub.until) {
		return SubscribeEvent{}, false, nil
	}
	sh := sub.sh
	sh.mu.Lock()
	ch, visible := sh.notify, sh.visible
	sh.mu.Unlock()
	if sub.from > visible {
		t := time.NewTimer(wait)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return SubscribeEvent{}, false, ctx.Err()
		}
		t.Stop()
	}
	r, err := sub.s.read(ctx, sub.st, sh, sub.from, 10000, MaxGetRecordsBytes)
	if err != nil {
		return SubscribeEvent{}, false, err
	}
	sub.from = r.next
	ev := SubscribeEvent{Records: r.Records, MillisBehindLatest: r.MillisBehindLatest, ChildShards: r.ChildShards}
	cont := r.next
	if cont > 0 {
		cont--
	}
	ev.ContinuationSequenceNumber = seqNum{created: sh.created, counter: cont, arrival: uint64(sub.s.nowMs() / 1000), shard: sh.idx}.String()
	if r.end {
		sub.done = true
	}
	return ev, true, nil
}
