package s3api_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

func client(t *testing.T, endpoint, akid, secret string) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
		}),
		HTTPClient: &http.Client{Timeout: 20 * time.Second},
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

func statusOf(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestGoSDKObjectLifecycle(t *testing.T) {
	a := apptest.New(t, nil)
	ctx := context.Background()
	c := client(t, apptest.URL(a, "aws"), "test", "test")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("things")}); err != nil {
		t.Fatal(err)
	}
	body := []byte("temperature=21.5")
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("things"), Key: aws.String("dev/1 reading.txt"),
		Body: bytes.NewReader(body), ContentType: aws.String("text/plain"), Metadata: map[string]string{"device": "d1"},
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if *put.ETag != fmt.Sprintf(`"%x"`, sum) {
		t.Fatalf("etag %s", *put.ETag)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("things"), Key: aws.String("dev/1 reading.txt"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	if put.ChecksumCRC32C == nil || *put.ChecksumCRC32C == "" || get.ChecksumCRC32C == nil || *get.ChecksumCRC32C != *put.ChecksumCRC32C {
		t.Fatal("CRC32C checksum not echoed")
	}
	if string(got) != string(body) || *get.ContentType != "text/plain" || get.Metadata["device"] != "d1" {
		t.Fatalf("%q %v %v", got, *get.ContentType, get.Metadata)
	}
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("things"), Key: aws.String("dev/1 reading.txt"), Range: aws.String("bytes=0-10")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rg.Body)
	if string(got) != "temperature" || *rg.ContentRange != "bytes 0-10/16" {
		t.Fatalf("range %q %s", got, *rg.ContentRange)
	}
	for i := 0; i < 5; i++ {
		c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("things"), Key: aws.String(fmt.Sprintf("dev/%d/x", i)), Body: strings.NewReader("x")})
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("things"), Prefix: aws.String("dev/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.CommonPrefixes) != 2 || len(l.Contents) != 1 || *l.Contents[0].Key != "dev/1 reading.txt" || !*l.IsTruncated || l.NextContinuationToken == nil {
		t.Fatalf("list page 1: %d prefixes, truncated %v", len(l.CommonPrefixes), *l.IsTruncated)
	}
	l2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("things"), Prefix: aws.String("dev/"), Delimiter: aws.String("/"), ContinuationToken: l.NextContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(l2.CommonPrefixes) != 3 || len(l2.Contents) != 0 || *l2.CommonPrefixes[0].Prefix != "dev/2/" || *l2.IsTruncated {
		t.Fatalf("list page 2: %+v", l2)
	}
	// Copy, tagging, delete.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("things"), Key: aws.String("copy"), CopySource: aws.String("things/dev/1%20reading.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("things"), Key: aws.String("copy"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("room"), Value: aws.String("lab")}}}}); err != nil {
		t.Fatal(err)
	}
	tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("things"), Key: aws.String("copy")})
	if err != nil || len(tg.TagSet) != 1 || *tg.TagSet[0].Value != "lab" {
		t.Fatal(tg, err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("things"), Key: aws.String("nope")})
	if apiCode(err) != "NoSuchKey" || statusOf(err) != 404 {
		t.Fatalf("missing key: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k")})
	if apiCode(err) != "NoSuchBucket" || statusOf(err) != 404 {
		t.Fatalf("missing bucket: %v", err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("things")})
	if apiCode(err) != "BucketNotEmpty" || statusOf(err) != 409 {
		t.Fatalf("delete non-empty: %v", err)
	}
}

