package ring

import "sync/atomic"

// Doorbell coalesces wake-ups of one queue's consumer: of all
// producers that ring between two Clears, exactly one is told to wake the
// consumer, so at most one wake (Conn.Wake, EventLoop.Execute, a channel
// send) is in flight per queue.
//
// # Protocol
//
// Producer, after each successful push (or batch):
//
//	if bell.Ring() {
//		wake() // this caller won the flag: it, and only it, wakes the consumer
//	}
//
// Consumer, each time wake() runs it:
//
//	bell.Clear()        // first, before looking at the queue
//	for {               // then drain until the queue is seen empty
//		batch = q.PopBatch(batch[:0])
//		if len(batch) == 0 {
//			break
//		}
//		handle(batch)
//		if overBudget {    // fairness (§5.6): yield, but reschedule first
//			if bell.Ring() {
//				wake()
//			}
//			return
//		}
//	}
//
// # Why no wake-up is lost
//
// All sync/atomic operations are sequentially consistent. Take a value x
// pushed by producer P, whose Ring follows the push. If P wins, its wake runs
// the consumer after x was published, and the consumer's drain, which starts
// after its Clear, sees x (or x was taken earlier). If P loses, the flag was
// set by some producer Q's winning Ring with no Clear between Q's win and
// P's Ring. Q's wake makes the consumer run Clear after Q's win, hence after
// P's Ring, hence after x was published; the drain that follows that Clear
// sees x. A consumer that cleared the flag after its drain instead could miss
// x for good: it is the order Clear-then-drain that closes the race.
//
// The flag also bounds the wakes in flight to one: a new winner needs a Clear,
// which the consumer runs only after it has taken the previous wake.
//
// The zero value is ready: no wake pending. A Doorbell must not be copied.
type Doorbell struct {
	_       noCopy
	pending atomic.Uint32
}

// Ring marks a wake pending and reports whether this call set the mark: true
// means the caller must wake the consumer. Call it after the push succeeded.
// Any goroutine; never blocks.
func (d *Doorbell) Ring() bool {
	// The load keeps the common "already pending" case off the CAS path, so
	// busy producers share the line instead of bouncing it.
	if d.pending.Load() != 0 {
		return false
	}
	return d.pending.CompareAndSwap(0, 1)
}

// Clear takes the pending mark away. Consumer only, after it was woken and
// before it looks at the queue.
func (d *Doorbell) Clear() { d.pending.Store(0) }

// Pending reports whether a wake is marked pending (a snapshot, for metrics
// and tests).
func (d *Doorbell) Pending() bool { return d.pending.Load() != 0 }
