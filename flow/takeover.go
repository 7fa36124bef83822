package flow

import (
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TakeOver re-drives, while running, the non-final messages another
// cluster node acknowledged and did not finish (st hands out that node's
// records): as Recover does at start, each goes back to its connector
// with the same id, counted as a possible duplicate when its time had come
// (the departed node may have sent it), and the receipts of outcomes
// decided at acceptance are sent at their time (counted so too when due
// already: the departed node may have sent them). The departed node's held
// submit_multi destinations are not its to resend.
func (h *Hub) TakeOver(st Recoverer) error {
	_, err := h.TakeOverDeferred(st)
	return err
}

// MaxDeferredIDs bounds the ids a Deferred keeps for its log line.
const MaxDeferredIDs = 100

// Deferred are the messages and decided receipts a take-over queued for a
// time still to come: a departed node that was alive all along (cut off
// from the others, not dead) has them queued too and sends them at that
// time as well, so each is a possible duplicate once it is seen back
// (cluster.Deferred).
type Deferred struct {
	N   uint64
	IDs []msg.ID // the first MaxDeferredIDs
}

// TakeOverDeferred is TakeOver, returning what it queued for later.
func (h *Hub) TakeOverDeferred(st Recoverer) (Deferred, error) {
	t0 := time.Now()
	c := &h.stats
	before, dupBefore, waitBefore := c.redriven.Load(), c.redrivenDup.Load(), c.waiting.Load()
	var d Deferred
	now := h.now().UnixNano()
	err := st.Recover(func(r *storage.Record, body []byte) error {
		sent, dup := c.redriven.Load(), c.redrivenDup.Load()
		err := h.redrive(r, body)
		// Queued for later: a decided receipt not yet due, or a message
		// re-driven and not counted a possible duplicate (not yet due).
		later := body == nil && r.State.Final() && r.Done > now ||
			body != nil && c.redriven.Load() > sent && c.redrivenDup.Load() == dup
		if later {
			d.N++
			if len(d.IDs) < MaxDeferredIDs {
				d.IDs = append(d.IDs, r.ID)
			}
		}
		return err
	})
	h.log.Warn().Str("event", "takeover").Uint64("redriven", c.redriven.Load()-before).
		Uint64("possible_duplicates", c.redrivenDup.Load()-dupBefore).Uint64("awaiting_receipt", c.waiting.Load()-waitBefore).
		Uint64("deferred", d.N).Dur("took", time.Since(t0)).Err(err).
		Msg("a departed node's unsent messages taken over and sent again")
	return d, err
}
