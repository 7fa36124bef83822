package connector

import "errors"

// ErrNoPurge: the connector's instance has no queue to purge (not built
// on a Runtime).
var ErrNoPurge = errors.New("connector: this connector's queue cannot be purged")

// PurgeQueued abandons what waits in the queue now, each reported as
// Abandon does (failed: refunded, a receipt to the ESME that asked for
// one), and returns how many: the operator's purge of a connector whose
// upstream is down. What the driver already holds (sent upstream, or
// waiting for its answer or a retry) stays: it may be accepted upstream.
// 0 once stopped.
func (r *Runtime) PurgeQueued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return 0
	}
	before := r.taken.Load()
	r.abandonQueued(r.clock())
	return int(r.taken.Load() - before)
}

// PurgeQueued purges the running instance's queue (Runtime.PurgeQueued);
// ErrNoPurge when it is not built on a Runtime.
func (r *Restartable) PurgeQueued() (int, error) {
	p, ok := r.cur.Load().c.(interface{ PurgeQueued() int })
	if !ok {
		return 0, ErrNoPurge
	}
	return p.PurgeQueued(), nil
}
