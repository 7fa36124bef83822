package connector

import "github.com/smppd/smppd/msg"

// HandingBack is a Driver that can give back messages it holds unsent: a
// cluster node whose upstream is down lets another node send them
// (docs/CLUSTER.md "Shared connector queues").
type HandingBack interface {
	// HandBack offers give each message the driver holds whose fate
	// upstream is known (never sent, or refused for now) while its
	// upstream is down; one give takes (true) is the caller's from then
	// on: the driver forgets it without reporting it. Messages that may
	// have reached the upstream (sent and not answered) stay. It returns
	// how many give took. Called under the Runtime's lock, like Send.
	HandBack(give func(*msg.Message) bool) int
}

// HandBack gives back what the driver holds unsent and what waits in the
// queue (HandingBack): take decides for each message; one it takes (true)
// leaves the connector, counted in Stats.HandedBack, and is released after
// take returns (take copies what it keeps). It returns how many were
// taken; 0 when the driver cannot hand back or the connector is not
// running.
func (r *Runtime) HandBack(take func(*msg.Message) bool) int {
	hb, ok := r.drv.(HandingBack)
	if !ok || take == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished || r.state.Load() != stateRunning {
		return 0
	}
	give := func(m *msg.Message) bool {
		if !take(m) {
			return false
		}
		r.handedBack.Add(1)
		r.let(m)
		return true
	}
	n := hb.HandBack(give)
	if r.ring.Len() > 0 {
		// What is still queued moves into the driver (into the room just
		// freed) and goes the same way.
		r.stepN(r.clock(), batchesPerStep, -1)
		n += hb.HandBack(give)
	}
	return n
}

// HandBack hands back what the running instance holds unsent
// (Runtime.HandBack); 0 when it is not built on a Runtime.
func (r *Restartable) HandBack(take func(*msg.Message) bool) int {
	h, ok := r.cur.Load().c.(interface {
		HandBack(func(*msg.Message) bool) int
	})
	if !ok {
		return 0
	}
	return h.HandBack(take)
}
