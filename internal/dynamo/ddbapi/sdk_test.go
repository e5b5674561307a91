package ddbapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/ddbapi"
	"skyhub/internal/kv/pebblekv"
)

// newServer runs the wire handler on a loopback socket and returns a real
// aws-sdk-go-v2 client for it (the SDK validates x-amz-crc32).
func newServer(t *testing.T) (*dynamodb.Client, *dynamo.Service) {
	t.Helper()
	st, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dynamo.New(context.Background(), dynamo.Config{KV: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ddbapi.New(ddbapi.Config{Service: svc}))
	t.Cleanup(func() { srv.Close(); svc.Close(); st.Close() })
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	return c, svc
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func createOrders(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	_, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("cust"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("ts"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("status"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("cust"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("ts"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("by-status"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("status"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("ts"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSDKItemsQueryIndex(t *testing.T) {
	ctx := context.Background()
	c, _ := newServer(t)
	createOrders(t, c)
	// numbers must sort numerically: -5, 2, 10, 100
	for _, ts := range []string{"10", "-5", "100", "2", "2.5"} {
		st := "open"
		if ts == "100" {
			st = "done"
		}
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
			"cust": s("c1"), "ts": n(ts), "status": s(st), "amount": n("1.50"),
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"),
		KeyConditionExpression:    aws.String("cust = :c AND ts > :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("c1"), ":t": n("0")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range q.Items {
		got = append(got, it["ts"].(*types.AttributeValueMemberN).Value)
	}
	if want := "[2 2.5 10 100]"; sprint(got) != want {
		t.Fatalf("query order = %v, want %s", got, want)
	}
	if a := q.Items[0]["amount"].(*types.AttributeValueMemberN).Value; a != "1.5" {
		t.Fatalf("number not normalised: %q", a)
	}
	// backwards with Limit and pagination
	var all []string
	var start map[string]types.AttributeValue
	for i := 0; i < 10; i++ {
		q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), Limit: aws.Int32(2), ScanIndexForward: aws.Bool(false),
			KeyConditionExpression: aws.String("cust = :c"), ExclusiveStartKey: start,
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("c1")}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range q.Items {
			all = append(all, it["ts"].(*types.AttributeValueMemberN).Value)
		}
		start = q.LastEvaluatedKey
		if start == nil {
			break
		}
	}
	if sprint(all) != "[100 10 2.5 2 -5]" {
		t.Fatalf("paged backwards = %v", all)
	}
	// GSI query
	gq, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": s("done")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(gq.Items) != 1 || gq.Items[0]["ts"].(*types.AttributeValueMemberN).Value != "100" {
		t.Fatalf("gsi query = %v", gq.Items)
	}
	// update moves the item between index partitions atomically
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("orders"),
		Key:                       map[string]types.AttributeValue{"cust": s("c1"), "ts": n("100")},
		UpdateExpression:          aws.String("SET #s = :o, amount = amount + :d"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": s("open"), ":d": n("2")}})
	if err != nil {
		t.Fatal(err)
	}
	gq, _ = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": s("done")}, Select: types.SelectCount})
	if gq.Count != 0 {
		t.Fatalf("stale index entry: count %d", gq.Count)
	}
	g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"),
		Key: map[string]types.AttributeValue{"cust": s("c1"), "ts": n("100")}, ProjectionExpression: aws.String("amount")})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Item) != 1 || g.Item["amount"].(*types.AttributeValueMemberN).Value != "3.5" {
		t.Fatalf("get after update = %v", g.Item)
	}
}

func sprint(v []string) string {
	out := "["
	for i, s := range v {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out + "]"
}

func TestSDKErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := newServer(t)
	createOrders(t, c)
	_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nope")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
		"cust": s("c1"), "ts": n("1")}, ConditionExpression: aws.String("attribute_exists(cust)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("want ConditionalCheckFailedException, got %v", err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"cust": s("c1")}})
	if err == nil || !contains(err.Error(), "Missing the key ts in the item") {
		t.Fatalf("missing key: %v", err)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("a"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("a"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	var riu *types.ResourceInUseException
	if !errors.As(err, &riu) {
		t.Fatalf("want ResourceInUseException, got %v", err)
	}
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"),
		KeyConditionExpression:    aws.String("cust = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("c1"), ":unused": s("x")}})
	if err == nil || !contains(err.Error(), "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}") {
		t.Fatalf("unused value: %v", err)
	}
	big := make([]byte, 401*1024)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
		"cust": s("c1"), "ts": n("1"), "blob": &types.AttributeValueMemberB{Value: big}}})
	if err == nil || !contains(err.Error(), "Item size has exceeded the maximum allowed size") {
		t.Fatalf("big item: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSDKTransactions(t *testing.T) {
	ctx := context.Background()
	c, _ := newServer(t)
	createOrders(t, c)
	put := func(ts string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"cust": s("t"), "ts": n(ts)},
			ConditionExpression: aws.String("attribute_not_exists(cust)")}}
	}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("1"), put("2")}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("3"), put("2")}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("want TransactionCanceledException, got %v", err)
	}
	if len(tce.CancellationReasons) != 2 || aws.ToString(tce.CancellationReasons[0].Code) != "None" || aws.ToString(tce.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("reasons = %+v", tce.CancellationReasons)
	}
	g, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"cust": s("t"), "ts": n("3")}}},
		{Get: &types.Get{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"cust": s("t"), "ts": n("1")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Responses[0].Item != nil || g.Responses[1].Item == nil {
		t.Fatalf("all-or-nothing violated: %+v", g.Responses)
	}
}

func TestSDKPartiQLAndBatch(t *testing.T) {
	ctx := context.Background()
	c, _ := newServer(t)
	createOrders(t, c)
	var reqs []types.WriteRequest
	for i := 0; i < 25; i++ {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"cust": s("b"), "ts": n(strconv.Itoa(i))}}})
	}
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"orders": reqs}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`INSERT INTO "orders" VALUE {'cust': 'p', 'ts': 1, 'tags': <<'a','b'>>}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`UPDATE "orders" SET note = ? WHERE cust = 'p' AND ts = 1`),
		Parameters: []types.AttributeValue{s("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT note, ts FROM "orders" WHERE cust = 'p'`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || out.Items[0]["note"].(*types.AttributeValueMemberS).Value != "hello" || len(out.Items[0]) != 2 {
		t.Fatalf("select = %v", out.Items)
	}
	sc, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM orders WHERE cust = 'b' AND ts BETWEEN 3 AND 5`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 3 {
		t.Fatalf("between = %d items", len(sc.Items))
	}
	_, err = c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`INSERT INTO "orders" VALUE {'cust': 'p', 'ts': 1}`)})
	var dup *types.DuplicateItemException
	if !errors.As(err, &dup) {
		t.Fatalf("want DuplicateItemException, got %v", err)
	}
	// parallel scan: segments partition the table
	total := 0
	for seg := int32(0); seg < 3; seg++ {
		o, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("orders"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		total += int(o.Count)
	}
	if total != 26 {
		t.Fatalf("segments saw %d items, want 26", total)
	}
}

// A batch with one bad item writes nothing.
func TestSDKBatchValidatesFirst(t *testing.T) {
	ctx := context.Background()
	c, _ := newServer(t)
	createOrders(t, c)
	_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"orders": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"cust": s("v"), "ts": n("1")}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"cust": s("v")}}},
	}}})
	if err == nil || !contains(err.Error(), "Missing the key ts in the item") {
		t.Fatalf("bad batch: %v", err)
	}
	g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"cust": s("v"), "ts": n("1")}})
	if err != nil || g.Item != nil {
		t.Fatalf("part of a rejected batch was written: %v %v", g.Item, err)
	}
}