func TestGoSDKMultipartAndVersions(t *testing.T) {
	a := apptest.New(t, nil)
	ctx := context.Background()
	c := client(t, apptest.URL(a, "aws"), "test", "test")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mpu")})
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	p1 := bytes.Repeat([]byte("a"), 5<<20)
	p2 := []byte("tail")
	var parts []types.CompletedPart
	for i, p := range [][]byte{p1, p2} {
		r, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: r.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: up.UploadId})
	if err != nil || len(lp.Parts) != 2 {
		t.Fatal(lp, err)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(*done.ETag, `-2"`) {
		t.Fatal(*done.ETag)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")})
	if err != nil || *h.ContentLength != int64(len(p1)+len(p2)) {
		t.Fatal(h, err)
	}
	g, _ := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), Range: aws.String("bytes=5242878-")})
	tail, _ := io.ReadAll(g.Body)
	if string(tail) != "aatail" {
		t.Fatalf("%q", tail)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String("nosuch"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if apiCode(err) != "NoSuchUpload" || statusOf(err) != 404 {
		t.Fatal(err)
	}

	// Versioning.
	c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("mpu"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	v1, _ := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v"), Body: strings.NewReader("one")})
	v2, _ := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v"), Body: strings.NewReader("two")})
	if v1.VersionId == nil || v2.VersionId == nil || *v1.VersionId == *v2.VersionId {
		t.Fatal("no distinct version ids")
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v")})
	if err != nil || del.DeleteMarker == nil || !*del.DeleteMarker {
		t.Fatal(del, err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v")}); apiCode(err) != "NoSuchKey" {
		t.Fatal(err)
	}
	old, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v"), VersionId: v1.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(old.Body)
	if string(b) != "one" {
		t.Fatal(string(b))
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("mpu"), Prefix: aws.String("v")})
	if err != nil || len(lv.Versions) != 2 || len(lv.DeleteMarkers) != 1 || !*lv.DeleteMarkers[0].IsLatest {
		t.Fatalf("%+v %v", lv, err)
	}
	// Removing the marker brings "two" back.
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v"), VersionId: del.VersionId})
	cur, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(cur.Body)
	if string(b) != "two" {
		t.Fatal(string(b))
	}
}

func TestStrictSignatures(t *testing.T) {
	a := apptest.New(t, func(c *config.Config) {
		c.AWS.Strict = true
		c.AWS.Credentials = map[string]string{"AKIDSKYHUB": "secret-key"}
	})
	ctx := context.Background()
	good := client(t, apptest.URL(a, "aws"), "AKIDSKYHUB", "secret-key")
	if _, err := good.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("strict")}); err != nil {
		t.Fatal(err)
	}
	if _, err := good.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("strict"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	bad := client(t, apptest.URL(a, "aws"), "AKIDSKYHUB", "wrong")
	_, err := bad.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("strict"), Key: aws.String("k")})
	if apiCode(err) != "SignatureDoesNotMatch" || statusOf(err) != 403 {
		t.Fatalf("bad secret: %v", err)
	}
	unknown := client(t, apptest.URL(a, "aws"), "NOSUCHKEY", "x")
	_, err = unknown.ListBuckets(ctx, &s3.ListBucketsInput{})
	if apiCode(err) != "InvalidAccessKeyId" || statusOf(err) != 403 {
		t.Fatalf("unknown key: %v", err)
	}
	resp, err := http.Get(apptest.URL(a, "aws") + "/strict/k")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, body)
	}
	// Presigned GET works; tampered one does not.
	ps := s3.NewPresignClient(good)
	req, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("strict"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "v" {
		t.Fatalf("presigned: %d %s", resp.StatusCode, body)
	}
	resp, _ = http.Get(strings.Replace(req.URL, "X-Amz-Signature=", "X-Amz-Signature=0", 1))
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "SignatureDoesNotMatch") {
		t.Fatalf("tampered presign: %d %s", resp.StatusCode, body)
	}
}

