package interop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"skyhub/internal/apptest"
)

func ddbCreds() aws.CredentialsProviderFunc {
	return func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
	}
}

// ddbClient is aws-sdk-go-v2's DynamoDB client; it validates x-amz-crc32.
func ddbClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: ddbCreds(), HTTPClient: &http.Client{Timeout: 30 * time.Second}})
}

func botoConfig(t *testing.T, awsAddr string) []string {
	cfg := filepath.Join(t.TempDir(), "boto.cfg")
	_, port, _ := strings.Cut(awsAddr, ":")
	os.WriteFile(cfg, []byte("[Boto]\nis_secure = False\nproxy = 127.0.0.1\nproxy_port = "+port+"\n"), 0o644)
	return []string{"BOTO_CONFIG=" + cfg}
}

// TestDynamoBoto2Lecture runs the lecture's DynamoDB code
// (examples/lecture/dynamodb_boto2.py, boto.dynamodb = API 2011-12-05)
// unchanged through boto's proxy setting, and a fuller boto 2 script.
func TestDynamoBoto2Lecture(t *testing.T) {
	need(t, "/usr/bin/python3", lookPath("/usr/bin/python3"))
	a := apptest.New(t, nil)
	env := botoConfig(t, a.Addr("aws"))
	out := runCmd(t, 60*time.Second, env, "/usr/bin/python3", filepath.Join(apptest.RepoRoot(t), "examples", "lecture", "dynamodb_boto2.py"))
	if !strings.Contains(out, "created table lecture-sensor-readings") || !strings.Contains(out, "'location': 'lab'") ||
		!strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("lecture script:\n%s", out)
	}
	// the legacy API wrote to a table the 2012-08-10 API reads
	g, err := ddbClient(apptest.URL(a, "aws")).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("lecture-sensor-readings"),
		Key: map[string]types.AttributeValue{"deviceId": &types.AttributeValueMemberS{Value: "dev1"},
			"timestamp": &types.AttributeValueMemberS{Value: "2014-01-01 12:00:00"}}})
	if err != nil || g.Item["temperature"].(*types.AttributeValueMemberN).Value != "21" {
		t.Fatalf("item written by boto 2 as seen by the Go SDK: %v %v", g, err)
	}
	out = runCmd(t, 60*time.Second, env, "/usr/bin/python3", "aws_dynamo/boto2_dynamo.py", "t1")
	if strings.TrimSpace(out) != "OK" {
		t.Fatalf("boto2 script:\n%s", out)
	}
	// temporary credentials from STS GetSessionToken, then DynamoDB with the session token
	out = runCmd(t, 60*time.Second, env, "/usr/bin/python3", "aws_dynamo/boto2_sts.py")
	if strings.TrimSpace(out) != "OK" {
		t.Fatalf("boto2 STS script:\n%s", out)
	}
}

// TestDynamoBoto3 runs the boto3 script with Debian's boto3 1.26 and the
// pyenv boto3 1.43.
func TestDynamoBoto3(t *testing.T) {
	a := apptest.New(t, nil)
	for i, py := range []string{"/usr/bin/python3", "python3"} {
		t.Run(py, func(t *testing.T) {
			need(t, py, lookPath(py))
			out := runCmd(t, 90*time.Second, nil, py, "aws_dynamo/boto3_dynamo.py", apptest.URL(a, "aws"), fmt.Sprint("p", i))
			if !strings.HasPrefix(out, "botocore ") || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
				t.Fatalf("boto3:\n%s", out)
			}
		})
	}
}

// TestDynamoAWSCLI runs create-table/put-item/get-item/query/update-item/scan
// with the Debian CLI v2 and the pyenv CLI v1.
func TestDynamoAWSCLI(t *testing.T) {
	a := apptest.New(t, nil)
	for i, cli := range []string{"/usr/bin/aws", "aws"} {
		t.Run(cli, func(t *testing.T) {
			t.Parallel()
			need(t, cli, lookPath(cli))
			out := runCmd(t, 180*time.Second, []string{"SKYHUB_AWS=" + apptest.URL(a, "aws"), "AWS_CLI=" + cli, fmt.Sprintf("SUFFIX=c%d", i)}, "sh", "aws_dynamo/awscli.sh")
			if strings.TrimSpace(out) != "OK" {
				t.Fatalf("awscli:\n%s", out)
			}
		})
	}
}

