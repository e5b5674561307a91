package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

// shippedBotoConfig is examples/lecture/boto.cfg with its proxy port pointed
// at this test's AWS edge.
func shippedBotoConfig(t *testing.T, awsAddr string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apptest.RepoRoot(t), "examples", "lecture", "boto.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(awsAddr, ":")
	cfg := regexp.MustCompile(`(?m)^proxy_port = \d+$`).ReplaceAllString(string(b), "proxy_port = "+port)
	if cfg == string(b) && !strings.Contains(cfg, port) {
		t.Fatal("boto.cfg has no proxy_port line")
	}
	p := filepath.Join(t.TempDir(), "boto.cfg")
	os.WriteFile(p, []byte(cfg), 0o644)
	return p
}

// TestS3Boto2Lecture runs the lecture's S3 code unchanged (virtual-host
// style mybucket.s3.amazonaws.com through boto's proxy, SigV2, Content-MD5,
// Expect: 100-Continue), in lenient and in strict mode.
func TestS3Boto2Lecture(t *testing.T) {
	need(t, "/usr/bin/python3", lookPath("/usr/bin/python3"))
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprint("strict=", strict), func(t *testing.T) {
			a := apptest.New(t, func(c *config.Config) {
				c.AWS.Strict = strict
				c.AWS.Credentials = map[string]string{"AKIDEXAMPLE": "secret"}
			})
			env := []string{"BOTO_CONFIG=" + shippedBotoConfig(t, a.Addr("aws"))}
			out := runCmd(t, 60*time.Second, env, "/usr/bin/python3", filepath.Join(apptest.RepoRoot(t), "examples", "lecture", "s3_boto2.py"))
			if !strings.Contains(out, "uploaded data/sensor.txt 44090 bytes") || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
				t.Fatalf("lecture script:\n%s", out)
			}
			// The bytes really are in Skyhub (read with another client).
			c := s3Client(apptest.URL(a, "aws"), "AKIDEXAMPLE", "secret")
			h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("mybucket2013"), Key: aws.String("data/sensor.txt")})
			if err != nil || *h.ContentLength != 44090 {
				t.Fatal(h, err)
			}
		})
	}
}

// TestS3Boto2StrictBadSignature: boto 2 with a wrong secret gets
// SignatureDoesNotMatch (403) in strict mode.
func TestS3Boto2StrictBadSignature(t *testing.T) {
	need(t, "/usr/bin/python3", lookPath("/usr/bin/python3"))
	a := apptest.New(t, func(c *config.Config) {
		c.AWS.Strict = true
		c.AWS.Credentials = map[string]string{"AKIDEXAMPLE": "other-secret"}
	})
	env := []string{"BOTO_CONFIG=" + shippedBotoConfig(t, a.Addr("aws"))}
	script := `
import boto
from boto.exception import S3ResponseError
c = boto.connect_s3(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
try:
    c.create_bucket("badsig")
except S3ResponseError as e:
    print(e.status, e.error_code)
`
	out := runCmd(t, 60*time.Second, env, "/usr/bin/python3", "-c", script)
	if strings.TrimSpace(out) != "403 SignatureDoesNotMatch" {
		t.Fatalf("got %q", out)
	}
}

// TestS3Boto3 runs the boto3 script with Debian's boto3 1.26 and the pyenv
// boto3 1.43 (flexible checksums on by default), in strict mode: every
// SigV4 header, SigV2 presigned URL and presigned POST policy is verified.
func TestS3Boto3(t *testing.T) {
	a := apptest.New(t, func(c *config.Config) {
		c.AWS.Strict = true
		c.AWS.Credentials = map[string]string{"AKIDEXAMPLE": "secret"}
	})
	for i, py := range []string{"/usr/bin/python3", "python3"} {
		t.Run(py, func(t *testing.T) {
			need(t, py, lookPath(py))
			out := runCmd(t, 120*time.Second, nil, py, "aws_s3/boto3_s3.py", apptest.URL(a, "aws"), fmt.Sprintf("boto3-%d", i))
			if !strings.HasSuffix(strings.TrimSpace(out), "OK") {
				t.Fatalf("boto3:\n%s", out)
			}
		})
	}
}

