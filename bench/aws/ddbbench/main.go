// Command ddbbench is the DynamoDB load generator: it drives any DynamoDB
// endpoint (Skyhub, dynalite, moto_server) and prints one line per run:
//
//	scenario target ops/s p50_ms p99_ms server_cpu_us_per_op
//
// SDK scenarios use aws-sdk-go-v2 (keep-alive, x-amz-crc32 checks on):
// put (PutItem of a new item, -size bytes of payload), get (GetItem of a
// random prefilled item), query (Query of 10 items of a random partition).
// Raw scenarios post prebuilt JSON over bench/aws/runner's lean keep-alive
// client, one connection per worker (no SDK or net/http client cost), so that Skyhub can be set beside the machine's reference
// servers (/work/shared/limits httpbare, which needs a "StreamName" member
// that DynamoDB ignores): rawput (a distinct key per request), rawget and
// rawquery; the raw scenarios also measure the peers' server capacity
// without the SDK's client cost.
// Every run is bounded by -d plus a capped prefill; loopback only. It keeps
// its own closed loop (rather than bench/aws/runner's) because it samples
// the server's CPU time exactly over the measured window.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"skyhub/bench/aws/runner"
)

type opts struct {
	endpoint, target, scenario, table string
	conc, size, prefill               int
	dur, warm, prefillMax             time.Duration
	noTable                           bool
	serverPID                         int
}

func main() {
	var o opts
	flag.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:4566", "DynamoDB endpoint (loopback only)")
	flag.StringVar(&o.target, "target", "skyhub", "target label for the result line")
	flag.StringVar(&o.scenario, "scenario", "put", "put | get | query | rawput | rawget | rawquery")
	flag.StringVar(&o.table, "table", "", "table name (default bench-<scenario>-<time>)")
	flag.IntVar(&o.conc, "c", 16, "concurrent clients")
	flag.DurationVar(&o.dur, "d", 10*time.Second, "measured duration")
	flag.DurationVar(&o.warm, "warmup", time.Second, "unmeasured warm-up")
	flag.IntVar(&o.size, "size", 200, "payload bytes per item")
	flag.IntVar(&o.prefill, "prefill", 10000, "items to prefill for get/query/rawget")
	flag.DurationVar(&o.prefillMax, "prefill-max", 120*time.Second, "cap on prefill time")
	flag.BoolVar(&o.noTable, "notable", false, "do not create a table (reference servers)")
	flag.IntVar(&o.serverPID, "serverpid", 0, "server PID: also report its CPU time per operation (robust when the machine is busy)")
	flag.Parse()
	if !runner.Loopback(o.endpoint) {
		fmt.Fprintln(os.Stderr, "ddbbench: endpoint must be a loopback URL")
		os.Exit(2)
	}
	if o.table == "" {
		o.table = fmt.Sprintf("bench-%s-%d", o.scenario, time.Now().UnixNano())
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ddbbench:", err)
		os.Exit(1)
	}
}

func httpClient(conc int) *http.Client {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: 90 * time.Second}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func sdk(o opts) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(o.endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: httpClient(o.conc), RetryMaxAttempts: 1,
	})
}

func pk(i int) string { return "p" + strconv.Itoa(i%100) }

