package app

import "context"

// mountAWS builds the aws service and mounts it. Owned by the aws work.
func (a *App) mountAWS(ctx context.Context) error {
	return nil
}
