package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

// sqsClient is aws-sdk-go-v2's SQS client (JSON 1.0; it verifies the MD5
// of bodies and message attributes on send and receive).
func sqsClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	})
}

// TestSQSBoto2Lecture runs the lecture's SQS code (examples/lecture/sqs_boto2.py)
// and a fuller boto 2 script, unchanged, through boto's proxy setting.
func TestSQSBoto2Lecture(t *testing.T) {
	need(t, "/usr/bin/python3", lookPath("/usr/bin/python3"))
	a := apptest.New(t, nil)
	cfg := filepath.Join(t.TempDir(), "boto.cfg")
	_, port, _ := strings.Cut(a.Addr("aws"), ":")
	os.WriteFile(cfg, []byte("[Boto]\nis_secure = False\nproxy = 127.0.0.1\nproxy_port = "+port+"\n"), 0o644)
	env := []string{"BOTO_CONFIG=" + cfg}
	out := runCmd(t, 60*time.Second, env, "/usr/bin/python3", filepath.Join(apptest.RepoRoot(t), "examples", "lecture", "sqs_boto2.py"))
	if !strings.Contains(out, "Message = This is a test message") || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("lecture script:\n%s", out)
	}
	out = runCmd(t, 60*time.Second, env, "/usr/bin/python3", "aws_sqs/boto2_sqs.py", "t1")
	if strings.TrimSpace(out) != "OK" {
		t.Fatalf("boto2 script:\n%s", out)
	}
}

// TestSQSBoto3 runs the same boto3 script with Debian's boto3 1.26 (query
// protocol) and the pyenv boto3 1.43 (JSON 1.0).
func TestSQSBoto3(t *testing.T) {
	a := apptest.New(t, nil)
	for _, c := range []struct{ python, proto string }{{"/usr/bin/python3", "query"}, {"python3", "json"}} {
		t.Run(c.proto, func(t *testing.T) {
			t.Parallel()
			need(t, c.python, lookPath(c.python))
			out := runCmd(t, 90*time.Second, nil, c.python, "aws_sqs/boto3_sqs.py", apptest.URL(a, "aws"), c.proto)
			if !strings.Contains(out, "protocol "+c.proto) || !strings.HasSuffix(strings.TrimSpace(out), "OK "+c.proto) {
				t.Fatalf("boto3 (%s):\n%s", c.proto, out)
			}
		})
	}
}

// TestSQSAWSCLI runs create-queue / send-message / receive-message /
// delete-message with the Debian CLI v2 (query) and the pyenv CLI v1 (JSON).
func TestSQSAWSCLI(t *testing.T) {
	a := apptest.New(t, nil)
	for i, cli := range []string{"/usr/bin/aws", "aws"} {
		t.Run(cli, func(t *testing.T) {
			t.Parallel()
			need(t, cli, lookPath(cli))
			out := runCmd(t, 90*time.Second, []string{"SKYHUB_AWS=" + apptest.URL(a, "aws"), "AWS_CLI=" + cli, fmt.Sprintf("SUFFIX=c%d", i)}, "sh", "aws_sqs/awscli.sh")
			if strings.TrimSpace(out) != "OK" {
				t.Fatalf("awscli:\n%s", out)
			}
		})
	}
}

// TestSQSJSv3 runs @aws-sdk/client-sqs (which verifies the MD5s).
func TestSQSJSv3(t *testing.T) {
	need(t, "node", lookPath("node"))
	needNodeModule(t, "@aws-sdk/client-sqs")
	a := apptest.New(t, nil)
	out := runCmd(t, 60*time.Second, []string{"SKYHUB_AWS=" + apptest.URL(a, "aws"), "SUFFIX=js1"}, "node", "aws_sqs/jsv3.mjs")
	if strings.TrimSpace(out) != "OK" {
		t.Fatalf("js v3:\n%s", out)
	}
}

