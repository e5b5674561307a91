// Command s3bench is the S3 load generator: PutObject and GetObject of
// -size bytes with aws-sdk-go-v2 (keep-alive, path style) against any
// loopback S3 endpoint (Skyhub, moto_server), plus raw scenarios with
// neither SDK nor net/http client cost (rawput, rawget: PutObject and
// GetObject as prebuilt HTTP/1.1 requests carrying a SigV4 header with
// UNSIGNED-PAYLOAD, valid where signatures are not verified, as in Skyhub's
// default mode and moto's; rawpost: POST of -size bytes to any URL, e.g. the
// limits httpbare reference), each worker on its own runner.RawConn. One
// line per run: "scenario target ops/s p50 p99 errors".
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"skyhub/bench/aws/runner"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "S3 endpoint or URL (loopback only)")
	target := flag.String("target", "skyhub", "target label")
	scenario := flag.String("scenario", "put", "put | get | rawput | rawget | rawpost")
	size := flag.Int("size", 1024, "object bytes")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "unmeasured warm-up")
	bucket := flag.String("bucket", "bench", "bucket")
	keys := flag.Int("keys", 100, "distinct keys for get")
	bin := flag.String("bin", "", "coldstart: the skyhub binary to start")
	runs := flag.Int("runs", 5, "coldstart: starts to measure")
	flag.Parse()
	if *scenario == "coldstart" {
		if err := coldStart(*bin, *runs); err != nil {
			fmt.Fprintln(os.Stderr, "s3bench:", err)
			os.Exit(1)
		}
		return
	}
	if !runner.Loopback(*endpoint) {
		fmt.Fprintln(os.Stderr, "s3bench: endpoint must be a loopback URL")
		os.Exit(2)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2, MaxConnsPerHost: *conc * 2}}
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(*endpoint), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench"}, nil
		}),
		HTTPClient: hc, RetryMaxAttempts: 1})
	ctx := context.Background()
	body := bytes.Repeat([]byte("s"), *size)
	name := fmt.Sprintf("s3-%s-%s-c%d", *scenario, sizeName(*size), *conc)
	if *scenario != "rawpost" {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			fmt.Fprintln(os.Stderr, "s3bench: create bucket:", err)
		}
	}
	if *scenario == "get" || *scenario == "rawget" {
		for k := 0; k < *keys; k++ {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(fmt.Sprintf("obj-%d", k)), Body: bytes.NewReader(body)}); err != nil {
				fmt.Fprintln(os.Stderr, "s3bench: prefill:", err)
				os.Exit(1)
			}
		}
	}
	var op runner.Op
	switch *scenario {
	case "put":
		op = func(ctx context.Context, w, i int) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(fmt.Sprintf("w%d/%d", w, i)), Body: bytes.NewReader(body)})
			return err
		}
	case "get":
		op = func(ctx context.Context, w, i int) error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(fmt.Sprintf("obj-%d", (w*7919+i)%*keys))})
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
			return err
		}
	case "rawput", "rawget", "rawpost":
		op = rawOp(*scenario, *endpoint, *bucket, body, *conc, *keys)
	default:
		fmt.Fprintln(os.Stderr, "s3bench: unknown scenario", *scenario)
		os.Exit(2)
	}
	r := runner.Run(ctx, name, *target, *conc, *warm, *dur, op)
	fmt.Println(r.Line())
	if r.FirstErr != nil {
		fmt.Fprintln(os.Stderr, "first error:", r.FirstErr)
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// rawOp returns a raw scenario's operation: one runner.RawConn per worker,
// requests assembled from prebuilt bytes (a PUT's key changes per call).
func rawOp(scenario, endpoint, bucket string, body []byte, conc, keys int) runner.Op {
	u, _ := url.Parse(endpoint)
	host := u.Host
	conns := make([]*runner.RawConn, conc)
	for w := range conns {
		conns[w] = runner.NewRawConn(host)
	}
	// A SigV4 header as the SDKs send it; without strict mode neither
	// Skyhub nor moto verifies the signature, so one static header serves.
	date := time.Now().UTC().Format("20060102T150405Z")
	auth := "AWS4-HMAC-SHA256 Credential=AKIDBENCH/" + date[:8] + "/us-east-1/s3/aws4_request, " +
		"SignedHeaders=content-length;host;x-amz-content-sha256;x-amz-date, Signature=" + strings.Repeat("0", 64)
	hdrs := []string{"X-Amz-Date", date, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD", "Authorization", auth}
	do := func(w int, req []byte) error {
		status, msg, err := conns[w].Do(req)
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("status %d: %.300s", status, msg)
		}
		return nil
	}
	switch scenario {
	case "rawget":
		reqs := make([][]byte, keys)
		for k := range reqs {
			reqs[k] = runner.BuildRequest("GET", fmt.Sprintf("/%s/obj-%d", bucket, k), host, nil, hdrs...)
		}
		return func(ctx context.Context, w, i int) error { return do(w, reqs[(w*7919+i)%keys]) }
	case "rawput":
		put := append([]string{"Content-Type", "application/octet-stream"}, hdrs...)
		bufs := make([][]byte, conc)
		return func(ctx context.Context, w, i int) error {
			// The request of a fresh key, built into the worker's buffer.
			b := append(bufs[w][:0], "PUT /"...)
			b = append(b, bucket...)
			b = append(b, "/w"...)
			b = strconv.AppendInt(b, int64(w), 10)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, " HTTP/1.1\r\nHost: "...)
			b = append(b, host...)
			b = append(b, "\r\n"...)
			for j := 0; j+1 < len(put); j += 2 {
				b = append(append(append(append(b, put[j]...), ": "...), put[j+1]...), "\r\n"...)
			}
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, int64(len(body)), 10)
			b = append(append(b, "\r\n\r\n"...), body...)
			bufs[w] = b
			return do(w, b)
		}
	default: // rawpost: the limits reference takes any body at its path
		path := u.Path
		if path == "" {
			path = "/"
		}
		req := runner.BuildRequest("POST", path, host, body, "Content-Type", "application/octet-stream")
		return func(ctx context.Context, w, i int) error { return do(w, req) }
	}
}
