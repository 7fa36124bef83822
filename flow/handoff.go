package flow

import (
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// With a store that syncs before it acknowledges, an accepted message goes
// to its connector only after its submit's answer was posted (acks.go): a
// receipt, which a connector can report as soon as it has the message,
// then never reaches the submitting session before the submit_sm_resp
// carrying its id (the engine's inbox keeps the answer ahead of the
// deliver_sm; another bind of the user is another connection, with no
// order to keep), and no upstream sees a message that is not on disk. The submit picks the
// connector (and its failover) by a snapshot of their queues, collects the
// message in its scratch, and hands it over itself when its writes were
// durable already, or leaves it to the answer's FIFO entry.

// handOrSubmit queues m for connector c, or, when the submit collects its
// messages (sc.collect), takes it into sc.hands if c has room now; false
// when c cannot take it (the caller tries the failover).
func (h *Hub) handOrSubmit(sc *submitScratch, cs *connSet, c int, m *msg.Message, quiet bool) bool {
	if !sc.collect {
		return h.submitTo(cs, c, m, quiet)
	}
	cn := cs.conns[c]
	if cn.QueueFull() {
		return false
	}
	if r, ok := cn.(*connector.Restartable); ok && r.Halted() {
		return false
	}
	sc.hands = append(sc.hands, m)
	return true
}

// handNow hands over the messages a submit collected whose writes were
// durable before its answer: the answer goes out in this turn of the
// event loop, before anything the connector reports reaches it.
func (h *Hub) handNow(sc *submitScratch) {
	cs := h.cs()
	for _, m := range sc.hands {
		if c := m.Connector; !cs.has(c) || !h.submitTo(cs, c, m, sc.sub.turnEnd) {
			h.handLater(m)
		}
	}
}

// handQuiet gives m, answered, to its connector when that connector is
// running and helped (Caps.Helped): quietly, so that the event loops run
// its worker's steps at the end of their turns (EndTurn), in the core that
// decoded the submits, instead of waking its goroutine for each commit;
// acks.helper makes sure it is helped when no loop turns. false when the
// connector is not helped, was removed, or has no room (the caller then
// hands m over as later does).
func (h *Hub) handQuiet(m *msg.Message) bool {
	cs := h.cs()
	c := m.Connector
	return cs.live(c) && cs.helped[c] && h.submitTo(cs, c, m, true)
}

// handLater keeps an accepted message whose connector had no room left
// (others filled it since the snapshot): later offers it again shortly.
func (h *Hub) handLater(m *msg.Message) {
	h.acks.overflow.Add(1)
	h.later.add(m, h.now().UnixNano(), false)
}

// letGo releases a collected message that was never handed over (the hub
// stops): its record and body stay in the store, so the next start sends
// it again, as for a message its connector still held.
func (h *Hub) letGo(m *msg.Message) {
	if m.Command != uint32(codec.SubmitMultiID) {
		h.live.remove(m)
	}
	h.dropCharge(m)
	h.settleDest(m, false)
	m.Release()
}
