package flow

import (
	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/msg"
)

// chargeBox holds an admitted message's accounts.Charge in m.Owner until
// the connector settles it: refunded when the upstream refuses the message
// (Sink.Failed), dropped when it accepts it. Boxes are pooled, and only
// charges that took something are boxed: unlimited users and free routes
// cost no box at all.
//
// Ownership: the event loop writes m.Owner before connector.Submit; after
// a successful Submit only the connector's Sink callbacks touch it.
type chargeBox struct{ c accounts.Charge }

// keepCharge boxes c into m.Owner when it took anything.
func (h *Hub) keepCharge(m *msg.Message, c accounts.Charge) {
	if c.Micros() == 0 && c.Parts() == 0 {
		m.Owner = nil
		return
	}
	b := h.charges.Get().(*chargeBox)
	b.c = c
	m.Owner = b
}

// settleCharge ends m's charge: refunded when refund is set, kept
// otherwise; the box goes back to the pool.
func (h *Hub) settleCharge(m *msg.Message, refund bool) {
	b, ok := m.Owner.(*chargeBox)
	if !ok {
		return
	}
	m.Owner = nil
	if refund {
		b.c.Refund()
		h.stats.refunds.Add(1)
	}
	b.c = accounts.Charge{}
	h.charges.Put(b)
}
