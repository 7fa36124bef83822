package flow

import (
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

// An event loop's turn batch: what its HandleSubmits accepted for helped
// connectors during one turn waits in the loop's own batch and goes to
// each connector's queue at the turn's end (EndTurnOn), once the answers
// are written, with one reservation of the queue's slots per connector
// instead of one compare-and-swap on its tail per message. A connector's
// room is read at its first message of the turn and counted down; used
// up, what the turn holds for it goes at once and the room is read again,
// so a message it has no room for goes to the failover at once, as a
// refused Submit does (with none left, a submit that may wait waits: the
// queue is full); one that others' pushes crowd out by the turn's end
// waits in later, as a collected message does (handoff.go).

// turnBatch is one loop's; only that loop touches it (engine.LoopLocal).
type turnBatch struct {
	ms    []*msg.Message
	conns []turnConn     // the connectors of ms, in first-use order
	share []*msg.Message // one connector's messages when ms has several
	// sc is the loop's request scratch (takeScratch), scBusy while a
	// request uses it.
	sc     *submitScratch
	scBusy bool
}

// turnConn is one connector's room in the turn; batch false: it takes
// no batch (not a connector.Batcher), its messages went one by one.
type turnConn struct {
	c     int
	room  int
	batch bool
}

// turnOf returns the loop's turn batch, made at its first request.
func turnOf(l *engine.LoopLocal) *turnBatch {
	t, _ := l.V.(*turnBatch)
	if t == nil {
		t = &turnBatch{ms: make([]*msg.Message, 0, 256)}
		l.V = t
	}
	return t
}

// turnAdd queues m for connector c at the turn's end; false when c has
// no room for it. ok false: c takes no batch (the caller submits). When
// the turn has used up the room c had, what the turn holds for c goes now
// and the queue is read again: a queue with room then takes m, and a full
// one is seen full by the caller (queuesFull), so the session waits for
// room as it does without a turn batch.
func (h *Hub) turnAdd(t *turnBatch, cn connector.Connector, c int, m *msg.Message) (taken, ok bool) {
	i := 0
	for i < len(t.conns) && t.conns[i].c != c {
		i++
	}
	if i == len(t.conns) {
		tc := turnConn{c: c}
		if b := connector.AsBatcher(cn); b != nil {
			tc.room, tc.batch = b.Free(), true
		}
		t.conns = append(t.conns, tc)
	}
	tc := &t.conns[i]
	if !tc.batch {
		return false, false
	}
	if tc.room <= 0 {
		h.flushOne(t, c)
		if b := connector.AsBatcher(cn); b != nil {
			tc.room = b.Free()
		}
		if tc.room <= 0 {
			return false, true
		}
	}
	tc.room--
	t.ms = append(t.ms, m)
	return true, true
}

// flushOne hands over what t holds for connector c, keeping the rest in
// order.
func (h *Hub) flushOne(t *turnBatch, c int) {
	keep, share := t.ms[:0], t.share[:0]
	for _, m := range t.ms {
		if m.Connector == c {
			share = append(share, m)
		} else {
			keep = append(keep, m)
		}
	}
	clear(t.ms[len(keep):])
	t.ms, t.share = keep, share
	h.handTurn(h.cs(), c, share)
	clear(share)
	t.share = share[:0]
}

// EndTurnOn implements engine.LoopTurnEnder: the loop's turn batch goes
// to its connectors, then every connector fed is helped (EndTurn).
func (h *Hub) EndTurnOn(l *engine.LoopLocal) {
	if t, _ := l.V.(*turnBatch); t != nil {
		h.flushTurn(t)
	}
	h.EndTurn()
}

// flushTurn hands t's messages to their connectors, each connector's in
// one batch; what a queue no longer has room for, or a connector removed
// or restarted meanwhile, goes to later.
// The batch is emptied first: a panic midway cannot hand a message twice.
func (h *Hub) flushTurn(t *turnBatch) {
	all, conns := t.ms, t.conns
	t.ms, t.conns = t.ms[:0], t.conns[:0]
	if len(all) > 0 {
		cs := h.cs()
		for _, tc := range conns {
			if !tc.batch {
				continue
			}
			ms := all
			if len(conns) > 1 {
				t.share = t.share[:0]
				for _, m := range all {
					if m.Connector == tc.c {
						t.share = append(t.share, m)
					}
				}
				ms = t.share
			}
			h.handTurn(cs, tc.c, ms)
		}
		clear(all)
		clear(t.share)
		t.share = t.share[:0]
	}
}

// handTurn hands ms to connector c in one batch and marks c fed; what its
// queue has no room for, or all of ms when c was removed or restarted as
// something that takes no batch, goes to later.
func (h *Hub) handTurn(cs *connSet, c int, ms []*msg.Message) {
	if len(ms) == 0 {
		return
	}
	n := 0
	if cs.has(c) {
		if b := connector.AsBatcher(cs.conns[c]); b != nil {
			n = b.SubmitQuietBatch(ms)
		}
	}
	if n > 0 && cs.helped[c] {
		if f := cs.fed[c]; !f.v.Load() {
			f.v.Store(true) // after the push: EndTurn helps it
		}
	}
	for _, m := range ms[n:] {
		h.handLater(m)
	}
}

// Compile-time check.
var _ engine.LoopTurnEnder = (*Hub)(nil)
