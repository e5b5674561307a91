package app

import (
	"context"

	"skyhub/internal/aws/edge"
)

// mountDynamo builds the dynamo service and registers it on the AWS edge. Owned
// by the dynamo work; called from mountAWS.
func (a *App) mountDynamo(ctx context.Context, e *edge.Edge) error {
	return nil
}
