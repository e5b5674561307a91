package ddbapi_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/ddbapi"
	"skyhub/internal/kv/pebblekv"
)

func benchHandler(b testing.TB) *ddbapi.Handler {
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := dynamo.New(context.Background(), dynamo.Config{KV: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close(); st.Close() })
	h := ddbapi.New(ddbapi.Config{Service: svc})
	call(b, h, "CreateTable", `{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],`+
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}`)
	return h
}

func do(h *ddbapi.Handler, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", target)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func call(b testing.TB, h *ddbapi.Handler, op, body string) {
	w := do(h, "DynamoDB_20120810."+op, body)
	if w.Code != 200 {
		b.Fatalf("%s: %d %s", op, w.Code, w.Body.String())
	}
}

var payload = strings.Repeat("x", 200)

func putBody(i int) string {
	return `{"TableName":"tbl","Item":{"pk":{"S":"p` + strconv.Itoa(i%100) + `"},"sk":{"N":"` + strconv.Itoa(i) + `"},"data":{"S":"` + payload + `"}}}`
}

// BenchmarkPutItem is the wire + domain cost of PutItem (in-memory store).
func BenchmarkPutItem(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call(b, h, "PutItem", putBody(i))
	}
}

// BenchmarkGetItem is the wire + domain cost of GetItem.
func BenchmarkGetItem(b *testing.B) {
	h := benchHandler(b)
	for i := 0; i < 1000; i++ {
		call(b, h, "PutItem", putBody(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % 1000
		call(b, h, "GetItem", `{"TableName":"tbl","Key":{"pk":{"S":"p`+strconv.Itoa(k%100)+`"},"sk":{"N":"`+strconv.Itoa(k)+`"}}}`)
	}
}

// BenchmarkQuery reads 10 items of a partition.
func BenchmarkQuery(b *testing.B) {
	h := benchHandler(b)
	for i := 0; i < 1000; i++ {
		call(b, h, "PutItem", putBody(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call(b, h, "Query", `{"TableName":"tbl","Limit":10,"KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p`+strconv.Itoa(i%100)+`"}}}`)
	}
}
