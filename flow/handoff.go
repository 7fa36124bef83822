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

// A direct submit (direct.go) follows the same rule. The HTTP API's keep
// their messages in a DirectHold until the HTTP answer, sent after the
// commit, is written to the client (Release): a dlr-url callback cannot
// precede it. A request not answered so, or a direct submit without a
// hold, leaves them in the same FIFO as entries without an answer
// (deferHands), and the commit that covers their writes hands them over.
// Either way no upstream sees a message that is not on disk.

// handOrSubmit queues m for connector c (through the loop's turn batch,
// turn.go, when it has one), or, when the submit collects its messages
// (sc.collect), takes it into sc.hands if c has room now; false when c
// cannot take it (the caller tries the failover).
func (h *Hub) handOrSubmit(sc *submitScratch, cs *connSet, c int, m *msg.Message, quiet bool) bool {
	if !sc.collect {
		if t := sc.sub.turn; t != nil && quiet && cs.helped[c] {
			if taken, ok := h.turnAdd(t, cs.conns[c], c, m); ok {
				sc.sub.turnFull = sc.sub.turnFull || !taken // full once the turn's batch goes
				return taken
			}
		}
		return h.submitTo(cs, c, m, quiet)
	}
	if h.spilling(c) && m.Command != uint32(codec.SubmitMultiID) {
		sc.hands = append(sc.hands, m) // spilled at the hand-over (shared.go)
		return true
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
func (h *Hub) handNow(sc *submitScratch) { h.handAll(sc.hands, sc.sub.turnEnd) }

// handAll gives each of ms, answered, to its connector, or to later when
// that connector has no room now.
func (h *Hub) handAll(ms []*msg.Message, quiet bool) {
	cs := h.cs()
	for _, m := range ms {
		c := m.Connector
		if h.spilling(c) && h.spillOff(m, true) {
			continue
		}
		if !cs.has(c) || !h.submitTo(cs, c, m, quiet) {
			h.handLater(m)
		}
	}
}

// DirectHold keeps the messages a caller's direct submits accepted
// (DirectRequest.Hold) until it has answered: Release hands them over.
// The HTTP API keeps one per request, pooled: its capacity is reused.
type DirectHold struct {
	hands []*msg.Message
	pos   uint64 // the largest Written of the submits that kept a message
}

// keep takes the messages one submit collected, written up to pos.
func (d *DirectHold) keep(ms []*msg.Message, pos uint64) {
	d.hands = append(d.hands, ms...)
	d.pos = max(d.pos, pos)
}

// Release hands over what d kept and empties it for its next request.
// answered: the caller's WaitDurable succeeded and its answer is written
// (flushed to the client), so the messages go now, and no receipt
// callback can precede that answer. Otherwise (a refusal after earlier
// parts were accepted, a failed wait, a panic) they go as an unanswered
// SMPP submit's do: at the commit that covers them, or, at a stop before
// it, at the next start. It ends the caller's turn (EndTurn): helped
// connectors fed quietly, now or at the submits (the memory store), run.
func (h *Hub) Release(d *DirectHold, answered bool) {
	if n := len(d.hands); n > 0 {
		if answered {
			h.acks.unreserve(n)
			h.handAll(d.hands, true)
		} else if !h.acks.deferHands(d.hands, n, d.pos) {
			h.handAll(d.hands, true)
		}
		clear(d.hands)
		d.hands = d.hands[:0]
	}
	d.pos = 0
	h.EndTurn()
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
	return cs.live(c) && cs.helped[c] && !h.spilling(c) && h.submitTo(cs, c, m, true)
}

// deferHands queues the messages direct submits collected (hands) to go
// to their connectors once the store commits their writes, up to pos (0:
// its Written now), on a reservation of n slots (n ≥ len(hands)); false,
// with the reservation given back, when there is nothing to wait for (no
// hands, or the writes are durable already: the caller hands them over
// itself).
func (a *acks) deferHands(hands []*msg.Message, n int, pos uint64) bool {
	if a.c == nil {
		return false
	}
	w := pos
	if w == 0 {
		w = a.c.Written()
	}
	if len(hands) == 0 || w <= a.c.Committed() {
		a.reserved.Add(-int64(n))
		return false
	}
	a.unreserve(n - len(hands))
	a.q.pushHands(w, hands) // reserved: never full
	// A commit that covered w before the push found nothing to hand over.
	if a.committed.Load() >= w {
		a.ring()
	}
	return true
}

// pushHands queues each of hands at position pos with no answer before
// them, in one hold of the lock.
func (q *ackFIFO) pushHands(pos uint64, hands []*msg.Message) {
	q.mu.Lock()
	for _, m := range hands {
		q.put(pendingAck{pos: pos, m: m})
	}
	q.mu.Unlock()
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
	h.pullSettled(m.ID, true)
	m.Release()
}
