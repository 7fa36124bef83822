package flow

import (
	"time"

	"github.com/rs/zerolog"

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

// TakeOverReport is what a take-over sent or queued that the departed
// node may send or have sent too.
type TakeOverReport struct {
	Deferred Deferred
	// PossibleDuplicates are the messages and decided receipts it sent at
	// once because their time had come: the departed node may have sent
	// them (one its connector had written upstream, unanswered, at the
	// kill). DuplicateIDs are the first MaxDeferredIDs, for the log line.
	PossibleDuplicates uint64
	DuplicateIDs       []msg.ID
}

// TakeOverDeferred is TakeOver, returning what it sent or queued that the
// departed node may send or have sent too.
func (h *Hub) TakeOverDeferred(st Recoverer) (TakeOverReport, error) {
	t0 := time.Now()
	c := &h.stats
	before, dupBefore, waitBefore := c.redriven.Load(), c.redrivenDup.Load(), c.waiting.Load()
	var rep TakeOverReport
	d := &rep.Deferred
	now := h.now().UnixNano()
	err := st.Recover(func(r *storage.Record, body []byte) error {
		sent, dup := c.redriven.Load(), c.redrivenDup.Load()
		err := h.redrive(r, body)
		if c.redrivenDup.Load() > dup && len(rep.DuplicateIDs) < MaxDeferredIDs {
			rep.DuplicateIDs = append(rep.DuplicateIDs, r.ID)
		}
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
	rep.PossibleDuplicates = c.redrivenDup.Load() - dupBefore
	h.log.Warn().Str("event", "takeover").Uint64("redriven", c.redriven.Load()-before).
		Uint64("possible_duplicates", rep.PossibleDuplicates).Array("possible_duplicate_ids", idList(rep.DuplicateIDs)).
		Uint64("awaiting_receipt", c.waiting.Load()-waitBefore).
		Uint64("deferred", d.N).Dur("took", time.Since(t0)).Err(err).
		Msg("a departed node's unsent messages taken over and sent again")
	return rep, err
}

// idList logs ids as an array of strings.
type idList []msg.ID

func (l idList) MarshalZerologArray(a *zerolog.Array) {
	for _, id := range l {
		a.Str(id.String())
	}
}
