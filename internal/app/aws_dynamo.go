package app

import (
	"context"

	"skyhub/internal/aws/edge"
	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/ddbapi"
	"skyhub/internal/sts"
)

// mountDynamo builds the DynamoDB service and registers the 2012-08-10 API,
// the legacy 2011-12-05 API (boto 2) and DynamoDB Streams on the AWS edge,
// and the small STS service (GetSessionToken, GetCallerIdentity, AssumeRole).
// Owned by the dynamo work; called from mountAWS.
func (a *App) mountDynamo(ctx context.Context, e *edge.Edge) error {
	log := a.Log.With("svc", "dynamodb")
	svc, err := dynamo.New(ctx, dynamo.Config{KV: a.KV, Region: a.Cfg.AWS.Region, AccountID: a.Cfg.AWS.AccountID, Log: log})
	if err != nil {
		return err
	}
	a.OnClose("dynamodb", func(context.Context) error { return svc.Close() })
	h := ddbapi.New(ddbapi.Config{Service: svc, Log: log})
	e.HandleTarget(ddbapi.TargetPrefix, h)
	e.HandleTarget(ddbapi.LegacyTargetPrefix, h)
	e.HandleTarget(ddbapi.StreamsTargetPrefix, h)
	// STS, so that clients which fetch temporary credentials first (boto 2's
	// STS connection, SDK profiles) reach the other services.
	e.HandleQuery(sts.Version, sts.New(sts.Config{AccountID: a.Cfg.AWS.AccountID}))
	return nil
}
