package connector

import (
	"context"
	"time"
)

const (
	// batchSize is the most messages taken off the queue at once.
	batchSize = 256
	// batchesPerStep bounds one step's queue work, so due work runs
	// between batches even while producers keep the queue busy.
	batchesPerStep = 16
	// helpBatches and helpWork bound a helper's step (queue batches; units
	// of due work): it runs on an event loop, which must get back to its
	// sessions; what is left wakes the worker.
	helpBatches = 2
	helpWork    = 512
	// minSleep is the shortest timer wait: due work may run this late.
	minSleep = 50 * time.Microsecond
)

// run is the worker goroutine: step, then sleep until a push, the driver's
// next due time or Stop; after Stop, step until drained or ctx ends, then
// finish.
func (r *Runtime) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	stopReq := r.stopReq
	var stopCtx context.Context
	var stopDone <-chan struct{} // nil until Stop: never ready
	stopping, cut := false, false
	for !cut {
		r.mu.Lock()
		more := r.stepN(r.clock(), batchesPerStep, -1)
		if stopping && r.idle() {
			r.mu.Unlock()
			break
		}
		if more {
			r.mu.Unlock()
			select {
			case <-stopDone:
				cut = true
			default:
			}
			continue
		}
		next, ok := r.drv.Next()
		r.armed, r.hasArmed = next, ok
		r.mu.Unlock()
		var tick <-chan time.Time
		if ok {
			// The real timer only wakes the worker; what is due is decided
			// by the (possibly injected) clock at the next step. The floor
			// keeps a clock that does not move (a test's) from spinning us.
			timer.Reset(max(time.Duration(next-r.clock()), minSleep))
			tick = timer.C
		}
		select {
		case <-r.notify.C():
			r.notify.Clear()
		case <-tick:
		case ctx := <-stopReq:
			stopping, stopCtx, stopDone, stopReq = true, ctx, ctx.Done(), nil
		case <-stopDone:
			cut = true
		}
	}
	timer.Stop()
	if cut {
		r.runErr = stopCtx.Err()
	}
	r.mu.Lock()
	r.finish(r.clock())
	r.mu.Unlock()
	close(r.done)
}

// idle reports whether nothing is queued, held or Busy. Under mu.
func (r *Runtime) idle() bool {
	return r.ring.Len() == 0 && r.Held() == 0 && !r.drv.Busy()
}

// stepN does the driver's due work, takes at most batches batches off the
// queue (while the driver has room), then does what fell due meanwhile if
// the clock moved; work bounds the due work (< 0: all). It reports whether
// the queue still has messages the driver has room for. Under mu.
func (r *Runtime) stepN(now int64, batches, work int) (more bool) {
	d := r.drv
	work = d.Due(now, work)
	was := now
	for b := 0; b < batches && r.ring.Len() > 0; b++ {
		room := min(d.Room(), batchSize)
		if room <= 0 {
			break
		}
		batch := r.ring.PopBatch(r.batch[:0:room])
		if len(batch) == 0 {
			break
		}
		r.taken.Add(uint64(len(batch)))
		d.Send(batch, now)
		clear(batch)
		if b == batches-1 {
			more = r.ring.Len() > 0 && d.Room() > 0
		}
		now = r.clock()
	}
	if now != was { // what fell due while the batches were sent
		d.Due(now, work)
	}
	return more
}

// helpStep runs one step for Help; the caller holds mu, which helpStep
// releases. It reports whether the worker must be woken: work is still
// queued, or something falls due before its timer.
func (r *Runtime) helpStep() (wake bool) {
	defer r.mu.Unlock()
	if r.finished {
		return false
	}
	now := r.clock()
	more := r.stepN(now, helpBatches, helpWork)
	next, ok := r.drv.Next()
	return more || r.ring.Len() > 0 || ok && (next <= now || !r.hasArmed || next < r.armed)
}

// finish ends a Stop: the driver is closed (it abandons what it holds),
// then what is still queued is abandoned. Under mu.
func (r *Runtime) finish(now int64) {
	r.drv.Close(now)
	r.abandonQueued(now)
	r.finished = true
}

// abandonQueued takes what is queued and abandons it. Under mu.
func (r *Runtime) abandonQueued(now int64) {
	for {
		batch := r.ring.PopBatch(r.batch[:0])
		if len(batch) == 0 {
			return
		}
		r.taken.Add(uint64(len(batch)))
		for _, m := range batch {
			r.Abandon(m, now)
		}
		clear(batch)
	}
}
