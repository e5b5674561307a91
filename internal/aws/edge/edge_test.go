package edge

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"skyhub/internal/aws/awsproto"
)

type seen struct {
	name  string
	body  string
	proto awsproto.Protocol
	id    Identity
	host  string
	path  string
}

func recorder(name string, out *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*out = seen{name: name, body: string(b), proto: ProtocolFrom(r.Context()), id: IdentityFrom(r.Context()), host: r.Host, path: r.URL.Path}
		w.WriteHeader(200)
	})
}

func newEdge(strict bool) (*Edge, *seen) {
	out := &seen{}
	e := New(Config{Strict: strict, Credentials: map[string]string{"AKID": "secret"}})
	e.HandleQuery("2012-11-05", recorder("sqs-query", out))
	e.HandleTarget("AmazonSQS", recorder("sqs-json", out))
	e.HandleRPCv2("GraniteServiceVersion20100801", recorder("cw-cbor", out))
	e.HandleS3(recorder("s3", out))
	return e, out
}

func TestRouting(t *testing.T) {
	e, out := newEdge(false)
	for _, c := range []struct {
		method, target, ctype, body string
		hdr                         map[string]string
		want                        string
		proto                       awsproto.Protocol
	}{
		{"POST", "/", "application/x-www-form-urlencoded", "Action=ListQueues&Version=2012-11-05", nil, "sqs-query", awsproto.Query},
		{"GET", "/000000000000/q?Action=ReceiveMessage&Version=2012-11-05", "", "", nil, "sqs-query", awsproto.Query},
		{"POST", "/", "application/x-amz-json-1.0", "{}", map[string]string{"X-Amz-Target": "AmazonSQS.ListQueues"}, "sqs-json", awsproto.JSON10},
		{"POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData", "application/cbor", "", nil, "cw-cbor", awsproto.RPCv2CBOR},
		{"PUT", "/bucket/key", "application/x-www-form-urlencoded", "Action=ListQueues&Version=2012-11-05", nil, "s3", awsproto.RestXML},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		for k, v := range c.hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if out.name != c.want || out.proto != c.proto || out.body != c.body {
			t.Errorf("%s %s: routed to %q (%v) body %q", c.method, c.target, out.name, out.proto, out.body)
		}
		if w.Header().Get("x-amzn-RequestId") == "" || w.Header().Get("x-amz-request-id") == "" {
			t.Errorf("no request id headers")
		}
	}
}

// An absolute-form request (a client using Skyhub as its proxy) is served
// as if Skyhub were the origin.
func TestAbsoluteForm(t *testing.T) {
	e, out := newEdge(false)
	srv := httptest.NewServer(e)
	defer srv.Close()
	conn, err := (&httpDialer{}).dial(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "PUT http://mybucket.s3.amazonaws.com/data/file.txt HTTP/1.1\r\nHost: mybucket.s3.amazonaws.com\r\nContent-Length: 2\r\n\r\nhi")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || out.name != "s3" || out.host != "mybucket.s3.amazonaws.com" || out.path != "/data/file.txt" || out.body != "hi" {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
}

func TestVirtualBucket(t *testing.T) {
	for host, want := range map[string]string{
		"mybucket.s3.amazonaws.com":                   "mybucket",
		"my.dotted.bucket.s3.us-west-2.amazonaws.com": "my.dotted.bucket",
		"b1.s3-eu-west-1.amazonaws.com":               "b1",
		"s3.amazonaws.com":                            "",
		"queue.amazonaws.com":                         "",
		"b2.localhost:4566":                           "b2",
		"localhost:4566":                              "",
		"127.0.0.1:4566":                              "",
	} {
		if got := VirtualBucket(host); got != want {
			t.Errorf("%s: %q want %q", host, got, want)
		}
	}
}

func signed(t *testing.T, r *http.Request, secret, service string, body []byte) {
	t.Helper()
	h := v4.NewSigner()
	sum := sha256hex(body)
	if err := h.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret}, r, sum, service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// Strict mode: a bad signature gets the service's own error in its own envelope.
func TestStrictErrorsPerProtocol(t *testing.T) {
	e, out := newEdge(true)
	form := []byte("Action=ListQueues&Version=2012-11-05")
	for _, c := range []struct {
		name, secret string
		req          func() *http.Request
		body         []byte
		status       int
		contains     string
		header       [2]string
	}{
		{"query good", "secret", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://127.0.0.1/", bytes.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, form, 200, "", [2]string{}},
		{"query bad", "nope", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://127.0.0.1/", bytes.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, form, 403, `<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>`, [2]string{}},
		{"json bad", "nope", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://127.0.0.1/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "AmazonSQS.ListQueues")
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
			r.Header.Set("x-amzn-query-mode", "true")
			return r
		}, []byte("{}"), 400, `"__type":"com.amazonaws.sqs#InvalidSignatureException"`, [2]string{"x-amzn-query-error", "SignatureDoesNotMatch;Sender"}},
		{"s3 bad", "nope", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://127.0.0.1/b/k", nil)
			r.Header.Set("X-Amz-Content-Sha256", sha256hex(nil))
			return r
		}, nil, 403, "<Code>SignatureDoesNotMatch</Code>", [2]string{}},
	} {
		r := c.req()
		signed(t, r, c.secret, "sqs", c.body)
		var buf bytes.Buffer
		r.Write(&buf)
		sr, _ := http.ReadRequest(bufio.NewReader(&buf))
		sr.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		*out = seen{}
		e.ServeHTTP(w, sr)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body.String())
		}
		if c.header[0] != "" && w.Header().Get(c.header[0]) != c.header[1] {
			t.Errorf("%s: %s = %q", c.name, c.header[0], w.Header().Get(c.header[0]))
		}
		if c.status == 200 && (out.id.AccessKey != "AKID" || out.body != string(c.body)) {
			t.Errorf("%s: handler saw %+v", c.name, out)
		}
	}
	// Unknown key.
	r := httptest.NewRequest("GET", "/?Action=ListQueues&Version=2012-11-05", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=NOPE/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00")
	r.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "<Code>InvalidClientTokenId</Code>") {
		t.Errorf("unknown key: %d %s", w.Code, w.Body.String())
	}
}