func run(o opts) error {
	ctx := context.Background()
	c := sdk(o)
	payload := strings.Repeat("x", o.size)
	if !o.noTable {
		_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(o.table),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			BillingMode: types.BillingModePayPerRequest})
		if err != nil {
			return fmt.Errorf("create table: %w", err)
		}
		for i := 0; i < 300; i++ {
			d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(o.table)})
			if err == nil && d.Table.TableStatus == types.TableStatusActive {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if (o.scenario == "get" || o.scenario == "query" || o.scenario == "rawget" || o.scenario == "rawquery") && !o.noTable {
		if err := prefill(ctx, c, o, payload); err != nil {
			return err
		}
	}
	var op func(ctx context.Context, w int, i int, rng *rand.Rand) error
	// Raw scenarios: one lean keep-alive connection per worker (runner.RawConn),
	// so the load generator's own HTTP cost stays small beside the server's.
	conns := make([]*runner.RawConn, o.conc)
	for w := range conns {
		conns[w] = runner.NewRawConn(o.endpoint)
		defer conns[w].Close()
	}
	host := strings.TrimPrefix(strings.TrimPrefix(o.endpoint, "http://"), "https://")
	host = strings.TrimSuffix(host, "/")
	raw := func(w int, target string, body []byte) error {
		req := runner.BuildRequest("POST", "/", host, body,
			"Content-Type", "application/x-amz-json-1.0",
			"X-Amz-Target", target,
			"X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"),
			"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
		status, msg, err := conns[w].Do(req)
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("status %d: %.300s", status, msg)
		}
		return nil
	}
	switch o.scenario {
	case "put":
		op = func(ctx context.Context, w, i int, _ *rand.Rand) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(o.table), Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "w" + strconv.Itoa(w)}, "sk": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
				"data": &types.AttributeValueMemberS{Value: payload}}})
			return err
		}
	case "get":
		op = func(ctx context.Context, w, i int, rng *rand.Rand) error {
			k := rng.Intn(o.prefill)
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(o.table), Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: pk(k)}, "sk": &types.AttributeValueMemberN{Value: strconv.Itoa(k)}}})
			if err == nil && out.Item == nil {
				err = fmt.Errorf("item %d missing", k)
			}
			return err
		}
	case "query":
		op = func(ctx context.Context, w, i int, rng *rand.Rand) error {
			p := rng.Intn(100)
			out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(o.table), Limit: aws.Int32(10),
				KeyConditionExpression:    aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: pk(p)}}})
			if err == nil && len(out.Items) == 0 {
				err = fmt.Errorf("empty partition %d", p)
			}
			return err
		}
	case "rawput":
		op = func(ctx context.Context, w, i int, _ *rand.Rand) error {
			body := `{"TableName":"` + o.table + `","StreamName":"ref","PartitionKey":"w","Data":"eA==","Item":{"pk":{"S":"w` + strconv.Itoa(w) +
				`"},"sk":{"N":"` + strconv.Itoa(i) + `"},"data":{"S":"` + payload + `"}}}`
			return raw(w, "DynamoDB_20120810.PutItem", []byte(body))
		}
	case "rawget":
		op = func(ctx context.Context, w, i int, rng *rand.Rand) error {
			k := rng.Intn(o.prefill)
			body := `{"TableName":"` + o.table + `","StreamName":"ref","PartitionKey":"w","Data":"eA==","Key":{"pk":{"S":"` + pk(k) +
				`"},"sk":{"N":"` + strconv.Itoa(k) + `"}}}`
			return raw(w, "DynamoDB_20120810.GetItem", []byte(body))
		}
	case "rawquery":
		op = func(ctx context.Context, w, i int, rng *rand.Rand) error {
			body := `{"TableName":"` + o.table + `","StreamName":"ref","PartitionKey":"w","Data":"eA==","Limit":10,` +
				`"KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"` + pk(rng.Intn(100)) + `"}}}`
			return raw(w, "DynamoDB_20120810.Query", []byte(body))
		}
	default:
		return fmt.Errorf("unknown scenario %q", o.scenario)
	}
	return measure(o, op)
}

func prefill(ctx context.Context, c *dynamodb.Client, o opts, payload string) error {
	deadline := time.Now().Add(o.prefillMax)
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Value
	for w := 0; w < o.conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				start := int(next.Add(25)) - 25
				if start >= o.prefill {
					return
				}
				var reqs []types.WriteRequest
				for i := start; i < start+25 && i < o.prefill; i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: pk(i)}, "sk": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
						"data": &types.AttributeValueMemberS{Value: payload}}}})
				}
				for len(reqs) > 0 {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{o.table: reqs}})
					if err != nil {
						first.CompareAndSwap(nil, err)
						return
					}
					reqs = out.UnprocessedItems[o.table]
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	if int(next.Load()) < o.prefill {
		o.prefill = int(next.Load())
	}
	return nil
}

func measure(o opts, op func(ctx context.Context, w, i int, rng *rand.Rand) error) error {
	ctx := context.Background()
	var measuring atomic.Bool
	stop := make(chan struct{})
	lat := make([][]time.Duration, o.conc)
	counts := make([]int, o.conc)
	var failed atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < o.conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				if err := op(ctx, w, i, rng); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
				if measuring.Load() {
					lat[w] = append(lat[w], time.Since(t0))
					counts[w]++
				}
			}
		}(w)
	}
	time.Sleep(o.warm)
	cpu0 := runner.ProcCPU(o.serverPID)
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(o.dur)
	measuring.Store(false)
	elapsed := time.Since(t0)
	cpu1 := runner.ProcCPU(o.serverPID)
	close(stop)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	var all []time.Duration
	total := 0
	for w := range lat {
		all = append(all, lat[w]...)
		total += counts[w]
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	cpuPerOp := "-"
	if o.serverPID > 0 && total > 0 && cpu1 >= cpu0 {
		cpuPerOp = fmt.Sprintf("%.1f", float64((cpu1-cpu0).Microseconds())/float64(total))
	}
	fmt.Printf("ddb-%s-c%d %s %.0f %.2f %.2f %s\n", o.scenario, o.conc, o.target, float64(total)/elapsed.Seconds(), pct(0.5), pct(0.99), cpuPerOp)
	return nil
}