// TestS3AWSCLI runs s3 cp / sync / ls / presign / rb with the Debian CLI v2
// and the pyenv CLI v1, with every signature verified (strict mode).
func TestS3AWSCLI(t *testing.T) {
	a := apptest.New(t, func(c *config.Config) {
		c.AWS.Strict = true
		c.AWS.Credentials = map[string]string{"AKIDEXAMPLE": "secret"}
	})
	for i, cli := range []string{"/usr/bin/aws", "aws"} {
		t.Run(cli, func(t *testing.T) {
			need(t, cli, lookPath(cli))
			need(t, "curl", lookPath("curl"))
			out := runCmd(t, 180*time.Second, []string{"SKYHUB_AWS=" + apptest.URL(a, "aws"), "AWS_CLI=" + cli, fmt.Sprintf("SUFFIX=c%d", i)}, "sh", "aws_s3/awscli.sh")
			if strings.TrimSpace(out) != "OK" {
				t.Fatalf("awscli:\n%s", out)
			}
		})
	}
}

// TestS3JSv3 runs @aws-sdk/client-s3 (Buffer and aws-chunked stream bodies),
// with every signature verified (strict mode).
func TestS3JSv3(t *testing.T) {
	need(t, "node", lookPath("node"))
	needNodeModule(t, "@aws-sdk/client-s3")
	a := apptest.New(t, func(c *config.Config) {
		c.AWS.Strict = true
		c.AWS.Credentials = map[string]string{"AKIDEXAMPLE": "secret"}
	})
	out := runCmd(t, 90*time.Second, []string{"SKYHUB_AWS=" + apptest.URL(a, "aws"), "SUFFIX=js1"}, "node", "aws_s3/jsv3.mjs")
	if !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("jsv3:\n%s", out)
	}
}

func s3Client(endpoint, akid, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		HTTPClient:                 &http.Client{Timeout: 30 * time.Second},
	})
}

// TestS3GoSDKVirtualHostAndChecksums: aws-sdk-go-v2 with virtual-host
// addressing (bucket.localhost) and SHA256 checksums, read back verified.
func TestS3GoSDKVirtualHostAndChecksums(t *testing.T) {
	a := apptest.New(t, nil)
	ctx := context.Background()
	_, port, _ := strings.Cut(a.Addr("aws"), ":")
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://localhost:" + port),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, nil
		}),
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return s3Dialer.DialContext(ctx, network, a.Addr("aws"))
			}}}})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789"), 1000)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b.txt"), Body: bytes.NewReader(body),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if put.ChecksumSHA256 == nil || *put.ChecksumSHA256 != s3B64(sum[:]) {
		t.Fatalf("sha256 %v", put.ChecksumSHA256)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b.txt"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(get.Body) // the SDK validates the checksum while reading
	if err != nil || !bytes.Equal(got, body) {
		t.Fatal(len(got), err)
	}
	// The same object path-style.
	pc := s3Client(apptest.URL(a, "aws"), "AK", "SK")
	l, err := pc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(l.Contents) != 1 || *l.Contents[0].Key != "a/b.txt" {
		t.Fatal(l, err)
	}
}

// TestS3DurabilityKill9: objects acknowledged while writers are running
// survive kill -9 of the real binary.
func TestS3DurabilityKill9(t *testing.T) {
	dir := t.TempDir()
	p := apptest.StartProc(t, dir, apptest.Ports{})
	ctx := context.Background()
	c := s3Client(p.AWS(), "AK", "SK")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("durable")}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string][]byte{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d/%05d", w, i)
				body := bytes.Repeat([]byte(key), 1+i%300)
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("durable"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
					return // the kill
				}
				mu.Lock()
				acked[key] = body
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
		time.Sleep(10 * time.Millisecond)
	}
	p.Kill()
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}
	p2 := apptest.StartProc(t, dir, apptest.Ports{})
	c2 := s3Client(p2.AWS(), "AK", "SK")
	for key, body := range acked {
		get, err := c2.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("durable"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("acknowledged %s lost: %v", key, err)
		}
		got, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if !bytes.Equal(got, body) {
			t.Fatalf("%s: %d bytes, want %d", key, len(got), len(body))
		}
	}
	t.Logf("%d acknowledged objects survived kill -9", len(acked))
	p2.Stop(t)
}
