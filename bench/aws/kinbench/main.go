// Command kinbench is the Kinesis load generator: it drives any Kinesis
// endpoint (Skyhub, moto_server, kinesalite) with aws-sdk-go-v2 (JSON 1.1,
// keep-alive) and prints one line per scenario:
//
//	scenario target ops/s p50 p99 errors
//
// Scenarios: put (PutRecord, -size byte records, random partition keys),
// putrecords (PutRecords of 500 x 1 KiB; also prints records/s) and get
// (GetRecords with -limit from a prefilled shard, each worker walking its
// own iterator chain and starting over at TRIM_HORIZON at the end; also
// prints records/s); raw-put, raw-putrecords and raw-get send the same
// requests prebuilt over runner.RawConn (see raw.go), with the server's CPU
// per operation when -pid is given. Runs are bounded by -d; loopback
// endpoints only.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"skyhub/bench/aws/runner"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "Kinesis endpoint (loopback only)")
	target := flag.String("target", "skyhub", "target label")
	scenario := flag.String("scenario", "put", "put | putrecords | get | raw-put | raw-putrecords | raw-get")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "unmeasured warm-up")
	size := flag.Int("size", 200, "record bytes for put")
	shards := flag.Int("shards", 4, "shards of the stream")
	limit := flag.Int("limit", 100, "GetRecords Limit")
	prefill := flag.Int("prefill", 10000, "records to prefill for get")
	pid := flag.Int("pid", 0, "server process id: print its CPU time per operation (raw-* scenarios)")
	flag.Parse()
	if !runner.Loopback(*endpoint) {
		fmt.Fprintln(os.Stderr, "kinbench: endpoint must be a loopback URL")
		os.Exit(2)
	}
	var err error
	if strings.HasPrefix(*scenario, "raw-") {
		err = runRaw(*endpoint, *target, *scenario, *conc, *dur, *warm, *size, *shards, *limit, *prefill, *pid)
	} else {
		err = run(*endpoint, *target, *scenario, *conc, *dur, *warm, *size, *shards, *limit, *prefill)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kinbench:", err)
		os.Exit(1)
	}
}

func client(endpoint string, conc int) *kinesis.Client {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: 90 * time.Second}
	return kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Transport: tr, Timeout: 60 * time.Second}, RetryMaxAttempts: 1})
}

func createStream(ctx context.Context, c *kinesis.Client, name string, shards int) error {
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))}); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		if err == nil && d.StreamDescription.StreamStatus == types.StreamStatusActive {
			return nil
		}
		if err != nil {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("stream did not become ACTIVE (last error: %v)", last)
}

func run(endpoint, target, scenario string, conc int, dur, warm time.Duration, size, shards, limit, prefill int) error {
	ctx := context.Background()
	c := client(endpoint, conc)
	name := fmt.Sprintf("bench-%s-%d", scenario, time.Now().UnixNano())
	switch scenario {
	case "put":
		if err := createStream(ctx, c, name, shards); err != nil {
			return err
		}
		data := []byte(strings.Repeat("x", size))
		r := runner.Run(ctx, "kinesis-put-c"+fmt.Sprint(conc), target, conc, warm, dur, func(ctx context.Context, w, i int) error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: data,
				PartitionKey: aws.String(fmt.Sprintf("dev-%d-%d", w, i))})
			return err
		})
		report(r)
	case "putrecords":
		if err := createStream(ctx, c, name, shards); err != nil {
			return err
		}
		data := []byte(strings.Repeat("x", 1024))
		r := runner.Run(ctx, "kinesis-putrecords500x1k-c"+fmt.Sprint(conc), target, conc, warm, dur, func(ctx context.Context, w, i int) error {
			recs := make([]types.PutRecordsRequestEntry, 500)
			for k := range recs {
				recs[k] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprintf("d%d-%d-%d", w, i, k))}
			}
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: recs})
			if err == nil && aws.ToInt32(out.FailedRecordCount) > 0 {
				err = fmt.Errorf("%d records failed", aws.ToInt32(out.FailedRecordCount))
			}
			return err
		})
		report(r)
		fmt.Printf("kinesis-putrecords-records-c%d %s %.0f records/s\n", conc, target, r.PerSec()*500)
	case "get":
		if err := createStream(ctx, c, name, 1); err != nil {
			return err
		}
		shard, err := prefillShard(ctx, c, name, size, prefill)
		if err != nil {
			return err
		}
		iters := make([]*string, conc)
		r := runner.Run(ctx, fmt.Sprintf("kinesis-get-limit%d-c%d", limit, conc), target, conc, warm, dur, func(ctx context.Context, w, i int) error {
			if iters[w] == nil {
				it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: shard,
					ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
				if err != nil {
					return err
				}
				iters[w] = it.ShardIterator
			}
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iters[w], Limit: aws.Int32(int32(limit))})
			if err != nil {
				iters[w] = nil
				return err
			}
			iters[w] = out.NextShardIterator
			if len(out.Records) < limit {
				iters[w] = nil
			}
			return nil
		})
		report(r)
		// Upper bound: the last call of each pass over the shard returns fewer.
		fmt.Printf("kinesis-get-records-limit%d-c%d %s %.0f records/s\n", limit, conc, target, r.PerSec()*float64(limit))
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	return nil
}

func report(r runner.Result) {
	fmt.Println(r.Line())
	if r.FirstErr != nil {
		fmt.Fprintln(os.Stderr, "first error:", r.FirstErr)
	}
}

// prefillShard puts n records of size bytes into the one-shard stream name
// in PutRecords batches of 500 and returns the shard's id.
func prefillShard(ctx context.Context, c *kinesis.Client, name string, size, n int) (*string, error) {
	data := []byte(strings.Repeat("x", size))
	for done := 0; done < n; done += 500 {
		recs := make([]types.PutRecordsRequestEntry, min(500, n-done))
		for k := range recs {
			recs[k] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprint(k))}
		}
		if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: recs}); err != nil {
			return nil, fmt.Errorf("prefill: %w", err)
		}
	}
	d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return d.StreamDescription.Shards[0].ShardId, nil
}
