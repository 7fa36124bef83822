package smppout

import (
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// Dispatcher timing: it wakes at least every dispatchTick to notice an
// injected clock moving, scans waiting jobs for expiry and cancellation
// every scanEvery, and sweeps parked receipts as often.
const (
	dispatchTick = 50 * time.Millisecond
	scanEvery    = 200 * time.Millisecond
	minWait      = time.Millisecond
)

// dispatcher is the state owned by the dispatcher goroutine: jobs ready to
// go (fifo, in arrival order) and jobs waiting for a time (heap by
// notBefore). Both are preallocated to the job count, which bounds them.
type dispatcher struct {
	fifo  []*job // circular
	head  int
	n     int
	heap  []*job
	spare *job // a free job taken before the ring turned out empty
}

func (d *dispatcher) init(njobs int) {
	d.fifo = make([]*job, njobs)
	d.heap = make([]*job, 0, njobs)
}

func (d *dispatcher) push(j *job) {
	d.fifo[(d.head+d.n)%len(d.fifo)] = j
	d.n++
}

func (d *dispatcher) peek() *job { return d.fifo[d.head] }

func (d *dispatcher) pop() *job {
	j := d.fifo[d.head]
	d.fifo[d.head] = nil
	d.head = (d.head + 1) % len(d.fifo)
	d.n--
	return j
}

// dispatch is the dispatcher goroutine: ring -> jobs -> workers, retries
// and expiry. It exits on dispQuit after reporting everything it holds.
func (c *Connector) dispatch() {
	defer close(c.dispDone)
	d := &c.disp
	timer := time.NewTimer(dispatchTick)
	defer timer.Stop()
	drainReq := c.drainReq
	draining := false
	lastScan := c.mono()
	for {
		now := c.now()
		c.pull(now)
		c.promote(now)
		if m := c.mono(); m-lastScan >= int64(scanEvery) {
			lastScan = m
			c.scan(now)
			c.sweepParked(m)
		}
		c.waiting.Store(int64(d.n + len(d.heap)))
		if draining && c.idle() {
			close(c.drained)
			draining = false
		}

		var out chan *job
		var head *job
		if d.n > 0 {
			out, head = c.ready, d.peek()
		}
		wait := dispatchTick
		if len(d.heap) > 0 {
			if w := time.Duration(d.heap[0].notBefore - now); w < wait {
				wait = max(w, minWait)
			}
		}
		timer.Reset(wait)
		select {
		case out <- head:
			d.pop()
		case <-c.notify.C():
			c.notify.Clear()
		case j := <-c.back:
			c.requeue(j, now)
		case <-timer.C:
		case <-drainReq:
			drainReq, draining = nil, true
		case <-c.dispQuit:
			c.dispatchShutdown()
			return
		}
	}
}

// idle reports whether nothing is queued, waiting or in flight.
func (c *Connector) idle() bool {
	d := &c.disp
	held := len(c.jobs) - c.free.Len()
	if d.spare != nil {
		held--
	}
	return c.ring.Len() == 0 && d.n == 0 && len(d.heap) == 0 && held == 0
}

// pull moves messages from the ring into jobs while free jobs last.
func (c *Connector) pull(now int64) {
	d := &c.disp
	for {
		if d.spare == nil {
			j, ok := c.free.TryPop()
			if !ok {
				return
			}
			d.spare = j
		}
		m, ok := c.ring.TryPop()
		if !ok {
			return
		}
		j := d.spare
		d.spare = nil
		j.reset(m)
		j.expires = m.Expires
		if j.expires == 0 {
			base := m.Received
			if base == 0 {
				base = now
			}
			j.expires = base + int64(c.opts.DefaultValidity)
		}
		j.notBefore = m.Schedule
		switch {
		case now >= j.expires:
			c.expire(j)
		case j.notBefore > now:
			j.notBefore = min(j.notBefore, j.expires)
			c.heapPush(j)
		default:
			d.push(j)
		}
	}
}

// requeue files a job a worker handed back for a retry.
func (c *Connector) requeue(j *job, now int64) {
	if j.notBefore > now {
		c.heapPush(j)
		return
	}
	c.disp.push(j)
}

// promote moves jobs whose time has come from the heap to the fifo, or
// expires them.
func (c *Connector) promote(now int64) {
	d := &c.disp
	for len(d.heap) > 0 && d.heap[0].notBefore <= now {
		j := c.heapPop()
		if now >= j.expires {
			c.expire(j)
			continue
		}
		d.push(j)
	}
}

// scan reports the fifo's expired and cancelled jobs (they would otherwise
// wait for a bind).
func (c *Connector) scan(now int64) {
	d := &c.disp
	k := d.n
	for i := 0; i < k; i++ {
		j := d.pop()
		switch {
		case j.m.Phase() == msg.PhaseCancelled:
			c.fail(j, 0, msg.StateDeleted)
		case now >= j.expires:
			c.expire(j)
		default:
			d.push(j)
		}
	}
}

// dispatchShutdown reports everything the dispatcher and the ring hold. The
// workers have exited, so no job comes back any more.
func (c *Connector) dispatchShutdown() {
	d := &c.disp
	for {
		select {
		case j := <-c.back:
			c.shutdownJob(j)
			continue
		default:
		}
		break
	}
	for d.n > 0 {
		c.shutdownJob(d.pop())
	}
	for len(d.heap) > 0 {
		c.shutdownJob(c.heapPop())
	}
	for {
		m, ok := c.ring.TryPop()
		if !ok {
			break
		}
		if !m.Claim() {
			c.sink.Failed(m, 0, msg.StateDeleted)
		} else {
			c.sink.Failed(m, connector.StatusShutdown, msg.StateUnknown)
		}
		m.Release()
	}
	c.waiting.Store(0)
}

// heapPush, heapPop: a binary min-heap on notBefore (no container/heap, so
// no interface calls).
func (c *Connector) heapPush(j *job) {
	h := append(c.disp.heap, j)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].notBefore <= h[i].notBefore {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	c.disp.heap = h
}

func (c *Connector) heapPop() *job {
	h := c.disp.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].notBefore < h[m].notBefore {
			m = l
		}
		if r < len(h) && h[r].notBefore < h[m].notBefore {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	c.disp.heap = h
	return top
}
