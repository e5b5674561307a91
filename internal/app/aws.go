package app

import (
	"context"
	"errors"

	"skyhub/internal/aws/edge"
	"skyhub/internal/blob/fsblob"
	"skyhub/internal/s3"
	"skyhub/internal/s3/s3api"
)

// mountAWS builds the AWS edge and every AWS service on it. The edge and S3
// are owned by the S3 work; SQS, Kinesis and DynamoDB mount themselves in
// aws_sqs.go, aws_kinesis.go and aws_dynamo.go.
func (a *App) mountAWS(ctx context.Context) error {
	if a.Cfg.AWS.Port == 0 {
		return nil
	}
	e := edge.New(edge.Config{
		Region:      a.Cfg.AWS.Region,
		AccountID:   a.Cfg.AWS.AccountID,
		Strict:      a.Cfg.AWS.Strict,
		Credentials: a.Cfg.AWS.Credentials,
	})
	if err := a.mountS3(ctx, e); err != nil {
		return err
	}
	if err := a.mountSQS(ctx, e); err != nil {
		return err
	}
	if err := a.mountKinesis(ctx, e); err != nil {
		return err
	}
	if err := a.mountDynamo(ctx, e); err != nil {
		return err
	}
	a.AWS = e
	return nil
}

// mountS3 builds S3 (metadata in the kv store under "s3/", object bytes as
// files under <data>/s3) and registers it as the edge's default service.
func (a *App) mountS3(ctx context.Context, e *edge.Edge) error {
	dir, err := a.DataPath("s3")
	if err != nil {
		return err
	}
	blobs, err := fsblob.Open(fsblob.Config{Dir: dir})
	if err != nil {
		return err
	}
	svc := s3.New(s3.Config{KV: a.KV, Blobs: blobs, Log: a.Log.With("svc", "s3"), Region: a.Cfg.AWS.Region,
		Notifier: sqsLater{a}})
	svc.Start()
	a.OnClose("s3", func(context.Context) error { svc.Close(); return blobs.Close() })
	e.HandleS3(s3api.New(s3api.Config{Service: svc, Log: a.Log.With("svc", "s3"),
		Strict: a.Cfg.AWS.Strict, Credentials: a.Cfg.AWS.Credentials}))
	return nil
}

// sqsLater delivers S3 bucket notifications through the SQS service, which
// is mounted after S3 (looked up at send time).
type sqsLater struct{ a *App }

func (n sqsLater) SendToARN(ctx context.Context, arn, body string) (string, error) {
	if n.a.SQS == nil {
		return "", errors.New("sqs is not mounted")
	}
	return n.a.SQS.SendToARN(ctx, arn, body)
}
