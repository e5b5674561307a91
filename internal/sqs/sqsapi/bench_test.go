package sqsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/sqs"
)

// BenchmarkHTTPSendMessage measures a JSON SendMessage through the wire
// handler over real HTTP (loopback, keep-alive), durable on disk.
func BenchmarkHTTPSendMessage(b *testing.B) {
	st, err := pebblekv.Open(pebblekv.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, err := sqs.New(context.Background(), sqs.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	srv := httptest.NewServer(New(Config{Service: svc}))
	defer srv.Close()
	svc.CreateQueue(context.Background(), "bench", nil, nil)
	body := `{"QueueUrl":"` + srv.URL + `/000000000000/bench","MessageBody":"` + strings.Repeat("x", 200) + `"}`
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &http.Client{Transport: tr}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "AmazonSQS.SendMessage")
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
