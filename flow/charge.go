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
//
// A replace_sm that adds parts to a queued message adds their charge to
// the box (more), so one settlement covers the whole message.
type chargeBox struct {
	c    accounts.Charge
	more []accounts.Charge
}

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

// addCharge adds c (a replacement's extra parts) to m's charge; m must be
// in PhaseEditing, so no connector settles it meanwhile.
func (h *Hub) addCharge(m *msg.Message, c accounts.Charge) {
	if c.Micros() == 0 && c.Parts() == 0 {
		return
	}
	if b, ok := m.Owner.(*chargeBox); ok {
		b.more = append(b.more, c)
		return
	}
	h.keepCharge(m, c)
}

// settleCharge ends m's charge: refunded when refund is set (the refund
// written to the balance ledger under m.ID), kept otherwise; the box goes
// back to the pool.
func (h *Hub) settleCharge(m *msg.Message, refund bool) {
	b, ok := m.Owner.(*chargeBox)
	if !ok {
		return
	}
	m.Owner = nil
	if refund {
		h.noteStore(b.c.Refund(m.ID), "refund", m.ID)
		for i := range b.more {
			h.noteStore(b.more[i].Refund(m.ID), "refund", m.ID)
		}
		h.stats.refunds.Add(1)
	}
	h.freeBox(b)
}

// undoCharge gives m's charge back without a ledger entry: the record that
// would have carried the charge to the ledger was never stored.
func (h *Hub) undoCharge(m *msg.Message) {
	b, ok := m.Owner.(*chargeBox)
	if !ok {
		return
	}
	m.Owner = nil
	b.c.Undo()
	for i := range b.more { // written by Charge.Log
		h.noteStore(b.more[i].Refund(m.ID), "refund", m.ID)
	}
	h.stats.refunds.Add(1)
	h.freeBox(b)
}

// dropCharge lets m's charge box go without settling it: m stays pending
// in a durable store, whose record keeps the charge in the ledger, and the
// next start boxes it again (Redrive).
func (h *Hub) dropCharge(m *msg.Message) {
	if b, ok := m.Owner.(*chargeBox); ok {
		m.Owner = nil
		h.freeBox(b)
	}
}

func (h *Hub) freeBox(b *chargeBox) {
	b.c = accounts.Charge{}
	clear(b.more)
	b.more = b.more[:0]
	h.charges.Put(b)
}