// TestSQSGoSDK drives aws-sdk-go-v2: messages with every attribute type
// (the SDK checks the MD5s), batches, FIFO, long polling woken by a send,
// and typed errors.
func TestSQSGoSDK(t *testing.T) {
	a := apptest.New(t, nil)
	c := sqsClient(apptest.URL(a, "aws"))
	ctx := context.Background()
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("go-q"), Attributes: map[string]string{"VisibilityTimeout": "20"}})
	if err != nil {
		t.Fatal(err)
	}
	q := cq.QueueUrl
	if !strings.HasSuffix(*q, "/000000000000/go-q") {
		t.Fatalf("url = %s", *q)
	}
	attrs := map[string]types.MessageAttributeValue{
		"s":   {DataType: aws.String("String"), StringValue: aws.String("žluťoučký")},
		"n":   {DataType: aws.String("Number"), StringValue: aws.String("-1.5e3")},
		"b":   {DataType: aws.String("Binary"), BinaryValue: []byte{0xde, 0xad, 0xbe, 0xef}},
		"c.x": {DataType: aws.String("String.custom"), StringValue: aws.String("x")},
	}
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String("body \u2713 \r\n\t"), MessageAttributes: attrs,
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-abc")}}})
	if err != nil {
		t.Fatal(err) // includes the SDK's MD5 checks
	}
	if sent.MD5OfMessageSystemAttributes == nil {
		t.Fatal("no MD5OfMessageSystemAttributes")
	}
	r, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err) // includes the SDK's MD5 checks
	}
	if len(r.Messages) != 1 || *r.Messages[0].Body != "body \u2713 \r\n\t" || *r.Messages[0].MessageId != *sent.MessageId ||
		r.Messages[0].Attributes["AWSTraceHeader"] != "Root=1-abc" || string(r.Messages[0].MessageAttributes["b"].BinaryValue) != "\xde\xad\xbe\xef" {
		t.Fatalf("receive = %+v", r.Messages)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: r.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	// Batch with a partial failure.
	br, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("ok1"), MessageBody: aws.String("b1"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
		{Id: aws.String("ok2"), MessageBody: aws.String("b2")},
		{Id: aws.String("bad"), MessageBody: aws.String("b3"), DelaySeconds: 1000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(br.Successful) != 2 || len(br.Failed) != 1 || *br.Failed[0].Id != "bad" || *br.Failed[0].Code != "InvalidParameterValue" || !br.Failed[0].SenderFault {
		t.Fatalf("batch = %+v", br)
	}

	// Long polling: a receive waiting on an empty queue is woken by a send.
	c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("go-poll")})
	pq := aws.String(apptest.URL(a, "aws") + "/000000000000/go-poll")
	done := make(chan *sqs.ReceiveMessageOutput, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: pq, WaitTimeSeconds: 20})
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: pq, MessageBody: aws.String("wake up")}); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		if out == nil || len(out.Messages) != 1 || *out.Messages[0].Body != "wake up" {
			t.Fatalf("long poll = %+v", out)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("long poll was not woken by the send")
		}
	case <-time.After(25 * time.Second):
		t.Fatal("long poll never returned")
	}

	// FIFO ordering across a batch.
	fq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("go.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	var entries []types.SendMessageBatchRequestEntry
	for i := 0; i < 10; i++ {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(fmt.Sprint(i)),
			MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(fmt.Sprint("d", i))})
	}
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: fq.QueueUrl, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	fr, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: fq.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range fr.Messages {
		if *m.Body != fmt.Sprint(i) {
			t.Fatalf("fifo order broken at %d: %s", i, *m.Body)
		}
	}
	if len(fr.Messages) != 10 {
		t.Fatalf("fifo got %d", len(fr.Messages))
	}

	// Typed errors.
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var qne *types.QueueDoesNotExist
	if !errors.As(err, &qne) {
		t.Fatalf("want QueueDoesNotExist, got %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String(strings.Repeat("x", 262145))})
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterValue") {
		t.Fatalf("oversized: %v", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("go-q"), Attributes: map[string]string{"VisibilityTimeout": "21"}})
	var qe *types.QueueNameExists
	if !errors.As(err, &qe) {
		t.Fatalf("want QueueNameExists, got %v", err)
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: aws.String("nope")})
	var rh *types.ReceiptHandleIsInvalid
	if !errors.As(err, &rh) {
		t.Fatalf("want ReceiptHandleIsInvalid, got %v", err)
	}
}

type rawResp struct {
	status int
	header http.Header
	body   string
}

func rawDo(t *testing.T, req *http.Request) rawResp {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResp{resp.StatusCode, resp.Header, string(b)}
}

