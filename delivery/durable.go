package delivery

import (
	"errors"
	"fmt"

	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// With Options.Durable the hold store is where every receipt and MO lives
// from its creation until its ESME acknowledges it, refuses it for good or
// it expires: keep holds a fresh item leased (LeaseUntil), so it is still
// delivered from memory at once, and the existing paths do the rest (done
// acknowledges the held copy, hold gives it back in place). After a crash
// the store offers every held item again: an ESME may see a deliver_sm
// twice when it was in flight at the kill, never none.

// errNotKept wraps why a receipt or MO could not be kept (the hold store
// full or failing): the connector asks its upstream to send it again.
var errNotKept = errors.New("delivery: not kept")

// keep puts a fresh item in the hold store, leased to the delivery now
// starting; r is the encoder of a receipt's body (a store that keeps
// receipts in compact form gets its recipe), nil for an MO. An error
// means it is not stored: the caller drops the item (back to the slab)
// and reports the error.
func (h *Service) keep(it *item, r *dlr.Encoder) error {
	it.held = storage.Held{SystemID: it.systemID, Kind: it.kind, ID: it.id, Body: it.d.Body,
		Expires: it.expires, Attempts: it.attempts, LeaseUntil: it.expires}
	var key storage.HeldKey
	var err error
	if r != nil && h.recipes != nil {
		key, err = h.recipes.HoldRecipe(&it.held, r.Recipe())
	} else {
		key, err = h.holds.Hold(&it.held)
	}
	it.held = storage.Held{}
	if err != nil {
		h.stats.heldFull.Add(1)
		if !errors.Is(err, storage.ErrHeldFull) {
			h.noteStore(err, "hold", it.id)
		}
		if e := h.event(&h.warn.heldFull, zerologError); e != nil {
			e.Str("system_id", it.systemID).Str("kind", kindName(it.kind)).Err(err).
				Uint64("not_kept_total", h.stats.heldFull.Load()).
				Msg("hold store full or failing: not kept (an upstream is asked to resend it)")
		}
		return fmt.Errorf("%w: %w", errNotKept, err)
	}
	it.key = key
	h.leased.Add(1)
	return nil
}

// deadLetter keeps what no one can ever take, an MO with no target or a
// receipt for an id not ours, so its upstream is answered ESME_ROK and not
// asked to resend it forever. Without a dead-letter list it is dropped
// (counted and logged by the caller). An error means it is not kept.
func (h *Service) deadLetter(kind storage.HeldKind, conn int32, systemID string, id msg.ID, reason string, body []byte) error {
	if kind == storage.HeldMO {
		h.stats.deadMO.Add(1)
	} else {
		h.stats.deadReceipts.Add(1)
	}
	if h.opts.DeadLetters == nil {
		return nil
	}
	d := storage.DeadLetter{Kind: kind, Connector: conn, SystemID: systemID, ID: id, Reason: reason, Body: body,
		At: h.now().UnixNano()}
	if err := h.opts.DeadLetters.Add(&d); err != nil {
		h.noteStore(err, "dead_letter", id)
		return fmt.Errorf("%w: %w", errNotKept, err)
	}
	return nil
}
