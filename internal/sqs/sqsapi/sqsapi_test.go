package sqsapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/sqs"
)

func newAPI(t testing.TB) *API { return newAPIWith(t, nil) }

func newAPIWith(t testing.TB, reg prometheus.Registerer) *API {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := sqs.New(context.Background(), sqs.Config{Store: st, MaxWait: time.Millisecond, PurgeCooldown: -1, DeletedCooldown: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return New(Config{Service: svc, Metrics: reg})
}

func TestDecodeQueryLists(t *testing.T) {
	v, _ := url.ParseQuery("Action=SendMessageBatch&QueueUrl=u" +
		"&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two" +
		"&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one" +
		"&SendMessageBatchRequestEntry.1.DelaySeconds=3" +
		"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k" +
		"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Binary" +
		"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue=AAH%2F" +
		"&AttributeName=All&AttributeName.1=QueueArn&Attribute.Name=DelaySeconds&Attribute.Value=4" +
		"&Tag.1.Key=a&Tag.1.Value=b&MaxNumberOfMessages=7")
	in, err := decodeQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Entries) != 2 || in.Entries[0].ID != "a" || in.Entries[1].MessageBody != "two" || *in.Entries[0].DelaySeconds != 3 {
		t.Fatalf("entries = %+v", in.Entries)
	}
	if b := in.Entries[0].MessageAttributes["k"].BinaryValue; string(b) != "\x00\x01\xff" {
		t.Fatalf("binary = %q", b)
	}
	if strings.Join(in.AttributeNames, ",") != "All,QueueArn" || in.Attributes["DelaySeconds"] != "4" || in.Tags["a"] != "b" || *in.MaxNumberOfMessages != 7 {
		t.Fatalf("in = %+v", in)
	}
	v, _ = url.ParseQuery("MessageAttribute.1.Name=a&MessageAttribute.2.Name=a")
	if _, err := decodeQuery(v); sqs.CodeOf(err) != sqs.CodeInvalidParameterValue {
		t.Fatalf("repeated attribute name: %v", err)
	}
}

func do(t *testing.T, h http.Handler, req *http.Request) (int, http.Header, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, w.Result().Header, string(b)
}

func TestBothProtocols(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newAPIWith(t, reg)
	form := func(s string) *http.Request {
		r := httptest.NewRequest("POST", "http://sqs.local/", strings.NewReader(s))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	js := func(op, s string) *http.Request {
		r := httptest.NewRequest("POST", "http://sqs.local/", strings.NewReader(s))
		r.Header.Set("X-Amz-Target", "AmazonSQS."+op)
		return r
	}
	st, _, body := do(t, a, form("Action=CreateQueue&QueueName=q1&Attribute.1.Name=DelaySeconds&Attribute.1.Value=0"))
	if st != 200 || !strings.Contains(body, "<QueueUrl>http://sqs.local/000000000000/q1</QueueUrl>") {
		t.Fatalf("create: %d %s", st, body)
	}
	st, _, body = do(t, a, js("SendMessage", `{"QueueUrl":"http://sqs.local/000000000000/q1","MessageBody":"hi","MessageAttributes":{"n":{"DataType":"Number","StringValue":"1"}}}`))
	var sent map[string]string
	json.Unmarshal([]byte(body), &sent)
	if st != 200 || sent["MD5OfMessageBody"] != sqs.MD5OfBody("hi") || sent["MD5OfMessageAttributes"] == "" {
		t.Fatalf("send: %d %s", st, body)
	}
	// boto 2 style: GET to the queue path.
	st, _, body = do(t, a, httptest.NewRequest("GET", "http://sqs.local/000000000000/q1?Action=ReceiveMessage&MessageAttributeName.1=All", nil))
	if st != 200 || !strings.Contains(body, "<Body>hi</Body>") || !strings.Contains(body, "<MD5OfMessageAttributes>"+sent["MD5OfMessageAttributes"]) ||
		!strings.Contains(body, "<MessageAttribute><Name>n</Name><Value><StringValue>1</StringValue><DataType>Number</DataType></Value></MessageAttribute>") {
		t.Fatalf("receive: %d %s", st, body)
	}
	st, _, body = do(t, a, js("ReceiveMessage", `{"QueueUrl":"http://sqs.local/000000000000/q1"}`))
	if st != 200 || body != "{}" {
		t.Fatalf("empty receive: %d %s", st, body)
	}
	st, _, body = do(t, a, js("ListQueues", `{}`))
	if st != 200 || body != `{"QueueUrls":["http://sqs.local/000000000000/q1"]}` {
		t.Fatalf("list: %d %s", st, body)
	}
	st, h, body := do(t, a, js("ReceiveMessage", `{"QueueUrl":"http://sqs.local/000000000000/q1","MaxNumberOfMessages":0}`))
	if st != 400 || h.Get("x-amzn-query-error") != "InvalidParameterValue;Sender" || !strings.Contains(body, "Value 0 for parameter MaxNumberOfMessages") {
		t.Fatalf("bad max: %d %v %s", st, h, body)
	}
	if n := counterValue(a.metrics.messages.WithLabelValues("sent")); n != 1 {
		t.Fatalf("sent counter = %v", n)
	}
	if n := counterValue(a.metrics.messages.WithLabelValues("received")); n != 1 {
		t.Fatalf("received counter = %v", n)
	}
	if n := counterValue(a.metrics.requests.WithLabelValues("ReceiveMessage", "InvalidParameterValue")); n != 1 {
		t.Fatalf("error counter = %v", n)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