// TestSQSBadInput sends malformed and invalid requests in both protocols
// and checks the exact AWS code and HTTP status.
func TestSQSBadInput(t *testing.T) {
	a := apptest.New(t, nil)
	base := apptest.URL(a, "aws")
	qurl := base + "/000000000000/bad-q"
	if _, err := sqsClient(base).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("bad-q")}); err != nil {
		t.Fatal(err)
	}
	jsonReq := func(op, body string) *http.Request {
		r, _ := http.NewRequest("POST", base+"/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "AmazonSQS."+op)
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		r.Header.Set("x-amzn-query-mode", "true")
		return r
	}
	formReq := func(form string) *http.Request {
		r, _ := http.NewRequest("POST", base+"/", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	big := strings.Repeat("x", 262145)
	cases := []struct {
		name       string
		req        *http.Request
		status     int
		code       string // query code, or JSON type
		queryError string // JSON: x-amzn-query-error
	}{
		{"json malformed", jsonReq("SendMessage", `{"QueueUrl": `), 400, "SerializationException", ""},
		{"json wrong type", jsonReq("SendMessage", `{"QueueUrl": 5}`), 400, "SerializationException", ""},
		{"json unknown op", jsonReq("Frobnicate", `{}`), 400, "UnknownOperationException", ""},
		{"json unknown queue", jsonReq("SendMessage", `{"QueueUrl":"`+base+`/000000000000/nope","MessageBody":"x"}`), 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
		{"json oversized", jsonReq("SendMessage", `{"QueueUrl":"`+qurl+`","MessageBody":"`+big+`"}`), 400, "InvalidParameterValue", "InvalidParameterValue;Sender"},
		{"json missing body", jsonReq("SendMessage", `{"QueueUrl":"`+qurl+`"}`), 400, "MissingParameter", "MissingParameter;Sender"},
		{"json bad max", jsonReq("ReceiveMessage", `{"QueueUrl":"`+qurl+`","MaxNumberOfMessages":0}`), 400, "InvalidParameterValue", "InvalidParameterValue;Sender"},
		{"json empty batch", jsonReq("DeleteMessageBatch", `{"QueueUrl":"`+qurl+`","Entries":[]}`), 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest;Sender"},
		{"json bad address", jsonReq("SendMessage", `{"QueueUrl":"just-a-name","MessageBody":"x"}`), 404, "InvalidAddress", "InvalidAddress;Sender"},
		{"query unknown action", formReq("Action=Frobnicate&Version=2012-11-05"), 400, "InvalidAction", ""},
		{"query unknown queue", formReq("Action=SendMessage&Version=2012-11-05&MessageBody=x&QueueUrl=" + url.QueryEscape(base+"/000000000000/nope")), 400, "AWS.SimpleQueueService.NonExistentQueue", ""},
		{"query oversized", formReq("Action=SendMessage&Version=2012-11-05&MessageBody=" + big + "&QueueUrl=" + url.QueryEscape(qurl)), 400, "InvalidParameterValue", ""},
		{"query bad int", formReq("Action=ReceiveMessage&Version=2012-11-05&MaxNumberOfMessages=ten&QueueUrl=" + url.QueryEscape(qurl)), 400, "InvalidParameterValue", ""},
		{"query malformed escape", mustReq(t, "GET", qurl+"?Action=SendMessage&Version=2012-11-05&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=%%%"), 400, "MalformedQueryString", ""},
		{"query bad binary b64", formReq("Action=SendMessage&Version=2012-11-05&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=!!&QueueUrl=" + url.QueryEscape(qurl)), 400, "InvalidParameterValue", ""},
		{"query too many entries", formReq("Action=DeleteMessageBatch&Version=2012-11-05&QueueUrl=" + url.QueryEscape(qurl) + batchForm(11)), 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", ""},
		{"query purge twice", nil, 403, "AWS.SimpleQueueService.PurgeQueueInProgress", ""},
		{"query missing queue name", formReq("Action=CreateQueue&Version=2012-11-05"), 400, "MissingParameter", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			if req == nil {
				rawDo(t, formReq("Action=PurgeQueue&Version=2012-11-05&QueueUrl="+url.QueryEscape(qurl)))
				req = formReq("Action=PurgeQueue&Version=2012-11-05&QueueUrl=" + url.QueryEscape(qurl))
			}
			r := rawDo(t, req)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if req.Header.Get("X-Amz-Target") != "" {
				if !strings.Contains(r.body, `"__type":"com.amazonaws.sqs#`+c.code+`"`) {
					t.Fatalf("body %s, want type %s", r.body, c.code)
				}
				if c.queryError != "" && r.header.Get("x-amzn-query-error") != c.queryError {
					t.Fatalf("x-amzn-query-error %q, want %q", r.header.Get("x-amzn-query-error"), c.queryError)
				}
				return
			}
			if !strings.Contains(r.body, "<Code>"+c.code+"</Code>") || !strings.Contains(r.body, `<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">`) {
				t.Fatalf("body %s, want code %s", r.body, c.code)
			}
		})
	}
	// GET query with the queue in the path (boto 2's form) works too.
	r := rawDo(t, mustReq(t, "GET", qurl+"?Action=GetQueueAttributes&Version=2012-11-05&AttributeName.1=QueueArn"))
	if r.status != 200 || !strings.Contains(r.body, "<Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:000000000000:bad-q</Value>") {
		t.Fatalf("GET path form: %d %s", r.status, r.body)
	}
}

func batchForm(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "&DeleteMessageBatchRequestEntry.%d.Id=e%d&DeleteMessageBatchRequestEntry.%d.ReceiptHandle=h", i, i, i)
	}
	return b.String()
}

func mustReq(t *testing.T, method, u string) *http.Request {
	r, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSQSDurabilityKill9 sends under load to the real binary, receives some
// messages (in flight), kills it with SIGKILL, restarts it, and checks that
// every acknowledged message is there and the in-flight ones reappear after
// their visibility timeout.
func TestSQSDurabilityKill9(t *testing.T) {
	dir := t.TempDir()
	p := apptest.StartProc(t, dir, apptest.Ports{})
	c := sqsClient(p.AWS())
	ctx := context.Background()
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("durable")})
	if err != nil {
		t.Fatal(err)
	}
	q := cq.QueueUrl
	var mu sync.Mutex
	acked := map[string]string{} // id -> body
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("w%d-%d", w, i)
				out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String(body)})
				if err != nil {
					return // the kill interrupted it: not acknowledged
				}
				mu.Lock()
				acked[*out.MessageId] = body
				mu.Unlock()
			}
		}(w)
	}
	// Let some load build up, take a few messages in flight, then kill.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	inflight := map[string]bool{}
	receivedAt := time.Now() // the server's receive (and so the timeout) starts after this
	rr, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, MaxNumberOfMessages: 10, VisibilityTimeout: 6})
	if err != nil || len(rr.Messages) == 0 {
		t.Fatalf("receive before kill: %v %v", err, rr)
	}
	for _, m := range rr.Messages {
		inflight[*m.MessageId] = true
	}
	p.Kill()
	close(stop)
	wg.Wait()

	p2 := apptest.StartProc(t, dir, apptest.Ports{})
	c2 := sqsClient(p2.AWS())
	q2 := aws.String(p2.AWS() + "/000000000000/durable")
	seen := map[string]bool{}
	ackedSeen := func() int {
		n := 0
		for id := range acked {
			if seen[id] {
				n++
			}
		}
		return n
	}
	// Messages whose send was cut by the kill may be there too (durable but
	// never acknowledged): count only the acknowledged ones.
	deadline := time.Now().Add(60 * time.Second)
	for ackedSeen() < len(acked) && time.Now().Before(deadline) {
		out, err := c2.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q2, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if inflight[*m.MessageId] && time.Since(receivedAt) < 6*time.Second {
				t.Fatalf("in-flight message %s visible before its timeout", *m.MessageId)
			}
			if body, ok := acked[*m.MessageId]; ok && body != *m.Body {
				t.Fatalf("message %s body %q, want %q", *m.MessageId, *m.Body, body)
			}
			seen[*m.MessageId] = true
		}
	}
	missing := 0
	for id := range acked {
		if !seen[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged messages lost after kill -9", missing, len(acked))
	}
	for id := range inflight {
		if !seen[id] {
			t.Fatalf("in-flight message %s did not come back", id)
		}
	}
	t.Logf("%d acknowledged messages, %d in flight, all recovered", len(acked), len(inflight))
}

