// Command sqsbench is the SQS load generator: it drives any SQS endpoint
// (Skyhub, moto_server) with aws-sdk-go-v2 (JSON 1.0, keep-alive, MD5
// checks on) or plain JSON requests, through the shared bench/aws/runner,
// and prints one line per scenario:
//
//	scenario target N ops/s p50 X ms p99 Y ms errors E
//
// Scenarios: send (SendMessage, -size byte bodies) and recvdel
// (ReceiveMessage of one message + DeleteMessage of it, on a queue
// prefilled with SendMessageBatch). -client sdk (default) makes every call
// through the SDK; -client raw posts the same JSON 1.0 requests with plain
// net/http (unsigned, no SDK middleware), so the generator's own CPU cost
// stays small on a 2-core machine. Every run is bounded by -d (plus a fixed
// prefill cap); it only talks to loopback endpoints.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"skyhub/bench/aws/runner"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "SQS endpoint (loopback only)")
	target := flag.String("target", "skyhub", "target label for the result line")
	scenario := flag.String("scenario", "send", "send | recvdel")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "unmeasured warm-up")
	size := flag.Int("size", 200, "message body bytes")
	prefill := flag.Int("prefill", 20000, "messages to prefill for recvdel")
	prefillMax := flag.Duration("prefill-max", 120*time.Second, "cap on prefill time")
	flag.StringVar(&clientKind, "client", "sdk", "sdk | raw")
	flag.Parse()
	if !runner.Loopback(*endpoint) {
		fmt.Fprintln(os.Stderr, "sqsbench: endpoint must be a loopback URL")
		os.Exit(2)
	}
	if err := run(*endpoint, *target, *scenario, *conc, *dur, *warm, *size, *prefill, *prefillMax); err != nil {
		fmt.Fprintln(os.Stderr, "sqsbench:", err)
		os.Exit(1)
	}
}

var clientKind string

var rawDate = time.Now().UTC().Format("20060102T150405Z")

// rawCall posts one JSON 1.0 request and decodes the response into out.
func rawCall(ctx context.Context, hc *http.Client, endpoint, op string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequestWithContext(ctx, "POST", endpoint+"/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	// A well-formed but unverified SigV4 header: servers that route on the
	// credential scope (moto) need it; neither server checks signatures by
	// default. Signing every request is what -client sdk measures.
	req.Header.Set("X-Amz-Date", rawDate)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+rawDate[:8]+
		"/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0", 64))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", op, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

func client(endpoint string, conc int) *sqs.Client {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: 90 * time.Second}
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient:       &http.Client{Transport: tr, Timeout: 60 * time.Second},
		RetryMaxAttempts: 1,
	})
}

func run(endpoint, target, scenario string, conc int, dur, warm time.Duration, size, prefill int, prefillMax time.Duration) error {
	ctx := context.Background()
	c := client(endpoint, conc)
	qname := fmt.Sprintf("bench-%s-%d", scenario, time.Now().UnixNano())
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname)})
	if err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	q := cq.QueueUrl
	defer c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q})
	body := strings.Repeat("x", size)

	var op func(ctx context.Context) (bool, error)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2}, Timeout: 60 * time.Second}
	switch {
	case clientKind == "raw" && scenario == "send":
		in := map[string]string{"QueueUrl": *q, "MessageBody": body}
		op = func(ctx context.Context) (bool, error) {
			var out struct{ MessageId string }
			if err := rawCall(ctx, hc, endpoint, "SendMessage", in, &out); err != nil {
				return false, err
			}
			if out.MessageId == "" {
				return false, fmt.Errorf("SendMessage: no MessageId in the response")
			}
			return true, nil
		}
	case clientKind == "raw" && scenario == "recvdel":
		if err := fill(ctx, c, q, body, prefill, conc, prefillMax); err != nil {
			return err
		}
		in := map[string]any{"QueueUrl": *q, "MaxNumberOfMessages": 1, "VisibilityTimeout": 300}
		op = func(ctx context.Context) (bool, error) {
			var out struct {
				Messages []struct{ ReceiptHandle string }
			}
			if err := rawCall(ctx, hc, endpoint, "ReceiveMessage", in, &out); err != nil {
				return false, err
			}
			if len(out.Messages) == 0 {
				return false, nil
			}
			return true, rawCall(ctx, hc, endpoint, "DeleteMessage", map[string]string{"QueueUrl": *q, "ReceiptHandle": out.Messages[0].ReceiptHandle}, nil)
		}
	case scenario == "send":
		op = func(ctx context.Context) (bool, error) {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String(body)})
			return true, err
		}
	case scenario == "recvdel":
		if err := fill(ctx, c, q, body, prefill, conc, prefillMax); err != nil {
			return err
		}
		op = func(ctx context.Context) (bool, error) {
			out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, MaxNumberOfMessages: 1, VisibilityTimeout: 300})
			if err != nil {
				return false, err
			}
			if len(out.Messages) == 0 {
				return false, nil
			}
			_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: out.Messages[0].ReceiptHandle})
			return true, err
		}
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}

	r := runner.Run(ctx, fmt.Sprintf("sqs-%s-%s-c%d", scenario, clientKind, conc), target, conc, warm, dur,
		func(ctx context.Context, _, _ int) error {
			ok, err := op(ctx)
			if err == nil && !ok {
				return errEmpty
			}
			return err
		})
	fmt.Println(r.Line())
	if r.FirstErr != nil {
		fmt.Printf("#   %s %s: first error: %v\n", r.Scenario, target, r.FirstErr)
	}
	if r.Ops == 0 {
		return fmt.Errorf("no operations completed (errors: %d, first: %v)", r.Errors, r.FirstErr)
	}
	return nil
}

var errEmpty = errors.New("queue ran empty (prefill too small for the window)")

// fill prefills the queue with n messages in batches of 10.
func fill(ctx context.Context, c *sqs.Client, q *string, body string, n, conc int, max time.Duration) error {
	var next atomic.Int64
	deadline := time.Now().Add(max)
	var wg sync.WaitGroup
	var ferr atomic.Value
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				start := next.Add(10) - 10
				if start >= int64(n) {
					return
				}
				var es []types.SendMessageBatchRequestEntry
				for i := 0; i < 10; i++ {
					es = append(es, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(body)})
				}
				if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q, Entries: es}); err != nil {
					ferr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := ferr.Load(); e != nil {
		return fmt.Errorf("prefill: %v", e)
	}
	return nil
}
