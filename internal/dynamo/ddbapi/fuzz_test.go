package ddbapi_test

import (
	"context"
	"encoding/json"
	"hash/crc32"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/ddbapi"
	"skyhub/internal/kv/pebblekv"
)

var fuzzOps = []string{
	"DynamoDB_20120810.CreateTable", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.GetItem",
	"DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.DeleteItem", "DynamoDB_20120810.Query",
	"DynamoDB_20120810.Scan", "DynamoDB_20120810.BatchWriteItem", "DynamoDB_20120810.BatchGetItem",
	"DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.ExecuteStatement", "DynamoDB_20120810.UpdateTable",
	"DynamoDB_20111205.PutItem", "DynamoDB_20111205.Query", "DynamoDB_20111205.UpdateItem", "DynamoDB_20111205.CreateTable",
	"DynamoDBStreams_20120810.GetRecords", "DynamoDBStreams_20120810.GetShardIterator",
}

// FuzzRequest feeds arbitrary bodies to every operation: the answer must be
// a 200 or a 400 with a JSON body and a correct x-amz-crc32, never a 500 or
// a panic.
func FuzzRequest(f *testing.F) {
	seeds := []string{
		`{"TableName":"t","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"m":{"M":{"x":{"L":[{"NULL":true}]}}}}}`,
		`{"TableName":"t","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET a = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`,
		`{"TableName":"t","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"a"},":a":{"N":"0"},":b":{"N":"9"}}}`,
		`{"TableName":"t","ScanFilter":{"x":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"2"}]}},"Segment":0,"TotalSegments":2}`,
		`{"Statement":"SELECT * FROM t WHERE pk = ?","Parameters":[{"S":"a"}]}`,
		`{"TableName":"t","HashKeyValue":{"S":"a"},"RangeKeyCondition":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"0"}]}}`,
		`{"RequestItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":"2"}}}}]}}`,
		`{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"c"},"sk":{"N":"3"}}}}]}`,
		`{"TableName":5}`, `[]`, `{`, ``, `{"TableName":"t","Item":{"pk":{}}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	svc, err := dynamo.New(context.Background(), dynamo.Config{KV: st})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close(); st.Close() })
	h := ddbapi.New(ddbapi.Config{Service: svc})
	create := `{"TableName":"t","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],` +
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST",` +
		`"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}}`
	do := func(target, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", target)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	do("DynamoDB_20120810.CreateTable", create)
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		w := do(fuzzOps[int(op)%len(fuzzOps)], body)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON response: %q", w.Body.String())
		}
		if got := w.Header().Get("x-amz-crc32"); got != strconv.FormatUint(uint64(crc32.ChecksumIEEE(w.Body.Bytes())), 10) {
			t.Fatalf("bad crc32 header %q", got)
		}
	})
}

// FuzzPartiQL sends arbitrary statements through ExecuteStatement.
func FuzzPartiQL(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM "tbl" WHERE pk = 'a' AND sk BETWEEN 1 AND 5`,
		`SELECT a.b[1], c FROM tbl WHERE pk IN ['a','b'] OR begins_with(c, 'x')`,
		`INSERT INTO "tbl" VALUE {'pk': 'a', 'sk': 1, 'm': {'l': [1, 'x', <<'s'>>, null, true]}}`,
		`UPDATE "tbl" SET x = x + 1, y = ? REMOVE z WHERE pk = 'a' AND sk = 1`,
		`DELETE FROM tbl WHERE pk = 'a' AND sk = -1.5e3`,
		`SELECT * FROM "tbl"."idx"`, `UPDATE`, `'unterminated`, `SELECT * FROM tbl WHERE a != 'x'`,
	} {
		f.Add(s)
	}
	h := benchHandler(f)
	f.Fuzz(func(t *testing.T, stmt string) {
		body, _ := json.Marshal(map[string]any{"Statement": stmt, "Parameters": []any{map[string]string{"S": "p"}}})
		w := do(h, "DynamoDB_20120810.ExecuteStatement", string(body))
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON: %q", w.Body.String())
		}
	})
}
