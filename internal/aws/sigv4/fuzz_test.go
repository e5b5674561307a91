package sigv4

import (
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd", "", "20130524T000000Z")
	f.Add("AWS AK:c2ln", "", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aa", "")
	f.Add("", "AWSAccessKeyId=AK&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", "")
	f.Add("", "Action=ListQueues&SignatureVersion=2&AWSAccessKeyId=AK&Signature=x&SignatureMethod=HmacSHA256", "")
	f.Fuzz(func(t *testing.T, authz, query, date string) {
		r := httptest.NewRequest("GET", "/b/k", nil)
		r.URL.RawQuery = query
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		r.Header.Set("X-Amz-Date", date)
		params, _ := url.ParseQuery(query)
		a, err := Parse(r, params)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-sigv4 error %T", err)
			}
			return
		}
		// Verification of whatever parsed must not panic either.
		_ = a.Verify(r, "secret", Options{Params: params, VHostBucket: "b"})
	})
}

func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), false)
	f.Add([]byte("5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\n\r\n"), true)
	f.Add([]byte("ffffffffffffffffff\r\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		o := ChunkOptions{MaxChunk: 1 << 16}
		if signed {
			o = ChunkOptions{Signed: true, Key: SigningKey("s", "20130524", "us-east-1", "s3"), AmzDate: "20130524T000000Z",
				Scope: "20130524/us-east-1/s3/aws4_request", Seed: "00", MaxChunk: 1 << 16}
		}
		c := NewChunkedReader(strings.NewReader(string(body)), o)
		n, err := io.Copy(io.Discard, c)
		if n > int64(len(body)) {
			t.Fatalf("decoded %d bytes from %d", n, len(body))
		}
		_ = err
	})
}
