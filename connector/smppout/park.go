package smppout

import (
	"net"
	"sync"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// parked is a receipt whose upstream id was not mapped yet, with the
// deliver_sm (or data_sm) that brought it: not answered until the receipt
// is kept.
type parked struct {
	used bool
	at   int64 // mono ns
	keys idKeys
	r    msg.Receipt // ID not yet known
	ans  answer
}

// answer is where the response to a parked receipt's deliver_sm goes: its
// session and connection (nil when the test tables have none), sequence
// and response command.
type answer struct {
	s    *session
	nc   net.Conn
	seq  uint32
	resp codec.CommandID
}

// parkTable keeps receipts that overtook their submit_sm_resp, bounded in
// count (a full table refuses the next one: the upstream is answered
// ESME_RX_T_APPN and resends it) and age (sweepParked hands those the id
// map never claimed on as dead letters). Preallocated; guarded by mu.
// A parked receipt lives only here, so its deliver_sm is not answered
// yet: the answer goes once the sink kept it (ESME_ROK) or could not
// (ESME_RX_T_APPN), and a crash meanwhile leaves the upstream to send it
// again. Parking holds one of the upstream's window slots for up to
// park_ttl (milliseconds, unless the id never comes).
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

// add parks r under keys, its answer to go to ans (mu held); false when
// the table is full (r is not parked). The views in r (UpstreamID, Raw)
// are not kept.
func (p *parkTable) add(keys *idKeys, r *msg.Receipt, ans answer, now int64) bool {
	if p.n >= len(p.slots) {
		return false
	}
	for i := range p.slots {
		s := &p.slots[i]
		if s.used {
			continue
		}
		s.used, s.at, s.keys, s.r, s.ans = true, now, *keys, *r, ans
		s.r.UpstreamID, s.r.Raw = nil, nil
		p.n++
		return true
	}
	return false
}

// take moves the receipts parked under key into sc, in arrival order
// (an intermediate notification before the final receipt) (mu held).
func (p *parkTable) take(key []byte, sc *parkScratch) {
	for i := range p.slots {
		s := &p.slots[i]
		if !s.used {
			continue
		}
		for k := 0; k < s.keys.n; k++ {
			if string(s.keys.key(k)) != string(key) {
				continue
			}
			sc.r, sc.at, sc.ans = append(sc.r, s.r), append(sc.at, s.at), append(sc.ans, s.ans)
			for j := len(sc.r) - 1; j > 0 && sc.at[j] < sc.at[j-1]; j-- {
				sc.r[j], sc.r[j-1] = sc.r[j-1], sc.r[j]
				sc.at[j], sc.at[j-1] = sc.at[j-1], sc.at[j]
				sc.ans[j], sc.ans[j-1] = sc.ans[j-1], sc.ans[j]
			}
			s.used, s.ans = false, answer{}
			p.n--
			break
		}
	}
}

// sweep moves receipts parked before cutoff into sc, with their first
// key (the upstream id) in ids, and frees their slots (mu held).
func (p *parkTable) sweep(cutoff int64, sc *parkScratch, ids [][]byte) [][]byte {
	for i := range p.slots {
		if s := &p.slots[i]; s.used && s.at < cutoff {
			sc.r, sc.at, sc.ans = append(sc.r, s.r), append(sc.at, s.at), append(sc.ans, s.ans)
			ids = append(ids, append([]byte(nil), s.keys.key(0)...))
			s.used, s.ans = false, answer{}
			p.n--
		}
	}
	return ids
}

// resolveParked hands the sink the receipts parked under key, now known
// to be our id, and answers their deliver_sm. sc is the caller's scratch,
// reused across calls.
func (c *client) resolveParked(key []byte, id msg.ID, sc *parkScratch) {
	c.park.mu.Lock()
	if c.park.n == 0 {
		c.park.mu.Unlock()
		return
	}
	sc.reset()
	c.park.take(key, sc)
	c.park.mu.Unlock()
	for i := range sc.r {
		sc.r[i].ID = id
	}
	c.keepParked(sc)
}

// keepParked hands sc's receipts to the sink and answers each one's
// deliver_sm: ESME_ROK once the sink kept it and it is durable (Sync),
// else ESME_RX_T_APPN, so the upstream sends it again. Not an event
// loop: Sync may wait for the disk.
func (c *client) keepParked(sc *parkScratch) {
	sc.st = sc.st[:0]
	kept := false
	for i := range sc.r {
		sc.r[i].Resends = true // not answered yet: the upstream resends what is refused
		st := codec.StatusOK
		if err := c.rt.Receipt(&sc.r[i]); err != nil {
			st = codec.StatusXTAppn
		} else {
			kept = true
		}
		sc.st = append(sc.st, st)
	}
	if kept && c.rt.Sync() != nil {
		for i := range sc.st {
			sc.st[i] = codec.StatusXTAppn
		}
	}
	for i := range sc.st {
		if sc.st[i] != codec.StatusOK {
			c.notKept.Add(1)
			c.noteReceiptLoss("parked receipt not kept (store full or failing): answered ESME_RX_T_APPN, the upstream resends it")
		}
		c.answerParked(&sc.ans[i], sc.st[i], sc)
	}
}

// answerParked writes the response to a parked receipt's deliver_sm or
// data_sm. A connection closed since then takes nothing: the upstream
// sends the receipt again, and the first final state wins.
func (c *client) answerParked(a *answer, st codec.Status, sc *parkScratch) {
	if a.s == nil || a.nc == nil {
		return
	}
	h := codec.Header{CommandID: a.resp, Status: st, Sequence: a.seq}
	var out []byte
	var err error
	if a.resp == codec.DataSMRespID {
		var resp codec.DataSMResp
		out, err = resp.Append(sc.wbuf[:0], h)
	} else {
		var resp codec.DeliverSMResp
		out, err = resp.Append(sc.wbuf[:0], h)
	}
	if err != nil {
		return
	}
	sc.wbuf = out
	_ = a.s.write(a.nc, out)
}

// parkScratch holds receipts taken out of the park for delivery, with
// their answers and statuses.
type parkScratch struct {
	r    []msg.Receipt
	at   []int64
	ans  []answer
	st   []codec.Status
	wbuf []byte
}

func newParkScratch() parkScratch {
	return parkScratch{r: make([]msg.Receipt, 0, 4), at: make([]int64, 0, 4), ans: make([]answer, 0, 4),
		st: make([]codec.Status, 0, 4), wbuf: make([]byte, 0, 32)}
}

func (sc *parkScratch) reset() {
	sc.r, sc.at = sc.r[:0], sc.at[:0]
	clear(sc.ans)
	sc.ans = sc.ans[:0]
}

// sweepParked hands receipts parked longer than ParkTTL to the sink with
// no id of ours (ID 0), which keeps them as dead letters: an upstream id
// never accepted here (the runtime's worker, in Due), and answers their
// deliver_sm. Rare: the copies allocate.
func (c *client) sweepParked(mono int64) {
	c.park.mu.Lock()
	if c.park.n == 0 {
		c.park.mu.Unlock()
		return
	}
	sc := newParkScratch()
	ids := c.park.sweep(mono-int64(c.opts.ParkTTL), &sc, nil)
	c.park.mu.Unlock()
	if len(sc.r) == 0 {
		return
	}
	total := c.parkExpired.Add(uint64(len(sc.r)))
	c.log.Warn().Int("receipts", len(sc.r)).Uint64("expired_total", total).Dur("park_ttl", c.opts.ParkTTL).
		Msg("receipts for upstream ids never accepted here: kept as dead letters")
	for i := range sc.r {
		sc.r[i].UpstreamID = ids[i]
	}
	c.keepParked(&sc)
}

// parkedLen returns the number of parked receipts (tests).
func (c *client) parkedLen() int {
	c.park.mu.Lock()
	defer c.park.mu.Unlock()
	return c.park.n
}
