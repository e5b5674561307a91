// Command s3bench is the S3 load generator: PutObject and GetObject of
// -size bytes with aws-sdk-go-v2 (keep-alive, path style) against any
// loopback S3 endpoint (Skyhub, moto_server), plus raw-HTTP scenarios with no
// SDK cost (rawput, rawget: unsigned PUT/GET of an object; rawpost: POST of
// -size bytes to any URL, e.g. the limits httpbare reference). One line per
// run: "scenario target ops/s p50 p99 errors".
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
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
		op = func(ctx context.Context, w, i int) error {
			var req *http.Request
			switch *scenario {
			case "rawput":
				req, _ = http.NewRequestWithContext(ctx, "PUT", fmt.Sprintf("%s/%s/w%d/%d", *endpoint, *bucket, w, i), bytes.NewReader(body))
			case "rawget":
				req, _ = http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/%s/obj-%d", *endpoint, *bucket, (w*7919+i)%*keys), nil)
			default:
				req, _ = http.NewRequestWithContext(ctx, "POST", *endpoint, bytes.NewReader(body))
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
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
