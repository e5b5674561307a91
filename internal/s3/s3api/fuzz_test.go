package s3api

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"skyhub/internal/blob/fsblob"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/s3"
)

// FuzzHandler feeds arbitrary requests (configuration XML, listing
// parameters, ranges, copy sources, form uploads) to the S3 wire: no panic,
// and never a 5xx.
func FuzzHandler(f *testing.F) {
	f.Add("PUT", "/fz?versioning", "", "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
	f.Add("POST", "/fz?delete", "", "<Delete><Object><Key>a</Key></Object></Delete>")
	f.Add("PUT", "/fz?cors", "", "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
	f.Add("PUT", "/fz?lifecycle", "", "<LifecycleConfiguration><Rule><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>")
	f.Add("GET", "/fz?list-type=2&continuation-token=%%%&max-keys=-1", "", "")
	f.Add("GET", "/fz/k", "bytes=-0", "")
	f.Add("PUT", "/fz/k2", "/fz/k?versionId=zz", "")
	f.Add("POST", "/fz/k?uploadId=x", "", "<CompleteMultipartUpload><Part><PartNumber>99999</PartNumber></Part></CompleteMultipartUpload>")
	f.Add("PUT", "/fz?notification", "", "<NotificationConfiguration><QueueConfiguration><Queue>arn:aws:sqs:x</Queue><Event>s3:*</Event></QueueConfiguration></NotificationConfiguration>")
	store, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	bl, err := fsblob.Open(fsblob.Config{Dir: f.TempDir(), NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	svc := s3.New(s3.Config{KV: store, Blobs: bl, LifecycleInterval: -1})
	h := New(Config{Service: svc})
	svc.CreateBucket(t0ctx(), "fz", "", "")
	svc.PutObject(t0ctx(), "fz", "k", &s3.PutInput{Body: strings.NewReader("hello"), Size: 5})
	f.Fuzz(func(t *testing.T, method, target, hdr, body string) {
		switch method {
		case "GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS":
		default:
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" {
			return
		}
		r := httptest.NewRequest(method, "/", strings.NewReader(body))
		r.URL = u
		r.Host = "127.0.0.1"
		r.Header.Set("Range", hdr)
		r.Header.Set("x-amz-copy-source", hdr)
		r.Header.Set("Origin", hdr)
		if strings.HasPrefix(body, "--") {
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+strings.TrimPrefix(strings.SplitN(body, "\r\n", 2)[0], "--"))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body.String())
		}
	})
}
