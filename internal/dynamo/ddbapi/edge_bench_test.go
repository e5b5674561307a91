package ddbapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"skyhub/internal/aws/edge"
	"skyhub/internal/dynamo/ddbapi"
)

// BenchmarkEdgeGetItem is GetItem through the AWS edge over a loopback
// socket (client cost included), to see the whole server path in a profile.
func BenchmarkEdgeGetItem(b *testing.B) {
	h := benchHandler(b)
	for i := 0; i < 1000; i++ {
		call(b, h, "PutItem", putBody(i))
	}
	e := edge.New(edge.Config{Region: "us-east-1", AccountID: "000000000000"})
	e.HandleTarget(ddbapi.TargetPrefix, h)
	srv := httptest.NewServer(e)
	defer srv.Close()
	c := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k := i % 1000
			i++
			body := `{"TableName":"tbl","Key":{"pk":{"S":"p` + strconv.Itoa(k%100) + `"},"sk":{"N":"` + strconv.Itoa(k) + `"}}}`
			req, _ := http.NewRequest("POST", srv.URL+"/", bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
			req.Header.Set("X-Amz-Date", "20260101T000000Z")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000")
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}
