package ddbapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"skyhub/internal/dynamo/attr"
)

// sameItem compares items decoded by the two paths (attr.Equal: the fast
// and general item decoders may differ in nil vs empty slices only).
func sameItem(a, b attr.Item) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return attr.Equal(attr.Value{T: attr.M, Map: a}, attr.Value{T: attr.M, Map: b})
}

func sameValues(a, b map[string]attr.Value) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !attr.Equal(v, w) {
			return false
		}
	}
	return true
}

// sameReq compares two decoded requests field by field: items and value maps
// with attr.Equal, the rest with reflect.DeepEqual.
func sameReq(t *testing.T, a, b any) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for _, f := range reflect.VisibleFields(va.Type()) {
		if f.Anonymous {
			continue
		}
		x, y := va.FieldByIndex(f.Index).Interface(), vb.FieldByIndex(f.Index).Interface()
		switch x := x.(type) {
		case attr.Item:
			if !sameItem(x, y.(attr.Item)) {
				t.Logf("field %s: %v vs %v", f.Name, x, y)
				return false
			}
		case map[string]attr.Value:
			if !sameValues(x, y.(map[string]attr.Value)) {
				t.Logf("field %s: %v vs %v", f.Name, x, y)
				return false
			}
		default:
			if !reflect.DeepEqual(x, y) {
				t.Logf("field %s: %#v vs %#v", f.Name, x, y)
				return false
			}
		}
	}
	return true
}

func checkFast(t *testing.T, data []byte) (accepted int) {
	check := func(name string, ok bool, fast, slow any) {
		if !ok {
			return
		}
		accepted++
		if err := json.Unmarshal(data, slow); err != nil {
			t.Fatalf("%s scanner accepted %q, encoding/json: %v", name, data, err)
		}
		if !sameReq(t, fast, slow) {
			t.Fatalf("%s: decoders disagree on %q", name, data)
		}
	}
	var g getReq
	check("GetItem", fastGetReq(data, &g), &g, &getReq{})
	var p putReq
	check("PutItem", fastPutReq(data, &p), &p, &putReq{})
	var q queryReq
	check("Query", fastQueryReq(data, &q), &q, &queryReq{})
	var k keyReq
	check("DeleteItem", fastKeyReq(data, &k), &k, &keyReq{})
	var u updateReq
	check("UpdateItem", fastUpdateReq(data, &u), &u, &updateReq{})
	return accepted
}

var fastSeeds = []string{
	`{"TableName":"t","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}`,
	`{"TableName":"t","Key":{"pk":{"S":"a"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`,
	`{"TableName":"t","StreamName":"ref","PartitionKey":"w","Data":"eA==","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}`,
	`{"TableName":"t","Item":{"pk":{"S":"a"},"sk":{"N":"01.5"},"d":{"S":"xxx"}},"ReturnValues":"ALL_OLD"}`,
	`{"TableName":"t","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#p)","ExpressionAttributeNames":{"#p":"pk"},"ExpressionAttributeValues":{":v":{"N":"1"}}}`,
	`{"TableName":"t","Limit":10,"KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"}},"ScanIndexForward":false}`,
	`{"TableName":"t","IndexName":"i","Select":"COUNT","ExclusiveStartKey":{"pk":{"S":"a"}},"Limit":-3,"x":[1,2.5e3,{"y":null}]}`,
	` { "TableName" : "t" , "Key" : { "pk" : { "S" : "a" } } } `,
	`{"tablename":"t"}`, `{"TableName":"t","TableName":"u"}`, `{"TableName":null}`, `{"Limit":1.0}`, `{"Limit":010}`,
	`{"TableName":"t"}x`, `{"TableName":"t\u0041"}`, `{"Key":{"pk":{"S":"a"}},"KEY":{"pk":{"S":"b"}}}`,
	`{"ExpressionAttributeValues":{":a":{"S":"x"},":a":{"S":"y"}}}`, `{"z":-0.0e+1,"w":"\n"}`, `{"z":01}`,
	`{"TableName":"t","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET #n = :v ADD c :one","ExpressionAttributeNames":{"#n":"n"},"ExpressionAttributeValues":{":v":{"S":"x"},":one":{"N":"1"}},"ReturnValues":"ALL_NEW"}`,
	`{"TableName":"t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"n":{"Action":"PUT","Value":{"S":"x"}}}}`,
}

func TestFastRequestSeeds(t *testing.T) {
	for _, s := range fastSeeds {
		checkFast(t, []byte(s))
	}
	// the common shapes must take the fast path (the benchmarks depend on it)
	for _, s := range fastSeeds[:8] {
		if checkFast(t, []byte(s)) == 0 {
			t.Errorf("no scanner accepted %s", s)
		}
	}
	var q queryReq
	if !fastQueryReq([]byte(fastSeeds[5]), &q) || *q.Limit != 10 || *q.ScanIndexForward || q.ExpressionAttributeValues[":p"].Str != "p1" {
		t.Errorf("query scan: %+v", q)
	}
	for _, s := range []string{`{"tablename":"t"}`, `{"TableName":"t","TableName":"u"}`, `{"TableName":null}`, `{"TableName":"t"}x`} {
		var g getReq
		var q queryReq
		if fastGetReq([]byte(s), &g) || fastQueryReq([]byte(s), &q) {
			t.Errorf("scanner accepted %s", s)
		}
	}
	n := len(fastSeeds)
	if u := (updateReq{}); !fastUpdateReq([]byte(fastSeeds[n-2]), &u) || *u.UpdateExpression != "SET #n = :v ADD c :one" || u.ReturnValues != "ALL_NEW" {
		t.Errorf("update scan: %+v", u)
	}
	if u := (updateReq{}); fastUpdateReq([]byte(fastSeeds[n-1]), &u) {
		t.Error("update scanner took AttributeUpdates")
	}
	if k := (keyReq{}); !fastKeyReq([]byte(fastSeeds[0]), &k) || k.Key["pk"].Str != "a" {
		t.Errorf("delete scan: %+v", k)
	}
	if q := (queryReq{}); fastQueryReq([]byte(`{"Limit":1.0}`), &q) {
		t.Error("query scanner accepted a fractional Limit")
	}
}

// FuzzFastRequest: whenever a request scanner accepts a body, encoding/json
// accepts it too and produces the same request.
func FuzzFastRequest(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
	})
}
