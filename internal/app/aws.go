package app

import (
	"context"

	"skyhub/internal/aws/edge"
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

// mountS3 builds S3 and registers it as the edge's default service.
func (a *App) mountS3(ctx context.Context, e *edge.Edge) error {
	return nil
}
