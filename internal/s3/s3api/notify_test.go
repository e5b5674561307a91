package s3api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"skyhub/internal/apptest"
)

// Bucket notifications reach the real SQS service mounted on the same edge.
func TestNotificationToSQS(t *testing.T) {
	a := apptest.New(t, nil)
	ctx := context.Background()
	c := client(t, apptest.URL(a, "aws"), "test", "test")
	q := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(apptest.URL(a, "aws")),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}), HTTPClient: &http.Client{Timeout: 20 * time.Second}})
	cq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("thing-events")})
	if err != nil {
		t.Fatal(err)
	}
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tank")})
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("tank"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:thing-events"),
			Events:   []types.Event{"s3:ObjectCreated:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{
				{Name: types.FilterRuleNamePrefix, Value: aws.String("sensors/")}}}},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("tank"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:missing"), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
	if apiCode(err) != "InvalidArgument" {
		t.Fatalf("missing queue accepted: %v", err)
	}
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tank"), Key: aws.String("other/x"), Body: strings.NewReader("no")})
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tank"), Key: aws.String("sensors/t1"), Body: strings.NewReader("21.5")})
	var bodies []string
	for i := 0; i < 5 && len(bodies) < 2; i++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, *m.Body)
		}
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], "s3:TestEvent") || !strings.Contains(bodies[1], `"key":"sensors/t1"`) ||
		!strings.Contains(bodies[1], `"eventName":"ObjectCreated:Put"`) {
		t.Fatalf("%q", bodies)
	}
	g, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("tank")})
	if err != nil || len(g.QueueConfigurations) != 1 {
		t.Fatal(g, err)
	}
}
