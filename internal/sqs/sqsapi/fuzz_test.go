package sqsapi

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"skyhub/internal/sqs"
)

// FuzzDecodeQuery feeds arbitrary query strings to the query-protocol
// decoder (MessageAttribute.N.*, batch entries, Attribute.N pairs, lists)
// and validates whatever it produced as SQS would.
func FuzzDecodeQuery(f *testing.F) {
	for _, s := range []string{
		"Action=SendMessage&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v",
		"SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=b&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Binary&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue=AAE=",
		"DeleteMessageBatchRequestEntry.10.Id=x&DeleteMessageBatchRequestEntry.10.ReceiptHandle=h&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=5",
		"Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5&Attribute.Name=DelaySeconds&Attribute.Value=1&Tag.1.Key=k",
		"AttributeName=All&AttributeName.2=QueueArn&MaxNumberOfMessages=99999999999999999999",
		"MessageAttribute.0.Name=a&MessageAttribute.-1.Name=b&MessageAttribute.999999999.Name=c&MessageAttribute.1.Value.StringListValue.1=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		in, err := decodeQuery(v)
		if err != nil {
			if sqs.CodeOf(err) == sqs.CodeInternalError {
				t.Fatalf("decode error without a code: %v", err)
			}
			return
		}
		for _, e := range append(in.Entries, in.entry) {
			sqs.ValidateAttributes("fuzz", domainAttrs(e.MessageAttributes), false)
			sqs.ValidateAttributes("fuzz", domainAttrs(e.MessageSystemAttributes), true)
			sqs.MD5OfAttributes(domainAttrs(e.MessageAttributes))
		}
	})
}

// FuzzServe sends arbitrary bodies through the whole handler in both
// protocols (on an in-memory store): no panic, and never a 5xx.
func FuzzServe(f *testing.F) {
	f.Add(true, "SendMessage", `{"QueueUrl":"http://h/000000000000/q","MessageBody":"x"}`)
	f.Add(true, "SendMessageBatch", `{"QueueUrl":"/000000000000/q","Entries":[{"Id":"a","MessageBody":"b","MessageAttributes":{"k":{"DataType":"Binary","BinaryValue":"AAE="}}}]}`)
	f.Add(true, "ReceiveMessage", `{"QueueUrl":"/000000000000/q","MaxNumberOfMessages":10,"WaitTimeSeconds":1,"AttributeNames":["All"]}`)
	f.Add(true, "CreateQueue", `{"QueueName":"q.fifo","Attributes":{"FifoQueue":"true"},"tags":{"a":"b"}}`)
	f.Add(false, "", "Action=SendMessage&QueueUrl=/000000000000/q&MessageBody=x&DelaySeconds=3")
	f.Add(false, "", "Action=DeleteMessageBatch&QueueUrl=/000000000000/q&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=AQ")
	f.Add(false, "", "Action=SetQueueAttributes&QueueUrl=/000000000000/q&Attribute.1.Name=RedrivePolicy&Attribute.1.Value={}")
	a := newAPI(f)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("POST", "http://h/", strings.NewReader("Action=CreateQueue&QueueName=q")))
	f.Fuzz(func(t *testing.T, isJSON bool, op, body string) {
		r := httptest.NewRequest("POST", "http://h/", strings.NewReader(body))
		if isJSON {
			r.Header.Set("X-Amz-Target", "AmazonSQS."+op)
		} else {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
	})
}

// FuzzDecodeJSONFast checks the reflection-free JSON path against
// encoding/json: whatever it accepts must decode to exactly what
// json.Unmarshal produces.
func FuzzDecodeJSONFast(f *testing.F) {
	for _, s := range []string{
		`{"QueueUrl":"http://127.0.0.1:4566/000000000000/q","MessageBody":"hello"}`,
		` { "QueueUrl" : "u" , "MaxNumberOfMessages" : 10, "WaitTimeSeconds":0 ,"VisibilityTimeout":30}`,
		`{"QueueUrl":"u","ReceiptHandle":"abc=="}`,
		`{"MessageBody":"a\"b","QueueUrl":"u"}`,
		`{"queueurl":"u"}`,
		`{"DelaySeconds":01}`,
		`{"DelaySeconds":-1}`,
		`{"DelaySeconds":1e2}`,
		`{"QueueUrl":"u","QueueUrl":"v"}`,
		`{"QueueUrl":null}`,
		`{}`,
		`{"QueueUrl":"u"} x`,
		`{"QueueUrl":"é"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeJSONFast(b)
		if !ok {
			return
		}
		slow := &input{}
		if err := json.Unmarshal(b, slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, b)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast path differs for %q:\n%+v\n%+v", b, fast, slow)
		}
	})
}
