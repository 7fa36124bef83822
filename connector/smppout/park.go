package smppout

import (
	"sync"

	"github.com/smppd/smppd/msg"
)

// parked is a receipt whose upstream id was not mapped yet.
type parked struct {
	used bool
	at   int64 // mono ns
	keys idKeys
	r    msg.Receipt // ID not yet known
}

// parkTable keeps receipts that overtook their submit_sm_resp, bounded in
// count (a full table refuses the next one: the upstream is answered
// ESME_RX_T_APPN and resends it) and age (sweepParked hands those the id
// map never claimed on as dead letters). Preallocated; guarded by mu.
// A parked receipt was answered ESME_ROK and lives only here until it is
// resolved, within park_ttl: the one window in which a crash loses an
// acknowledged receipt (docs/MESSAGE_FLOW.md).
//
// Why no receipt is lost to the race with the response: the accept path
// calls IDMap.PutUpstream, then takes mu to look for parked receipts; the
// receipt path looks the id up again under mu before parking. Whichever
// takes mu second sees the other's work.
type parkTable struct {
	mu    sync.Mutex
	slots []parked
	n     int
}

func (p *parkTable) init(n int) { p.slots = make([]parked, n) }

// add parks r under keys (mu held); false when the table is full (r is
// not parked). The views in r (UpstreamID, Raw) are not kept.
func (p *parkTable) add(keys *idKeys, r *msg.Receipt, now int64) bool {
	if p.n >= len(p.slots) {
		return false
	}
	for i := range p.slots {
		s := &p.slots[i]
		if s.used {
			continue
		}
		s.used, s.at, s.keys, s.r = true, now, *keys, *r
		// Answered ESME_ROK: the upstream does not send it again.
		s.r.UpstreamID, s.r.Raw, s.r.Resends = nil, nil, false
		p.n++
		return true
	}
	return false
}

// take moves the receipts parked under key into out, in arrival order
// (an intermediate notification before the final receipt), and returns it
// (mu held).
func (p *parkTable) take(key []byte, out []msg.Receipt, at []int64) ([]msg.Receipt, []int64) {
	for i := range p.slots {
		s := &p.slots[i]
		if !s.used {
			continue
		}
		for k := 0; k < s.keys.n; k++ {
			if string(s.keys.key(k)) != string(key) {
				continue
			}
			out, at = append(out, s.r), append(at, s.at)
			for j := len(out) - 1; j > 0 && at[j] < at[j-1]; j-- {
				out[j], out[j-1] = out[j-1], out[j]
				at[j], at[j-1] = at[j-1], at[j]
			}
			s.used = false
			p.n--
			break
		}
	}
	return out, at
}

// sweep moves receipts parked before cutoff into out, with their first
// key (the upstream id) in ids, and frees their slots (mu held).
func (p *parkTable) sweep(cutoff int64, out []msg.Receipt, ids [][]byte) ([]msg.Receipt, [][]byte) {
	for i := range p.slots {
		if s := &p.slots[i]; s.used && s.at < cutoff {
			out = append(out, s.r)
			ids = append(ids, append([]byte(nil), s.keys.key(0)...))
			s.used = false
			p.n--
		}
	}
	return out, ids
}

// resolveParked delivers the receipts parked under key, now known to be
// our id. sc is the caller's scratch, reused across calls.
func (c *client) resolveParked(key []byte, id msg.ID, sc *parkScratch) {
	c.park.mu.Lock()
	if c.park.n == 0 {
		c.park.mu.Unlock()
		return
	}
	sc.r, sc.at = c.park.take(key, sc.r[:0], sc.at[:0])
	c.park.mu.Unlock()
	for i := range sc.r {
		sc.r[i].ID = id
		if err := c.rt.Receipt(&sc.r[i]); err != nil {
			// Answered ESME_ROK when it was parked: nothing can ask for it again.
			c.noteReceiptLoss("parked receipt not kept (store full or failing): lost")
		}
	}
}

// parkScratch holds receipts taken out of the park for delivery.
type parkScratch struct {
	r  []msg.Receipt
	at []int64
}

// sweepParked hands receipts parked longer than ParkTTL to the sink with
// no id of ours (ID 0), which keeps them as dead letters: an upstream id
// never accepted here (the runtime's worker, in Due). Rare: the copies
// allocate.
func (c *client) sweepParked(mono int64) {
	c.park.mu.Lock()
	var gone []msg.Receipt
	var ids [][]byte
	if c.park.n > 0 {
		gone, ids = c.park.sweep(mono-int64(c.opts.ParkTTL), nil, nil)
	}
	c.park.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	total := c.parkExpired.Add(uint64(len(gone)))
	c.log.Warn().Int("receipts", len(gone)).Uint64("expired_total", total).Dur("park_ttl", c.opts.ParkTTL).
		Msg("receipts for upstream ids never accepted here: kept as dead letters")
	for i := range gone {
		gone[i].UpstreamID = ids[i]
		if err := c.rt.Receipt(&gone[i]); err != nil {
			c.noteReceiptLoss("parked receipt not kept as a dead letter (store full or failing): lost")
		}
	}
}

// parkedLen returns the number of parked receipts (tests).
func (c *client) parkedLen() int {
	c.park.mu.Lock()
	defer c.park.mu.Unlock()
	return c.park.n
}
