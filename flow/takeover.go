package flow

import "time"

// TakeOver re-drives, while running, the non-final messages another
// cluster node acknowledged and did not finish (st hands out that node's
// records): as Recover does at start, each goes back to its connector
// with the same id, counted as a possible duplicate when its time had come
// (the departed node may have sent it), and the receipts of outcomes
// decided at acceptance are sent at their time (counted so too when due
// already: the departed node may have sent them). The departed node's held
// submit_multi destinations are not its to resend.
func (h *Hub) TakeOver(st Recoverer) error {
	t0 := time.Now()
	c := &h.stats
	before, dupBefore, waitBefore := c.redriven.Load(), c.redrivenDup.Load(), c.waiting.Load()
	err := st.Recover(h.redrive)
	h.log.Warn().Str("event", "takeover").Uint64("redriven", c.redriven.Load()-before).
		Uint64("possible_duplicates", c.redrivenDup.Load()-dupBefore).Uint64("awaiting_receipt", c.waiting.Load()-waitBefore).Dur("took", time.Since(t0)).Err(err).
		Msg("a departed node's unsent messages taken over and sent again")
	return err
}