// TestSQSStrictSignatures runs boto 2 (the lecture), boto3 in both
// protocols and the Go SDK with signature verification on: every SQS request
// shape they send (GET with the queue path, form POST, JSON) must verify.
func TestSQSStrictSignatures(t *testing.T) {
	need(t, "/usr/bin/python3", lookPath("/usr/bin/python3"))
	a := apptest.New(t, func(c *config.Config) {
		c.AWS.Strict = true
		c.AWS.Credentials = map[string]string{"AKIDEXAMPLE": "secret"}
	})
	cfg := filepath.Join(t.TempDir(), "boto.cfg")
	_, port, _ := strings.Cut(a.Addr("aws"), ":")
	os.WriteFile(cfg, []byte("[Boto]\nis_secure = False\nproxy = 127.0.0.1\nproxy_port = "+port+"\n"), 0o644)
	out := runCmd(t, 60*time.Second, []string{"BOTO_CONFIG=" + cfg}, "/usr/bin/python3", filepath.Join(apptest.RepoRoot(t), "examples", "lecture", "sqs_boto2.py"))
	if !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("lecture script (strict):\n%s", out)
	}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		out := runCmd(t, 90*time.Second, nil, py, "aws_sqs/boto3_sqs.py", apptest.URL(a, "aws"), "strict"+fmt.Sprint(len(py)))
		if !strings.Contains(out, "OK ") {
			t.Fatalf("boto3 %s (strict):\n%s", py, out)
		}
	}
	// A wrong secret is refused in both protocols.
	bad := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(apptest.URL(a, "aws")),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wrong"}, nil
		})})
	if _, err := bad.ListQueues(context.Background(), &sqs.ListQueuesInput{}); err == nil || !strings.Contains(err.Error(), "40") {
		t.Fatalf("wrong secret accepted: %v", err)
	}
	if _, err := sqsClient(apptest.URL(a, "aws")).ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
		t.Fatal(err)
	}
}
