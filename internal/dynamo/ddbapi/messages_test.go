package ddbapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestErrorMessages pins error codes and messages that were compared, for
// the same requests, with dynalite 4.0.0 (whose messages follow AWS); they
// matched except where noted.
func TestErrorMessages(t *testing.T) {
	h := benchHandler(t)
	call2 := func(op, body string) (string, string) {
		w := do(h, "DynamoDB_20120810."+op, body)
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(w.Body.Bytes(), &e)
		return e.Type, e.Message
	}
	key := `"Key":{"pk":{"S":"a"},"sk":{"N":"1"}}`
	item := `"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}`
	cases := []struct{ op, body, typ, msg string }{
		{"DescribeTable", `{"TableName":"ab"}`, "ValidationException", "TableName must be at least 3 characters long and at most 255 characters long"},
		{"DescribeTable", `{"TableName":"nope"}`, "ResourceNotFoundException", "Requested resource not found: Table: nope not found"},
		{"GetItem", `{"TableName":"nope",` + key + `}`, "ResourceNotFoundException", "Requested resource not found"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"}}}`, "ValidationException", "One or more parameter values were invalid: Missing the key sk in the item"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"S":"x"}}}`, "ValidationException", "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":""},"sk":{"N":"1"}}}`, "ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"abc"}}}`, "ValidationException", "The parameter cannot be converted to a numeric value: abc"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"s":{"SS":[]}}}`, "ValidationException", "One or more parameter values were invalid: An string set  may not be empty"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"s":{"SS":["x","x"]}}}`, "ValidationException", "One or more parameter values were invalid: Input collection [x, x] contains duplicates."},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a","N":"1"},"sk":{"N":"1"}}}`, "ValidationException", "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"z":{}}}`, "ValidationException", "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{"GetItem", `{"TableName":"tbl","Key":{"pk":{"S":"a"}}}`, "ValidationException", "The provided key element does not match the schema"},
		{"PutItem", `{"TableName":"tbl",` + item + `,"ConditionExpression":"attribute_exists(status)"}`, "ValidationException", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{"PutItem", `{"TableName":"tbl",` + item + `,"ConditionExpression":"a = :x"}`, "ValidationException", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x"},
		{"PutItem", `{"TableName":"tbl",` + item + `,"ConditionExpression":"a = :x","ExpressionAttributeValues":{":x":{"S":"1"},":y":{"S":"2"}}}`, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}"},
		{"PutItem", `{"TableName":"tbl",` + item + `,"ConditionExpression":"attribute_exists(pk)"}`, "ConditionalCheckFailedException", "The conditional request failed"},
		{"PutItem", `{"TableName":"tbl",` + item + `,"ExpressionAttributeValues":{":x":{"S":"1"}}}`, "ValidationException", "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"},
		{"PutItem", `{"TableName":"tbl",` + item + `,"ConditionExpression":"attribute_exists(pk)","Expected":{"pk":{"Exists":false}}}`, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},
		{"UpdateItem", `{"TableName":"tbl",` + key + `,"UpdateExpression":"SET sk = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ValidationException", "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"},
		{"UpdateItem", `{"TableName":"tbl",` + key + `,"UpdateExpression":"SET a = :v SET b = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ValidationException", `Invalid UpdateExpression: The "SET" section can only be used once in an update expression;`},
		{"UpdateItem", `{"TableName":"tbl",` + key + `,"UpdateExpression":"SET a = :v, a.b = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ValidationException", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{"UpdateItem", `{"TableName":"tbl",` + key + `,"UpdateExpression":"SET h2 = pk + :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ValidationException", "An operand in the update expression has an incorrect data type"},
		{"Query", `{"TableName":"tbl","KeyConditionExpression":"sk = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ValidationException", "Query condition missed key schema element: pk"},
		{"Query", `{"TableName":"tbl","KeyConditionExpression":"pk = :v OR sk = :n","ExpressionAttributeValues":{":v":{"S":"2"},":n":{"N":"1"}}}`, "ValidationException", "Invalid operator used in KeyConditionExpression: OR"},
		{"Query", `{"TableName":"tbl","IndexName":"idx","KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{":v":{"S":"2"}}}`, "ValidationException", "The table does not have the specified index: idx"},
		{"Query", `{"TableName":"tbl","KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ValidationException", "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"Scan", `{"TableName":"tbl","Segment":3,"TotalSegments":2}`, "ValidationException", "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less than TotalSegments: 2"},
		{"BatchWriteItem", `{"RequestItems":{"tbl":[{"PutRequest":{` + item + `}},{"PutRequest":{` + item + `}}]}}`, "ValidationException", "Provided list of item keys contains duplicates"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"1234567890123456789012345678901234567890"}}}`, "ValidationException", "Attempting to store more than 38 significant digits in a Number"},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"S":"` + strings.Repeat("x", 410000) + `"}}}`, "ValidationException", "Item size has exceeded the maximum allowed size"},
		// dynalite answers with an empty message here; AWS names the table
		{"CreateTable", `{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`, "ResourceInUseException", "Table already exists: tbl"},
		{"CreateTable", `{"TableName":"tb2","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"x","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{"CreateTable", `{"TableName":"tb3","AttributeDefinitions":[{"AttributeName":"x","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]"},
	}
	for _, c := range cases {
		typ, msg := call2(c.op, c.body)
		if !strings.HasSuffix(typ, "#"+c.typ) || msg != c.msg {
			t.Errorf("%s %.80s:\n got  %s %q\n want %s %q", c.op, c.body, typ, msg, c.typ, c.msg)
		}
	}
}