func rawDo(t *testing.T, method, url, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestBadInput(t *testing.T) {
	a := apptest.New(t, nil)
	u := apptest.URL(a, "aws")
	rawDo(t, "PUT", u+"/bad", "", nil)
	for _, c := range []struct {
		method, path, body string
		hdr                map[string]string
		status             int
		code               string
	}{
		{"PUT", "/bad?versioning", "<VersioningConfiguration><Status>", nil, 400, "MalformedXML"},
		{"POST", "/bad?delete", "not xml", nil, 400, "MalformedXML"},
		{"PUT", "/bad?cors", "<CORSConfiguration></CORSConfiguration>", nil, 400, "MalformedXML"},
		{"PUT", "/Bad_Name", "", nil, 400, "InvalidBucketName"},
		{"GET", "/bad/missing", "", nil, 404, "NoSuchKey"},
		{"GET", "/nobucket?list-type=2", "", nil, 404, "NoSuchBucket"},
		{"PUT", "/bad/k", "hello", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(make([]byte, 16))}, 400, "BadDigest"},
		{"PUT", "/bad/k", "hello", map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, 400, "BadDigest"},
		{"GET", "/bad?cors", "", nil, 404, "NoSuchCORSConfiguration"},
		{"GET", "/bad?tagging", "", nil, 404, "NoSuchTagSet"},
		{"GET", "/bad?lifecycle", "", nil, 404, "NoSuchLifecycleConfiguration"},
		{"GET", "/bad?policy", "", nil, 404, "NoSuchBucketPolicy"},
		{"POST", "/bad/k?uploadId=zzz", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>", nil, 404, "NoSuchUpload"},
		{"PUT", "/bad/k", "x", map[string]string{"Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}, 400, "IncompleteBody"},
	} {
		st, body, _ := rawDo(t, c.method, u+c.path, c.body, c.hdr)
		if st != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Errorf("%s %s: %d %s (want %d %s)", c.method, c.path, st, body, c.status, c.code)
		}
	}
	// Unsatisfiable range.
	rawDo(t, "PUT", u+"/bad/small", "abc", nil)
	st, body, hd := rawDo(t, "GET", u+"/bad/small", "", map[string]string{"Range": "bytes=10-20"})
	if st != 416 || !strings.Contains(body, "InvalidRange") || hd.Get("Content-Range") != "bytes */3" {
		t.Errorf("range: %d %s", st, body)
	}
	// Conditionals.
	_, _, hd = rawDo(t, "HEAD", u+"/bad/small", "", nil)
	st, _, _ = rawDo(t, "GET", u+"/bad/small", "", map[string]string{"If-None-Match": hd.Get("ETag")})
	if st != 304 {
		t.Errorf("If-None-Match: %d", st)
	}
	st, _, _ = rawDo(t, "GET", u+"/bad/small", "", map[string]string{"If-Match": `"nope"`})
	if st != 412 {
		t.Errorf("If-Match: %d", st)
	}
	st, body, _ = rawDo(t, "PUT", u+"/bad/small", "new", map[string]string{"If-None-Match": "*"})
	if st != 412 || !strings.Contains(body, "PreconditionFailed") {
		t.Errorf("conditional put: %d %s", st, body)
	}
}

func TestCORSPreflight(t *testing.T) {
	a := apptest.New(t, nil)
	u := apptest.URL(a, "aws")
	rawDo(t, "PUT", u+"/web", "", nil)
	st, _, _ := rawDo(t, "OPTIONS", u+"/web/k", "", map[string]string{"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"})
	if st != 403 {
		t.Fatalf("preflight without config: %d", st)
	}
	if st, body, _ := rawDo(t, "OPTIONS", u+"/web/k", "", nil); st != 400 || !strings.Contains(body, "<Code>BadRequest</Code>") {
		t.Fatalf("preflight without Origin: %d %s", st, body)
	}
	cfg := `<CORSConfiguration><CORSRule><AllowedOrigin>http://app.example</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule></CORSConfiguration>`
	if st, body, _ := rawDo(t, "PUT", u+"/web?cors", cfg, nil); st != 200 {
		t.Fatal(st, body)
	}
	st, _, hd := rawDo(t, "OPTIONS", u+"/web/k", "", map[string]string{"Origin": "http://app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
	if st != 200 || hd.Get("Access-Control-Allow-Origin") != "http://app.example" || !strings.Contains(hd.Get("Access-Control-Allow-Methods"), "PUT") || hd.Get("Access-Control-Max-Age") != "300" {
		t.Fatalf("preflight: %d %v", st, hd)
	}
	st, _, _ = rawDo(t, "OPTIONS", u+"/web/k", "", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
	if st != 403 {
		t.Fatalf("foreign origin: %d", st)
	}
	_, _, hd = rawDo(t, "PUT", u+"/web/k", "x", map[string]string{"Origin": "http://app.example"})
	if hd.Get("Access-Control-Allow-Origin") != "http://app.example" || hd.Get("Access-Control-Expose-Headers") != "ETag" {
		t.Fatalf("actual request: %v", hd)
	}
}
