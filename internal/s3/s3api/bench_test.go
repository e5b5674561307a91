package s3api

import (
	"bytes"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"skyhub/internal/aws/edge"
	"skyhub/internal/blob/fsblob"
	"skyhub/internal/kv/pebblekv"
	"skyhub/internal/s3"
)

// BenchmarkGetObject1KiB is the read hot path through the edge and the
// S3 wire, without the network.
func BenchmarkGetObject1KiB(b *testing.B) {
	store, _ := pebblekv.Open(pebblekv.Config{InMemory: true})
	defer store.Close()
	bl, _ := fsblob.Open(fsblob.Config{Dir: b.TempDir()})
	svc := s3.New(s3.Config{KV: store, Blobs: bl, LifecycleInterval: -1})
	e := edge.New(edge.Config{})
	e.HandleS3(New(Config{Service: svc}))
	svc.CreateBucket(t0ctx(), "bench", "", "")
	svc.PutObject(t0ctx(), "bench", "obj", &s3.PutInput{Body: bytes.NewReader(bytes.Repeat([]byte("x"), 1024)), Size: 1024})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "/bench/obj", strings.NewReader(""))
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != 200 || w.Body.Len() != 1024 {
				b.Fatal(w.Code)
			}
		}
	})
}

// BenchmarkPutObject1KiB is the small-write hot path through the edge and
// the S3 wire (in-memory store: no fsync), a fresh key per call.
func BenchmarkPutObject1KiB(b *testing.B) {
	store, _ := pebblekv.Open(pebblekv.Config{InMemory: true})
	defer store.Close()
	bl, _ := fsblob.Open(fsblob.Config{Dir: b.TempDir()})
	svc := s3.New(s3.Config{KV: store, Blobs: bl, LifecycleInterval: -1})
	e := edge.New(edge.Config{})
	e.HandleS3(New(Config{Service: svc}))
	svc.CreateBucket(t0ctx(), "bench", "", "")
	body := bytes.Repeat([]byte("x"), 1024)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("PUT", "/bench/k"+strconv.FormatInt(n.Add(1), 10), bytes.NewReader(body))
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
}
