package app

import (
	"context"

	"skyhub/internal/aws/edge"
)

// mountSQS builds the sqs service and registers it on the AWS edge. Owned
// by the sqs work; called from mountAWS.
func (a *App) mountSQS(ctx context.Context, e *edge.Edge) error {
	return nil
}
