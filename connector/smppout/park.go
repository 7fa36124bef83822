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
// count (the oldest is dropped when full) and age (sweepParked). Preallocated;
// guarded by mu.
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

// add parks r under keys (mu held). It returns false when it had to drop
// the oldest parked receipt to make room.
func (p *parkTable) add(keys *idKeys, r *msg.Receipt, now int64) bool {
	free, oldest := -1, 0
	for i := range p.slots {
		s := &p.slots[i]
		if !s.used {
			free = i
			break
		}
		if s.at < p.slots[oldest].at {
			oldest = i
		}
	}
	dropped := false
	if free < 0 {
		free, dropped = oldest, true
		p.n--
	}
	s := &p.slots[free]
	s.used, s.at, s.keys, s.r = true, now, *keys, *r
	p.n++
	return !dropped
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

// sweep drops receipts parked before cutoff (mu held) and returns how many.
func (p *parkTable) sweep(cutoff int64) int {
	n := 0
	for i := range p.slots {
		if s := &p.slots[i]; s.used && s.at < cutoff {
			s.used = false
			p.n--
			n++
		}
	}
	return n
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
		c.rt.Receipt(&sc.r[i])
	}
}

// parkScratch holds receipts taken out of the park for delivery.
type parkScratch struct {
	r  []msg.Receipt
	at []int64
}

// sweepParked drops parked receipts older than ParkTTL (the runtime's worker, in Due).
func (c *client) sweepParked(mono int64) {
	c.park.mu.Lock()
	n := 0
	if c.park.n > 0 {
		n = c.park.sweep(mono - int64(c.opts.ParkTTL))
	}
	c.park.mu.Unlock()
	if n > 0 {
		total := c.parkDropped.Add(uint64(n))
		c.log.Warn().Int("dropped", n).Uint64("dropped_total", total).Dur("park_ttl", c.opts.ParkTTL).
			Msg("receipts for upstream ids never accepted here: dropped")
	}
}

// parkedLen returns the number of parked receipts (tests).
func (c *client) parkedLen() int {
	c.park.mu.Lock()
	defer c.park.mu.Unlock()
	return c.park.n
}
