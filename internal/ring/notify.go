package ring

// Notify is a Doorbell whose wake is a send on a one-slot channel, for
// consumers that are goroutines (connector workers) rather than event loops.
//
// Producer, after each successful push: n.Ring().
// Consumer:
//
//	for n.Wait(stop) {
//		for batch = q.PopBatch(batch[:0]); len(batch) > 0; batch = q.PopBatch(batch[:0]) {
//			handle(batch)
//		}
//	}
//
// A consumer that also selects on other channels receives from C and then
// calls Clear before draining, which is exactly what Wait does.
//
// The Doorbell protocol keeps at most one token in the channel, so Ring never
// blocks. Build with NewNotify; a Notify must not be copied.
type Notify struct {
	_    noCopy
	bell Doorbell
	c    chan struct{}
}

// NewNotify returns a Notify with no wake pending.
func NewNotify() *Notify { return &Notify{c: make(chan struct{}, 1)} }

// Ring wakes the consumer unless a wake is already pending, and reports
// whether this call sent the wake. Call it after the push succeeded. Any
// goroutine; never blocks.
func (n *Notify) Ring() bool {
	if !n.bell.Ring() {
		return false
	}
	select {
	case n.c <- struct{}{}:
	default: // a token is already queued (Clear was called without a receive): the consumer wakes anyway
	}
	return true
}

// C returns the wake channel, for consumers that select on more than one
// channel. After each receive from C, call Clear, then drain. Consumer only.
func (n *Notify) C() <-chan struct{} { return n.c }

// Clear takes the pending mark away. Consumer only, after receiving from C and
// before draining.
func (n *Notify) Clear() { n.bell.Clear() }

// Pending reports whether a wake is marked pending (a snapshot).
func (n *Notify) Pending() bool { return n.bell.Pending() }

// Wait blocks until a wake arrives or stop is closed. On a wake it clears the
// mark and returns true: the caller must then drain the queue until it sees
// it empty. It returns false only when stop is closed and no wake is queued,
// so work rung in before stop is never skipped. stop may be nil (wait
// forever) or a context's Done channel. Consumer only.
func (n *Notify) Wait(stop <-chan struct{}) bool {
	select {
	case <-n.c:
	case <-stop:
		select {
		case <-n.c:
		default:
			return false
		}
	}
	n.bell.Clear()
	return true
}
