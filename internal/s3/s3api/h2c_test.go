package s3api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"skyhub/internal/apptest"
)

// The AWS listener speaks cleartext HTTP/2 (prior knowledge) as well as
// HTTP/1.1; S3 works over it, bodies included.
func TestS3OverH2C(t *testing.T) {
	a := apptest.New(t, nil)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: p}}
	u := apptest.URL(a, "aws")
	for _, step := range []struct{ method, path, body string }{{"PUT", "/h2bucket", ""}, {"PUT", "/h2bucket/k", "over h2c"}} {
		req, _ := http.NewRequest(step.method, u+step.path, strings.NewReader(step.body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, resp.StatusCode, resp.Proto)
		}
	}
	resp, err := c.Get(u + "/h2bucket/k")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "over h2c" || resp.ProtoMajor != 2 {
		t.Fatalf("%q %s", b, resp.Proto)
	}
}
