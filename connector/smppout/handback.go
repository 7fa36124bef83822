package smppout

import "github.com/smppd/smppd/msg"

// HandBack implements connector.HandingBack: while no transmitting bind is
// up, each job waiting in the dispatcher (ready, in a retry's backoff, or
// scheduled) whose message never reached the upstream, or was refused
// for now, is offered to give, in arrival order; one give takes leaves
// the connector (its job is freed, unreported). Kept: a job with a part
// accepted upstream (the rest must follow under the same job) or one
// that went unanswered (timeout, connection lost: the upstream may have
// taken it), which the sessions retry here once a bind is back; and
// whatever a session holds. Under the Runtime's lock.
func (c *client) HandBack(give func(*msg.Message) bool) int {
	if c.txUp.Load() > 0 {
		return 0 // up again: the sessions send them
	}
	n := 0
	c.dmu.Lock()
	d := &c.disp
	for k := d.n; k > 0; k-- {
		j := d.pop()
		if c.handBack(j, give) {
			n++
			continue
		}
		d.push(j)
	}
	kept := d.heap[:0]
	for i, j := range d.heap {
		d.heap[i] = nil
		if c.handBack(j, give) {
			n++
			continue
		}
		kept = append(kept, j)
	}
	d.heap = kept
	d.heapInit()
	c.dmu.Unlock()
	if n > 0 {
		c.rt.Wake() // freed jobs: the worker may take more off the queue
	}
	return n
}

// handBack offers j's message to give unless it must stay here; true when
// give took it (j is freed).
func (c *client) handBack(j *job, give func(*msg.Message) bool) bool {
	if j.unsure || j.nAccepted > 0 || !give(j.m) {
		return false
	}
	j.m = nil
	c.free.TryPush(j) // the free ring holds every job: never full
	return true
}

// heapInit restores the heap order of d.heap after a filter.
func (d *dispatcher) heapInit() {
	for i := len(d.heap)/2 - 1; i >= 0; i-- {
		siftDown(d.heap, i)
	}
}
