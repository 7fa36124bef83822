package flow

import (
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// What a connector already held when its upstream went down (docs/CLUSTER.md
// "Shared connector queues"): once it has been down here and spilling
// (another node has it up) for Options.SpillHeldAfter, the spill checker
// asks it for the messages it holds unsent (connector.Runtime.HandBack),
// every spillCheck while that lasts, and spills them as a halt's report
// would: same id, record and body in the store, the charge boxed again by
// the node that pulls it, the receipt routed by the shared upstream-id
// map. What the upstream may have taken (sent and unanswered) stays and
// follows the usual rules. A message this node pulled from the queue goes
// back to it (its batch is given back once settled).

// handingBack is a connector that can give back what it holds unsent
// (connector.Runtime and connector.Restartable).
type handingBack interface {
	HandBack(take func(*msg.Message) bool) int
}

// heldState is the spill checker's hand-back state per connector.
type heldState struct {
	since  []time.Time // down and spilling since (zero: not)
	logged []time.Time // last spill_held line
	quiet  []int       // messages handed back since that line
}

// checkHeld hands back connector c's held messages when it has been down
// and spilling (why) for the grace; on the spill checker's goroutine.
func (h *Hub) checkHeld(cs *connSet, c, why int, now time.Time) {
	s := h.shared
	hs := &s.held
	for len(hs.since) <= c {
		hs.since, hs.logged, hs.quiet = append(hs.since, time.Time{}), append(hs.logged, time.Time{}), append(hs.quiet, 0)
	}
	if why != spillDown {
		hs.since[c] = time.Time{}
	} else if hs.since[c].IsZero() {
		hs.since[c] = now
	} else if s.grace > 0 && now.Sub(hs.since[c]) >= s.grace {
		if hb, ok := cs.conns[c].(handingBack); ok {
			hs.quiet[c] += hb.HandBack(h.takeBack)
		}
	}
	if hs.quiet[c] > 0 && now.Sub(hs.logged[c]) >= spillLogEvery {
		h.log.Warn().Str("event", "spill_held").Str("connector", cs.conns[c].Name()).Int("messages", hs.quiet[c]).
			Msg("connector's upstream down on this node: the messages it held unsent go to its shared queue for another node to send")
		hs.logged[c], hs.quiet[c] = now, 0
	}
}

// takeBack takes m, held unsent by its down connector, onto its shared
// queue (or, pulled from it, back to it); false leaves it in the
// connector: cancelled meanwhile (the connector reports it DELETED), not
// spillable (spillOff), or the queue's bound reached (the next check
// tries again).
func (h *Hub) takeBack(m *msg.Message) bool {
	s := h.shared
	if m.Command == uint32(codec.SubmitMultiID) || m.Schedule > h.now().UnixNano() {
		return false // never spilled (spillOff): not claimed for nothing
	}
	if !m.Claim() {
		return false
	}
	// Claimed: a cancel_sm from now on finds it being sent, as it will be
	// by another node.
	if h.spillOff(m, false) {
		s.counts.heldSpilled.Add(1)
		return true
	}
	if s.pulls.has(m.ID) {
		h.live.remove(m)
		h.dropCharge(m)
		h.pullSettled(m.ID, true)
		s.counts.heldReturned.Add(1)
		return true
	}
	m.Requeue()
	return false
}

// compile-time check: the hub's connectors hand back through this.
var _ handingBack = (*connector.Restartable)(nil)