func TestAWSChunkedDecoded(t *testing.T) {
	e, out := newEdge(false)
	r := httptest.NewRequest("PUT", "/b/k", strings.NewReader("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"))
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	r.Header.Set("X-Amz-Decoded-Content-Length", "5")
	e.ServeHTTP(httptest.NewRecorder(), r)
	if out.body != "hello" {
		t.Fatalf("%q", out.body)
	}
}

func FuzzRoute(f *testing.F) {
	f.Add("POST", "/", "application/x-www-form-urlencoded", "Action=SendMessage&Version=2012-11-05&MessageBody=hi%20there")
	f.Add("GET", "/000000000000/q?Action=ReceiveMessage&Version=2012-11-05", "", "")
	f.Add("POST", "/", "application/x-www-form-urlencoded; charset=utf-8", "Action=%zz&Version")
	f.Add("POST", "/service/X/operation/Y", "application/cbor", "\xa0")
	e, _ := newEdge(false)
	f.Fuzz(func(t *testing.T, method, target, ctype, body string) {
		if !validMethod(method) {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" {
			return
		}
		r := httptest.NewRequest(method, "/", strings.NewReader(body))
		r.URL = u
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%d for %q %q", w.Code, target, body)
		}
	})
}

// A body shorter than its Content-Length fails after the idle timeout
// instead of holding the request forever.
func TestBodyIdleTimeout(t *testing.T) {
	e := New(Config{BodyIdleTimeout: 200 * time.Millisecond})
	e.HandleS3(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if err == nil {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(400)
		io.WriteString(w, err.Error())
	}))
	srv := httptest.NewServer(e)
	defer srv.Close()
	conn, err := (&httpDialer{}).dial(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "timeout") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// Requests in a known protocol for a service nobody serves get that
// protocol's error, not S3's.
func TestUnknownServices(t *testing.T) {
	e, out := newEdge(false)
	for _, c := range []struct {
		method, target, ctype, body string
		hdr                         map[string]string
		contains                    string
	}{
		{"POST", "/", "application/x-www-form-urlencoded", "Action=RunInstances&Version=2014-10-01", nil, "<Code>InvalidAction</Code>"},
		{"GET", "/?Action=DescribeAlarms&Version=2010-08-01", "", "", nil, "<Code>InvalidAction</Code>"},
		{"POST", "/", "application/x-amz-json-1.1", "{}", map[string]string{"X-Amz-Target": "Nope_2020.Op"}, `"__type":"UnknownOperationException"`},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		for k, v := range c.hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		*out = seen{}
		e.ServeHTTP(w, r)
		if w.Code != 400 || !strings.Contains(w.Body.String(), c.contains) || out.name != "" {
			t.Errorf("%s %s: %d %s (handler %q)", c.method, c.target, w.Code, w.Body.String(), out.name)
		}
	}
}
