package smppout

import (
	"time"

	"github.com/smppd/smppd/msg"
)

// Dispatcher timing: the Runtime's worker comes back at least every
// dispatchTick to notice an injected clock moving, scans waiting jobs for
// expiry and cancellation every scanEvery, and sweeps parked receipts as
// often.
const (
	dispatchTick = 50 * time.Millisecond
	scanEvery    = 200 * time.Millisecond
)

// dispatcher holds the jobs ready to go (fifo, in arrival order), which
// the transmitting sessions take, and the jobs waiting for a time (heap by
// notBefore). Both are preallocated to the job count, which bounds them.
// Guarded by client.dmu.
type dispatcher struct {
	fifo []*job // circular
	head int
	n    int
	heap []*job
}

func (d *dispatcher) init(njobs int) {
	d.fifo = make([]*job, njobs)
	d.heap = make([]*job, 0, njobs)
}

func (d *dispatcher) push(j *job) {
	d.fifo[(d.head+d.n)%len(d.fifo)] = j
	d.n++
}

func (d *dispatcher) pop() *job {
	j := d.fifo[d.head]
	d.fifo[d.head] = nil
	d.head = (d.head + 1) % len(d.fifo)
	d.n--
	return j
}

// stashMax is the most free jobs Room sets aside for the next Send (a
// batch is at most that long).
const stashMax = 256

// Room implements connector.Driver: a message needs a free job. The free
// list's length may count a job still being pushed back, so Room takes
// jobs off it into a stash that Send then uses: what Room reports is there.
func (c *client) Room() int {
	for len(c.stash) < cap(c.stash) {
		j, ok := c.free.TryPop()
		if !ok {
			break
		}
		c.stash = append(c.stash, j)
	}
	return len(c.stash)
}

// Send implements connector.Driver: each message gets a job, and waits in
// the fifo for a session, in the heap for its schedule, or is reported
// expired at once.
func (c *client) Send(batch []*msg.Message, now int64) {
	late := c.late[:0]
	c.dmu.Lock()
	for _, m := range batch {
		j := c.stash[len(c.stash)-1] // Room set aside at least len(batch)
		c.stash[len(c.stash)-1] = nil
		c.stash = c.stash[:len(c.stash)-1]
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
			late = append(late, j)
		case j.notBefore > now:
			j.notBefore = min(j.notBefore, j.expires)
			c.disp.heapPush(j)
		default:
			c.disp.push(j)
		}
	}
	ready := c.disp.n > 0
	c.dmu.Unlock()
	c.expireLate(late)
	if ready {
		c.kick()
	}
}

// Due implements connector.Driver: jobs whose time has come move to the
// fifo (or expire), and every scanEvery the fifo is scanned for expired
// and cancelled jobs and the parked receipts are swept. The budget is
// not used: the connector is not helped.
func (c *client) Due(now int64, budget int) int {
	mono := c.mono()
	scan := mono-c.lastScan >= int64(scanEvery)
	late := c.late[:0]
	c.dmu.Lock()
	d := &c.disp
	for len(d.heap) > 0 && d.heap[0].notBefore <= now {
		j := d.heapPop()
		if now >= j.expires {
			late = append(late, j)
			continue
		}
		d.push(j)
	}
	if scan {
		for k := d.n; k > 0; k-- {
			j := d.pop()
			if j.m.Phase() == msg.PhaseCancelled || now >= j.expires {
				late = append(late, j)
				continue
			}
			d.push(j)
		}
	}
	ready := d.n > 0
	c.dmu.Unlock()
	c.expireLate(late)
	if scan {
		c.lastScan = mono
		c.retryPendingIDs()
		c.sweepParked(mono)
	}
	if ready {
		c.kick()
	}
	return budget
}

// Next implements connector.Driver: the earliest notBefore waiting, or
// dispatchTick from now.
func (c *client) Next() (int64, bool) {
	next := c.now() + int64(dispatchTick)
	c.dmu.Lock()
	if len(c.disp.heap) > 0 {
		next = min(next, c.disp.heap[0].notBefore)
	}
	c.dmu.Unlock()
	return next, true
}

// expireLate reports the jobs a pass found expired or cancelled (fail
// tells them apart) and clears late.
func (c *client) expireLate(late []*job) {
	for i, j := range late {
		late[i] = nil
		c.expire(j)
	}
}

// nextReady hands a session the oldest ready job, or nil.
func (c *client) nextReady() *job {
	c.dmu.Lock()
	var j *job
	if c.disp.n > 0 {
		j = c.disp.pop()
	}
	c.dmu.Unlock()
	return j
}

// requeue files a job a session handed back for a retry, and wakes whoever
// must act on it: the Runtime's worker for a later time, the sessions for
// now.
func (c *client) requeue(j *job) {
	c.dmu.Lock()
	later := j.notBefore > c.now()
	if later {
		c.disp.heapPush(j)
	} else {
		c.disp.push(j)
	}
	c.dmu.Unlock()
	if later {
		c.rt.Wake()
	} else {
		c.kick()
	}
}

// kick tells every transmitting session that jobs are ready.
func (c *client) kick() {
	for _, s := range c.sessions {
		if s.tx {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	}
}

// heapPush, heapPop: a binary min-heap on notBefore (no container/heap, so
// no interface calls).
func (d *dispatcher) heapPush(j *job) {
	h := append(d.heap, j)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].notBefore <= h[i].notBefore {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	d.heap = h
}

func (d *dispatcher) heapPop() *job {
	h := d.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	h = h[:last]
	siftDown(h, 0)
	d.heap = h
	return top
}

// siftDown moves h[i] down to its place in the min-heap on notBefore
// (heapPop after moving the last job to the top; heapInit for each inner
// node).
func siftDown(h []*job, i int) {
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].notBefore < h[m].notBefore {
			m = l
		}
		if r < len(h) && h[r].notBefore < h[m].notBefore {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