// TestDynamoJSv3 runs the AWS JS SDK v3 script.
func TestDynamoJSv3(t *testing.T) {
	need(t, "node", lookPath("node"))
	needNodeModule(t, "@aws-sdk/client-dynamodb")
	a := apptest.New(t, nil)
	out := runCmd(t, 60*time.Second, nil, "node", "aws_dynamo/jsv3.mjs", apptest.URL(a, "aws"), "j1")
	if strings.TrimSpace(out) != "OK" {
		t.Fatalf("js v3:\n%s", out)
	}
}

// TestDynamoGoSDKStreams drives the edge with aws-sdk-go-v2: a table with a
// stream, concurrent writers, and the Streams client reading every change in
// order.
func TestDynamoGoSDKStreams(t *testing.T) {
	ctx := context.Background()
	a := apptest.New(t, nil)
	url := apptest.URL(a, "aws")
	c := ddbClient(url)
	sc := dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: ddbCreds()})
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("go-streams"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatal(err)
	}
	const writers, per = 8, 25
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("go-streams"), Item: map[string]types.AttributeValue{
					"k": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-%d", w, i)}, "n": &types.AttributeValueMemberN{Value: strconv.Itoa(i)}}})
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	ls, err := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("go-streams")})
	if err != nil || len(ls.Streams) != 1 {
		t.Fatalf("ListStreams: %v %v", ls, err)
	}
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: ls.Streams[0].StreamArn})
	if err != nil {
		t.Fatal(err)
	}
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: ls.Streams[0].StreamArn,
		ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	last := ""
	iter := it.ShardIterator
	for i := 0; i < 20 && len(seen) < writers*per; i++ {
		out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(50)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if r.EventName != stypes.OperationTypeInsert {
				t.Fatalf("event %s", r.EventName)
			}
			seq := aws.ToString(r.Dynamodb.SequenceNumber)
			if seq <= last {
				t.Fatalf("sequence numbers out of order: %s after %s", seq, last)
			}
			last = seq
			seen[r.Dynamodb.Keys["k"].(*stypes.AttributeValueMemberS).Value] = true
		}
		iter = out.NextShardIterator
	}
	if len(seen) != writers*per {
		t.Fatalf("stream delivered %d distinct changes, want %d", len(seen), writers*per)
	}
	var rnf *types.ResourceNotFoundException
	if _, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"),
		Key: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "x"}}}); !errors.As(err, &rnf) {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
}

// TestDynamoDurability kills the real binary (kill -9) while writers are
// running, restarts it, and checks that every acknowledged PutItem is there.
func TestDynamoDurability(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ports := apptest.Ports{HTTP: apptest.FreePort(t), AWS: apptest.FreePort(t), RawSocket: apptest.FreePort(t)}
	p := apptest.StartProc(t, dir, ports)
	c := ddbClient(p.AWS())
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("durable"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: types.KeyTypeHash}},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-g"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("k"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	fast := ddbClientNoRetry(p.AWS())
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d-%d", w, i)
				_, err := fast.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("durable"), Item: map[string]types.AttributeValue{
					"k": &types.AttributeValueMemberS{Value: k}, "g": &types.AttributeValueMemberS{Value: "all"}}})
				if err != nil {
					return // the server died under us
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}(w)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Kill()
	close(stop)
	wg.Wait()
	mu.Lock()
	keys := append([]string(nil), acked...)
	mu.Unlock()
	if len(keys) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}
	p2 := apptest.StartProc(t, dir, ports)
	defer p2.Stop(t)
	c2 := ddbClient(p2.AWS())
	for _, k := range keys {
		g, err := c2.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("durable"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: k}}})
		if err != nil {
			t.Fatal(err)
		}
		if g.Item == nil {
			t.Fatalf("acknowledged item %s lost after kill -9 (%d acked)", k, len(keys))
		}
	}
	// the index entries were written in the same atomic batch
	q, err := c2.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("durable"), IndexName: aws.String("by-g"), Select: types.SelectCount,
		KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: "all"}}})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := c2.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("durable"), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != tb.Count || int(tb.Count) < len(keys) {
		t.Fatalf("after restart: %d items, %d index entries, %d acknowledged", tb.Count, q.Count, len(keys))
	}
	t.Logf("%d acknowledged writes, all present after kill -9", len(keys))
}

func ddbClientNoRetry(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: ddbCreds(),
		RetryMaxAttempts: 1, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
}
