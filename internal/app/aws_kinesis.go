package app

import (
	"context"

	"skyhub/internal/aws/edge"
)

// mountKinesis builds the kinesis service and registers it on the AWS edge. Owned
// by the kinesis work; called from mountAWS.
func (a *App) mountKinesis(ctx context.Context, e *edge.Edge) error {
	return nil
}
