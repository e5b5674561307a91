package s3api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"skyhub/internal/apptest"
)

// Cases found by ceph/s3-tests.
func TestS3TestsRegressions(t *testing.T) {
	a := apptest.New(t, nil)
	ctx := context.Background()
	c := client(t, apptest.URL(a, "aws"), "test", "test")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("regress")})

	// A zero-length object reads back (a zero-size copy buffer used to panic).
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("regress"), Key: aws.String("empty"), Body: bytes.NewReader(nil)})
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("regress"), Key: aws.String("empty")})
	if err != nil || *g.ContentLength != 0 {
		t.Fatal(g, err)
	}
	g.Body.Close()

	// CompleteMultipartUpload twice answers the same.
	up, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("regress"), Key: aws.String("mp")})
	p, _ := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("regress"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("regress"), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: p.ETag, PartNumber: aws.Int32(1)}}}}
	first, err := c.CompleteMultipartUpload(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CompleteMultipartUpload(ctx, in)
	if err != nil || *again.ETag != *first.ETag {
		t.Fatal(again, err)
	}
	// partNumber past the last part: 400 InvalidPart.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("regress"), Key: aws.String("mp"), PartNumber: aws.Int32(5)})
	if apiCode(err) != "InvalidPart" || statusOf(err) != 400 {
		t.Fatal(err)
	}

	// "Content-Encoding: gzip, aws-chunked" on a plain body is a label: stored as gzip.
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("regress"), Key: aws.String("enc"), Body: strings.NewReader("z"), ContentEncoding: aws.String("gzip, aws-chunked")})
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("regress"), Key: aws.String("enc")})
	if err != nil || h.ContentEncoding == nil || *h.ContentEncoding != "gzip" {
		t.Fatal(h, err)
	}
	rc, _ := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("regress"), Key: aws.String("enc")})
	b, _ := io.ReadAll(rc.Body)
	if string(b) != "z" {
		t.Fatalf("%q", b)
	}

	// ListBuckets pages.
	for i := 0; i < 3; i++ {
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("page-%d", i))})
	}
	l1, err := c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2), Prefix: aws.String("page-")})
	if err != nil || len(l1.Buckets) != 2 || l1.ContinuationToken == nil {
		t.Fatal(l1, err)
	}
	l2, err := c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2), Prefix: aws.String("page-"), ContinuationToken: l1.ContinuationToken})
	if err != nil || len(l2.Buckets) != 1 || *l2.Buckets[0].Name != "page-2" || l2.ContinuationToken != nil {
		t.Fatal(l2, err)
	}
}
