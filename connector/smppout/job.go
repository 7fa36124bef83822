package smppout

import "github.com/smppd/smppd/msg"

// maxIDLen is the longest message_id kept (65 octets with the NUL, SMPP 3.4
// §5.2.23).
const maxIDLen = 65

// job is the connector's state for one message from the ring until its
// outcome is reported. Jobs come from a fixed pool; a job is in exactly one
// place at a time: the dispatcher (fifo, heap), the free list, or one
// session (as its current job and/or in its window slots).
type job struct {
	m         *msg.Message
	expires   int64 // injected clock, Unix ns
	notBefore int64 // injected clock, Unix ns: not handed out before
	retries   int

	// Send state; while a session holds the job, guarded by its mu.
	prepared  bool
	split     bool
	nparts    int
	accepted  [4]uint64 // bit i: part i accepted (255 parts at most)
	nAccepted int
	next      int  // next part to send in this attempt
	inflight  int  // parts sent and not answered in this attempt
	temp      bool // a part failed temporarily (or the attempt was cut short)
	unsure    bool // a part went unanswered (timeout, connection lost): HandBack keeps it
	failed    bool // a part was refused permanently
	status    uint32
	firstID   [maxIDLen]byte // upstream id of part 0
	firstLen  uint8
}

// reset makes j hold m, with nothing sent yet.
func (j *job) reset(m *msg.Message) {
	*j = job{m: m}
}

func (j *job) isAccepted(i int) bool { return j.accepted[i>>6]&(1<<(uint(i)&63)) != 0 }

func (j *job) setAccepted(i int) {
	if !j.isAccepted(i) {
		j.accepted[i>>6] |= 1 << (uint(i) & 63)
		j.nAccepted++
	}
}

// nextUnaccepted returns the first part at or after i not yet accepted, or
// nparts.
func (j *job) nextUnaccepted(i int) int {
	for i < j.nparts && j.isAccepted(i) {
		i++
	}
	return i
}

// release puts j back on the free list once its message was reported (the
// Runtime released it), and wakes the Runtime's worker: it may be waiting
// for a free job to take more off the queue.
func (c *client) release(j *job) {
	j.m = nil
	c.free.TryPush(j) // the free ring holds every job: never full
	c.rt.Wake()
}

// complete reports the outcome of an attempt that has nothing left in
// flight: accepted, refused, or retried later. The caller holds no lock.
func (c *client) complete(j *job) {
	switch {
	case j.failed:
		c.rt.Fail(j.m, j.status, msg.StateRejected)
		c.release(j)
	case j.nparts > 0 && j.nAccepted == j.nparts:
		c.rt.Accept(j.m, j.firstID[:j.firstLen])
		c.release(j)
	default:
		c.retry(j)
	}
}

// retry puts a claimed job back for a later attempt with backoff; while
// the connector shuts down it is abandoned instead.
func (c *client) retry(j *job) {
	j.m.Requeue()
	if c.shuttingDown() {
		c.abandon(j, c.now())
		return
	}
	c.retried.Add(1)
	d := int64(backoff(c.opts.RetryMin, c.opts.RetryMax, j.retries))
	j.retries++
	j.notBefore = min(c.now()+d, j.expires)
	c.requeue(j)
}

// fail claims the job's message and reports it Failed with state, or
// StateDeleted when it was cancelled meanwhile.
func (c *client) fail(j *job, status uint32, state msg.State) {
	if !j.m.Claim() {
		status, state = 0, msg.StateDeleted
	}
	c.rt.Fail(j.m, status, state)
	c.release(j)
}

// expire reports a job whose validity ran out.
func (c *client) expire(j *job) { c.fail(j, 0, msg.StateExpired) }

// abandon reports a job still held when the connector stops.
func (c *client) abandon(j *job, now int64) {
	c.rt.Abandon(j.m, now)
	c.release(j)
}
