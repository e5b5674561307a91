package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	akid   = "AKIDEXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// serverSide turns a client request into what an http.Server hands a handler.
func serverSide(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufioReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func signV4(t *testing.T, method, url, service string, body []byte, hdr map[string]string) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	h := sha256.Sum256(body)
	ph := hex.EncodeToString(h[:])
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", ph)
	}
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, ph, service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestV4HeaderWithSDKSigner(t *testing.T) {
	for _, c := range []struct{ service, url string }{
		{"s3", "http://127.0.0.1:4566/my-bucket/some%20key/with+plus%2Fslash?list-type=2&prefix=a%20b&delimiter=%2F"},
		{"sqs", "http://localhost:4566/000000000000/q?Action=SendMessage"},
		{"dynamodb", "http://127.0.0.1:4566/"},
	} {
		req := signV4(t, "PUT", c.url, c.service, []byte("hello"), map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-A": "  b   c "})
		r := serverSide(t, req)
		a, err := Parse(r, nil)
		if err != nil || a.Scheme != V4Header || a.AccessKey != akid || a.Service != c.service || a.Region != "us-east-1" {
			t.Fatalf("%s: parse %+v %v", c.service, a, err)
		}
		if err := a.Verify(r, secret, Options{Body: []byte("hello")}); err != nil {
			t.Fatalf("%s: verify: %v", c.service, err)
		}
		if err := a.Verify(r, "wrong", Options{Body: []byte("hello")}); !isReason(err, Mismatch) {
			t.Fatalf("%s: wrong secret: %v", c.service, err)
		}
		r.Header.Set("Content-Type", "text/html")
		if err := a.Verify(r, secret, Options{Body: []byte("hello")}); !isReason(err, Mismatch) {
			t.Fatalf("%s: tampered header accepted: %v", c.service, err)
		}
	}
}

func TestV4Skew(t *testing.T) {
	r := serverSide(t, signV4(t, "GET", "http://h/b", "s3", nil, nil))
	a, _ := Parse(r, nil)
	if err := a.Verify(r, secret, Options{Now: time.Now().Add(time.Hour)}); !isReason(err, Expired) {
		t.Fatal(err)
	}
}

func TestV4Presigned(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:4566/bucket/key.txt?versionId=x", nil)
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "300")
	req.URL.RawQuery = q.Encode()
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, UnsignedPayload, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", signed, nil)
	r.Host = "127.0.0.1:4566"
	a, err := Parse(r, nil)
	if err != nil || a.Scheme != V4Query {
		t.Fatal(a, err)
	}
	if err := a.Verify(r, secret, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(r, secret, Options{Now: time.Now().Add(10 * time.Minute)}); !isReason(err, Expired) {
		t.Fatal("expired URL accepted", err)
	}
	r2 := httptest.NewRequest("GET", strings.Replace(signed, "key.txt", "other.txt", 1), nil)
	r2.Host = r.Host
	a2, _ := Parse(r2, nil)
	if err := a2.Verify(r2, secret, Options{}); !isReason(err, Mismatch) {
		t.Fatal("tampered URL accepted", err)
	}
}

// The SigV2 example of the S3 developer guide (GET object, virtual host).
func TestV2HeaderDocExample(t *testing.T) {
	r := httptest.NewRequest("GET", "/photos/puppy.jpg", nil)
	r.Host = "johnsmith.s3.amazonaws.com"
	r.Header.Set("Date", "Tue, 27 Mar 2007 19:36:42 +0000")
	r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
	a, err := Parse(r, nil)
	if err != nil || a.Scheme != V2Header || a.AccessKey != "AKIAIOSFODNN7EXAMPLE" {
		t.Fatal(a, err)
	}
	if err := a.Verify(r, secret, Options{VHostBucket: "johnsmith"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(r, secret+"x", Options{VHostBucket: "johnsmith"}); !isReason(err, Mismatch) {
		t.Fatal(err)
	}
}

func TestV2Presigned(t *testing.T) {
	exp := fmt.Sprint(time.Now().Add(time.Minute).Unix())
	r := httptest.NewRequest("GET", "/b/k?uploads&x=1", nil)
	sig := hmacSHA1B64(secret, "GET\n\n\n"+exp+"\n/b/k?uploads")
	r = httptest.NewRequest("GET", "/b/k?uploads&x=1&AWSAccessKeyId=AK&Expires="+exp+"&Signature="+urlQ(sig), nil)
	a, err := Parse(r, nil)
	if err != nil || a.Scheme != V2Query {
		t.Fatal(a, err)
	}
	if err := a.Verify(r, secret, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(r, secret, Options{Now: time.Now().Add(time.Hour)}); !isReason(err, Expired) {
		t.Fatal(err)
	}
}

func TestParseMalformed(t *testing.T) {
	for _, h := range []string{
		"AWS4-HMAC-SHA256 Credential=AK/2013/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, Signature=ab",
		"AWS4-HMAC-SHA256 garbage",
		"AWS nocolon",
		"Bearer x",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		r.Header.Set("X-Amz-Date", "20130524T000000Z")
		if _, err := Parse(r, nil); !isReason(err, Malformed) {
			t.Errorf("%q: %v", h, err)
		}
	}
	r := httptest.NewRequest("GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a", nil)
	if _, err := Parse(r, nil); !isReason(err, Malformed) {
		t.Error(err)
	}
}

// The streaming example of the S3 SigV4 documentation: 65 KiB of 'a' in
// chunks of 64 KiB and 1 KiB, seed signature from the request.
func TestChunkedSignedDocExample(t *testing.T) {
	key := SigningKey(secret, "20130524", "us-east-1", "s3")
	o := ChunkOptions{Signed: true, Key: key, AmzDate: "20130524T000000Z", Scope: "20130524/us-east-1/s3/aws4_request",
		Seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"}
	sigs := []string{"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"}
	var body bytes.Buffer
	fmt.Fprintf(&body, "10000;chunk-signature=%s\r\n%s\r\n", sigs[0], strings.Repeat("a", 65536))
	fmt.Fprintf(&body, "400;chunk-signature=%s\r\n%s\r\n", sigs[1], strings.Repeat("a", 1024))
	fmt.Fprintf(&body, "0;chunk-signature=%s\r\n\r\n", sigs[2])
	got, err := io.ReadAll(NewChunkedReader(bytes.NewReader(body.Bytes()), o))
	if err != nil || len(got) != 66560 {
		t.Fatal(len(got), err)
	}
	bad := bytes.Replace(body.Bytes(), []byte(sigs[1]), []byte(strings.Repeat("0", 64)), 1)
	if _, err := io.ReadAll(NewChunkedReader(bytes.NewReader(bad), o)); !isReason(err, Mismatch) {
		t.Fatal("bad chunk signature accepted:", err)
	}
}

func TestChunkedUnsignedTrailer(t *testing.T) {
	body := "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
	c := NewChunkedReader(strings.NewReader(body), ChunkOptions{})
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello world" {
		t.Fatal(string(got), err)
	}
	if c.Trailers().Get("x-amz-checksum-crc32") != "DUoRhQ==" {
		t.Fatal(c.Trailers())
	}
	for _, b := range []string{"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhel", "5\r\nhello\r\n"} {
		if _, err := io.ReadAll(NewChunkedReader(strings.NewReader(b), ChunkOptions{})); err == nil {
			t.Errorf("%q decoded without error", b)
		}
	}
}

func isReason(err error, r Reason) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == r
}

// TestChunkedSmallBufferLongLines: with a small announced payload the
// reader's buffer is small, yet chunk lines and trailers longer than that
// buffer still decode (lines are gathered across buffer fills).
func TestChunkedSmallBufferLongLines(t *testing.T) {
	payload := strings.Repeat("p", 5000)
	long := strings.Repeat("v", 6000)
	body := fmt.Sprintf("%x;ext=%s\r\n%s\r\n0\r\nx-amz-meta-long:%s\r\n\r\n", len(payload), strings.Repeat("e", 5000), payload, long)
	c := NewChunkedReader(strings.NewReader(body), ChunkOptions{Decoded: 10})
	got, err := io.ReadAll(c)
	if err != nil || string(got) != payload {
		t.Fatalf("decoded %d bytes, err %v", len(got), err)
	}
	if c.Trailers().Get("x-amz-meta-long") != long {
		t.Fatal("long trailer lost")
	}
}
