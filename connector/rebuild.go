package connector

import (
	"context"
	"fmt"
)

// Rebuild swaps in a new Factory (a connector whose config entry changed
// on a reload) and, when the connector runs, replaces the instance: the
// old one stops as Stop does (it hands what it holds upstream within ctx,
// and what is left is reported failed, with receipts), then a fresh one is
// built from build and started, so it binds with the new settings. While
// it is swapped Submit refuses and Up is false, so routing fails over.
// A connector an operator halted keeps halted: its next Resume uses
// build. ErrShutdown after Stop, ErrNotStarted before the hub's Start.
// On a build or start error the connector stays halted with the new
// Factory (an operator's start retries it); once the new instance runs,
// the old one's Stop error, if any, is returned (ctx ran out).
func (r *Restartable) Rebuild(ctx context.Context, build Factory) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.shutdown.Load():
		return ErrShutdown
	case r.sink == nil:
		return ErrNotStarted
	}
	r.build = build
	if r.halted.Load() {
		return nil
	}
	r.halted.Store(true)
	stopErr := r.cur.Load().c.Stop(ctx)
	c, err := build()
	if err != nil {
		return fmt.Errorf("connector: rebuild %q: %w", r.name, err)
	}
	if c.Name() != r.name {
		return fmt.Errorf("connector: the factory of %q built %q", r.name, c.Name())
	}
	if err := c.Start(r.sink); err != nil {
		return fmt.Errorf("connector: start %q: %w", r.name, err)
	}
	r.cur.Store(&instance{c})
	r.halted.Store(false)
	return stopErr
}
