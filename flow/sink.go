package flow

import (
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// Accepted implements connector.Sink: the upstream took m. The charge is
// kept; m leaves the live index (cancel_sm and replace_sm can no longer act
// here). The state stays ENROUTE, as recorded at acceptance: a receipt that
// overtook the submit response may already have set a final state, which
// must not be overwritten. For a connector that forwards cancel_sm or
// replace_sm the upstream's id is kept, except for submit_multi, whose
// destinations share our id (cancel and replace do not apply to it).
func (h *Hub) Accepted(m *msg.Message, upstreamID []byte) {
	h.settleCharge(m, false)
	multi := m.Command == uint32(codec.SubmitMultiID)
	// The upstream id first: a cancel_sm that no longer finds m here must
	// find it.
	s := h.cs()
	if c := m.Connector; s.has(c) && s.forwards[c] && !multi {
		if err := h.upIDs.PutUpstreamOf(m.ID, upstreamID); err != nil {
			h.noteStore(err, "upstream_id", m.ID)
		}
	}
	if !multi {
		h.live.remove(m)
	}
	h.answer(m, 0, upstreamID)
	err := h.msgs.SetAccepted(m.ID, m.FinalState, m.FinalErr, m.FinalAt)
	h.noteStore(err, "accepted", m.ID)
	if h.opts.Durable && storeFailed(err) {
		h.unkeptWrite(unkeptState{accepted: true, id: m.ID, st: m.FinalState, code: m.FinalErr, at: m.FinalAt}, err)
	}
	h.settleDest(m, true)
	if m.FinalState != 0 && m.RegisteredDelivery&codec.RegisteredDeliveryReceiptMask == 0 {
		// No receipt will come: the decided state is the final one.
		h.final(err, m.ID, m.FinalState, m.FinalErr, m.FinalAt, upstreamID, false)
	}
	h.observeSince(s.accept, m.Connector, m.Received, m.AcceptedAt)
	if m.FinalState != 0 && m.RegisteredDelivery&codec.RegisteredDeliveryReceiptMask == 0 {
		// No receipt will come: its latency is known now.
		h.observeSince(s.receipt, m.Connector, m.Received, m.FinalAt)
	}
	h.pullSettled(m.ID, false)
}

// Failed implements connector.Sink: m will not be delivered. The charge is
// refunded, the Record takes the final state (with the upstream's status as
// its error code, done now), and the delivery side sends a receipt when
// m's registered_delivery asks for this outcome. With Options.Durable a
// message its connector still held when it stopped (StateUnknown,
// StatusShutdown) is not failed: it stays pending in the store, charged,
// and the next start sends it again (Redrive).
func (h *Hub) Failed(m *msg.Message, status uint32, state msg.State) {
	if state == msg.StateUnknown && status == connector.StatusShutdown {
		// A removed connector's message goes to another (connset.go).
		if s := h.cs(); s.has(m.Connector) && s.removed[m.Connector] {
			if h.moveOff(m) {
				return
			}
			status, state = uint32(RefuseNoRoute.status()), msg.StateUndeliverable
		}
	}
	if h.opts.Durable && state == msg.StateUnknown && status == connector.StatusShutdown {
		if h.spilling(m.Connector) && h.spillOff(m, false) {
			return // its connector stopped (halt, shutdown) while another node has it up: that node sends it
		}
		if m.Command != uint32(codec.SubmitMultiID) {
			h.live.remove(m)
		}
		h.dropCharge(m)
		h.settleDest(m, false) // its held copy goes again at the next start
		h.stats.kept.Add(1)
		h.pullSettled(m.ID, true) // a pulled one goes back to its shared queue
		return
	}
	h.settleCharge(m, true)
	if m.Command != uint32(codec.SubmitMultiID) {
		h.live.remove(m)
	}
	done := h.now().UnixNano()
	code := errCodeOf(status)
	h.answer(m, status, nil)
	err := h.msgs.SetState(m.ID, state, code, done)
	h.noteStore(err, "state", m.ID)
	if h.opts.Durable && storeFailed(err) {
		h.unkeptWrite(unkeptState{id: m.ID, st: state, code: code, at: done}, err)
	}
	h.settleDest(m, true)
	h.final(err, m.ID, state, code, done, nil, true)
	h.pullSettled(m.ID, false)
	if m.RegisteredDelivery&codec.RegisteredDeliveryReceiptMask == 0 {
		return // no final receipt asked: spare building the record
	}
	e := h.getEncoder()
	// The record holds the addresses the ESME submitted, m those the
	// policy rewrote; a submit_multi's record only its last destination's.
	if m.Command == uint32(codec.SubmitMultiID) || h.msgs.Get(m.ID, &e.rec) != nil {
		fillRecord(&e.rec, m, m.Text())
		e.rec.Submitted = m.Received
	}
	h.dl.FailedReceipt(&e.rec, state, code, done)
	h.putEncoder(e)
}

// Receipt implements connector.Sink: receipts go on to the delivery side.
func (h *Hub) Receipt(r *msg.Receipt) error { return h.dl.Receipt(r) }

// MO implements connector.Sink: MO go on to the delivery side.
func (h *Hub) MO(mo *msg.Inbound) error {
	if p := h.policy(); p != nil {
		return h.moPolicy(mo, p)
	}
	return h.dl.MO(mo)
}

// Sync implements connector.Sink: it waits until the store has committed
// every write made so far (Options.Committer), so a connector may then
// acknowledge what it handed over. Connector goroutines only.
func (h *Hub) Sync() error {
	c := h.opts.Committer
	if c == nil {
		return nil
	}
	if w := c.Written(); w > c.Committed() {
		return c.WaitCommitted(w)
	}
	return nil
}
