package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"skyhub/bench/aws/runner"
)

// Raw scenarios send prebuilt Kinesis requests over runner.RawConn (one
// keep-alive connection per worker, no SDK signing or JSON on the client),
// so the load generator costs little and the figure is the server's:
//
//	raw-put          PutRecord of -size bytes, a fresh partition key per call
//	raw-putrecords   PutRecords of 500 x 1 KiB (also prints records/s)
//	raw-get          GetRecords (-limit) walking a prefilled shard, each
//	                 worker following its NextShardIterator chain
//
// With -pid, the server's CPU time over the run (utime+stime from
// /proc/<pid>/stat) is printed per operation.

const authHeader = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

func rawRequest(host, op string, body []byte) []byte {
	return runner.BuildRequest("POST", "/", host, body,
		"X-Amz-Target", "Kinesis_20131202."+op,
		"Content-Type", "application/x-amz-json-1.1",
		"X-Amz-Date", "20250101T000000Z",
		"Authorization", authHeader)
}

func hostOf(endpoint string) string {
	return strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
}

// measured runs op under the runner and, when pid > 0, prints the server's
// CPU time per operation: utime+stime over the whole run (warm-up included)
// divided by the operations of the whole run (estimated from the measured
// rate).
func measured(ctx context.Context, scenario, target string, conc int, warm, dur time.Duration, pid int, op runner.Op) runner.Result {
	wall := time.Now()
	t0 := runner.ProcCPU(pid)
	r := runner.Run(ctx, scenario, target, conc, warm, dur, op)
	report(r)
	if pid > 0 {
		if t1 := runner.ProcCPU(pid); t1 > 0 && r.Ops > 0 && r.Elapsed > 0 {
			secs := time.Since(wall).Seconds()
			all := float64(r.Ops) * secs / r.Elapsed.Seconds()
			cpu := (t1 - t0).Seconds()
			fmt.Printf("%s %s server CPU %.1f µs/op (%.2f cores)\n", scenario, target, cpu/all*1e6, cpu/secs)
		}
	}
	return r
}

func runRaw(endpoint, target, scenario string, conc int, dur, warm time.Duration, size, shards, limit, prefill, pid int) error {
	ctx := context.Background()
	c := client(endpoint, conc)
	name := fmt.Sprintf("bench-%s-%d", scenario, time.Now().UnixNano())
	host := hostOf(endpoint)
	conns := make([]*runner.RawConn, conc)
	for i := range conns {
		conns[i] = runner.NewRawConn(host)
	}
	defer func() {
		for _, rc := range conns {
			rc.Close()
		}
	}()
	check := func(status int, body []byte, err error) error {
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		return nil
	}
	switch scenario {
	case "raw-put":
		if err := createStream(ctx, c, name, shards); err != nil {
			return err
		}
		data := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", size)))
		// One request per worker and key slot, prebuilt: keys vary so records spread over shards.
		reqs := make([][][]byte, conc)
		for w := range reqs {
			for k := 0; k < 64; k++ {
				body := fmt.Sprintf(`{"StreamName":%q,"PartitionKey":"dev-%d-%d","Data":%q}`, name, w, k, data)
				reqs[w] = append(reqs[w], rawRequest(host, "PutRecord", []byte(body)))
			}
		}
		measured(ctx, fmt.Sprintf("raw-put-c%d", conc), target, conc, warm, dur, pid, func(ctx context.Context, w, i int) error {
			return check(conns[w].Do(reqs[w][i%64]))
		})
	case "raw-putrecords":
		if err := createStream(ctx, c, name, shards); err != nil {
			return err
		}
		data := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 1024)))
		reqs := make([][]byte, conc)
		for w := range reqs {
			var sb strings.Builder
			fmt.Fprintf(&sb, `{"StreamName":%q,"Records":[`, name)
			for k := 0; k < 500; k++ {
				if k > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, `{"PartitionKey":"d%d-%d","Data":"%s"}`, w, k, data)
			}
			sb.WriteString("]}")
			reqs[w] = rawRequest(host, "PutRecords", []byte(sb.String()))
		}
		r := measured(ctx, fmt.Sprintf("raw-putrecords500x1k-c%d", conc), target, conc, warm, dur, pid, func(ctx context.Context, w, i int) error {
			status, body, err := conns[w].Do(reqs[w])
			if err := check(status, body, err); err != nil {
				return err
			}
			if !strings.Contains(string(body[:min(len(body), 40)]), `"FailedRecordCount":0`) && !strings.HasSuffix(string(body), `"FailedRecordCount":0}`) {
				var out struct{ FailedRecordCount int }
				if json.Unmarshal(body, &out) != nil || out.FailedRecordCount != 0 {
					return fmt.Errorf("records failed: %.200s", body)
				}
			}
			return nil
		})
		fmt.Printf("raw-putrecords-records-c%d %s %.0f records/s\n", conc, target, r.PerSec()*500)
	case "raw-get":
		if err := createStream(ctx, c, name, 1); err != nil {
			return err
		}
		shard, err := prefillShard(ctx, c, name, size, prefill)
		if err != nil {
			return err
		}
		first, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
			ShardId: shard, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return err
		}
		start := aws.ToString(first.ShardIterator)
		iters := make([]string, conc)
		r := measured(ctx, fmt.Sprintf("raw-get-limit%d-c%d", limit, conc), target, conc, warm, dur, pid, func(ctx context.Context, w, i int) error {
			if iters[w] == "" {
				iters[w] = start
			}
			body := fmt.Appendf(nil, `{"ShardIterator":%q,"Limit":%d}`, iters[w], limit)
			status, resp, err := conns[w].Do(rawRequest(host, "GetRecords", body))
			if err := check(status, resp, err); err != nil {
				iters[w] = ""
				return err
			}
			var out struct {
				NextShardIterator string
				Records           []json.RawMessage
			}
			if err := json.Unmarshal(resp, &out); err != nil {
				return err
			}
			iters[w] = out.NextShardIterator
			if len(out.Records) < limit {
				iters[w] = ""
			}
			return nil
		})
		fmt.Printf("raw-get-records-limit%d-c%d %s %.0f records/s\n", limit, conc, target, r.PerSec()*float64(limit))
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	return nil
}
