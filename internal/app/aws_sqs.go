package app

import (
	"context"

	"skyhub/internal/aws/edge"
	"skyhub/internal/sqs"
	"skyhub/internal/sqs/sqsapi"
)

// mountSQS builds the sqs service and registers it on the AWS edge for
// both of its protocols: query (Version 2012-11-05) and JSON 1.0
// (X-Amz-Target AmazonSQS.*). Owned by the sqs work; called from mountAWS.
// It also publishes the service as a.SQS, the seam S3 bucket notifications
// send through.
func (a *App) mountSQS(ctx context.Context, e *edge.Edge) error {
	svc, err := sqs.New(ctx, sqs.Config{Store: a.KV, Region: a.Cfg.AWS.Region, AccountID: a.Cfg.AWS.AccountID})
	if err != nil {
		return err
	}
	a.OnClose("sqs", func(context.Context) error { return svc.Close() })
	h := sqsapi.New(sqsapi.Config{Service: svc, Log: a.Log.With("svc", "sqs"), Metrics: a.Metrics})
	e.HandleQuery(sqsapi.Version, h)
	e.HandleTarget(sqsapi.TargetPrefix, h)
	a.SQS = svc
	return nil
}
