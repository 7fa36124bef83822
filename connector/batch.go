package connector

import "github.com/smppd/smppd/msg"

// Batcher is a Connector whose queue takes several messages with one
// reservation of its slots: an event loop hands over what a turn accepted
// with one compare-and-swap on the queue's tail, not one per message.
type Batcher interface {
	// Free is how many messages the queue could take now (0 when the gate
	// is closed): a snapshot, others push and the worker pops meanwhile.
	Free() int
	// SubmitQuietBatch hands over the longest prefix of ms the queue has
	// room for, each as SubmitQuiet would, and returns its length; the
	// caller keeps ms[n:]. ms holds no nil.
	SubmitQuietBatch(ms []*msg.Message) int
}

// AsBatcher returns c as a Batcher: c itself, or a Restartable's running
// instance; nil when it is none.
func AsBatcher(c Connector) Batcher {
	switch x := c.(type) {
	case *Restartable:
		b, _ := x.cur.Load().c.(Batcher)
		return b
	case Batcher:
		return x
	}
	return nil
}

// Free implements Batcher.
func (r *Runtime) Free() int {
	if !r.open.Load() {
		return 0
	}
	return max(r.ring.Cap()-r.ring.Len(), 0)
}

// SubmitQuietBatch implements Batcher. Refused messages count in
// Stats.Full, one each. The gate is read before and after the push, as
// push does for one message.
func (r *Runtime) SubmitQuietBatch(ms []*msg.Message) int {
	if len(ms) == 0 || !r.open.Load() {
		return 0
	}
	n := r.ring.TryPushBatch(ms)
	if n < len(ms) {
		r.full.Add(uint64(len(ms) - n))
	}
	if n == 0 {
		return 0
	}
	if !r.open.Load() {
		r.late()
	}
	if !r.caps.Helped {
		r.notify.Ring()
	}
	return n
}

// Compile-time check.
var _ Batcher = (*Runtime)(nil)
