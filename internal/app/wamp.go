package app

import "context"

// mountWAMP builds the wamp service and mounts it. Owned by the wamp work.
func (a *App) mountWAMP(ctx context.Context) error {
	return nil
}
