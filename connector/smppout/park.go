package smppout

import (
	"encoding/binary"
	"sync"

	"github.com/smppd/smppd/msg"
)

// parked is a receipt whose upstream id was not mapped yet; key names its
// copy in Options.Parker (0: none).
type parked struct {
	used bool
	at   int64 // mono ns
	keys idKeys
	r    msg.Receipt // ID not yet known
	key  uint64
}

// parkTable keeps receipts that overtook their submit_sm_resp, bounded in
// count (a full table refuses the next one: the upstream is answered
// ESME_RX_T_APPN and resends it) and age (sweepParked hands those the id
// map never claimed on as dead letters). Preallocated; guarded by mu.
// Its deliver_sm is answered at once, so with Options.Parker a parked
// receipt's copy is parked in the store first (and leaves it once the
// sink has the receipt): a crash then loses nothing, and the next start
// takes the copies up again (restoreParked). Without a Parker a parked
// receipt lives only here: a crash loses it (the memory store's case).
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

// add parks r under keys, its copy under key (mu held); false when the
// table is full (r is not parked). The views in r (UpstreamID, Raw) are
// not kept.
func (p *parkTable) add(keys *idKeys, r *msg.Receipt, key uint64, now int64) bool {
	if p.n >= len(p.slots) {
		return false
	}
	for i := range p.slots {
		s := &p.slots[i]
		if s.used {
			continue
		}
		s.used, s.at, s.keys, s.r, s.key = true, now, *keys, *r, key
		s.r.UpstreamID, s.r.Raw, s.r.Resends = nil, nil, false // answered: the upstream does not send it again
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
			sc.r, sc.at, sc.keys = append(sc.r, s.r), append(sc.at, s.at), append(sc.keys, s.key)
			for j := len(sc.r) - 1; j > 0 && sc.at[j] < sc.at[j-1]; j-- {
				sc.r[j], sc.r[j-1] = sc.r[j-1], sc.r[j]
				sc.at[j], sc.at[j-1] = sc.at[j-1], sc.at[j]
				sc.keys[j], sc.keys[j-1] = sc.keys[j-1], sc.keys[j]
			}
			s.used = false
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
			sc.r, sc.at, sc.keys = append(sc.r, s.r), append(sc.at, s.at), append(sc.keys, s.key)
			ids = append(ids, append([]byte(nil), s.keys.key(0)...))
			s.used = false
			p.n--
		}
	}
	return ids
}

// parkReceipt parks r under keys (park.mu held): its copy first, with
// Options.Parker, in buf. An error means it is not parked (the upstream
// is answered ESME_RX_T_APPN and sends it again).
func (c *client) parkReceipt(keys *idKeys, r *msg.Receipt, buf *[]byte) error {
	if c.park.n >= len(c.park.slots) {
		c.parkFull.Add(1)
		return errParkFull
	}
	var key uint64
	if p := c.opts.Parker; p != nil {
		*buf = appendParked((*buf)[:0], keys, r)
		var err error
		if key, err = p.Park(*buf); err != nil {
			return err
		}
	}
	c.park.add(keys, r, key, c.mono())
	return nil
}

// resolveParked hands the sink the receipts parked under key, now known
// to be our id. sc is the caller's scratch, reused across calls.
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
	c.handOn(sc)
}

// handOn gives sc's receipts to the sink; the parked copy of each one it
// kept goes. One it could not keep stays parked in the store for the next
// start (without a Parker it is lost).
func (c *client) handOn(sc *parkScratch) {
	for i := range sc.r {
		if err := c.rt.Receipt(&sc.r[i]); err != nil {
			c.noteReceiptLoss("parked receipt not kept (store full or failing): its parked copy waits for the next start")
			continue
		}
		c.unpark(sc.keys[i])
	}
}

// unpark drops a parked copy.
func (c *client) unpark(key uint64) {
	if key == 0 || c.opts.Parker == nil {
		return
	}
	if err := c.opts.Parker.Unpark(key); err != nil {
		c.noteReceiptLoss("parked copy not removed (store full or failing): the next start offers that receipt again")
	}
}

// parkScratch holds receipts taken out of the park for delivery, with the
// keys of their parked copies.
type parkScratch struct {
	r    []msg.Receipt
	at   []int64
	keys []uint64
}

func newParkScratch() parkScratch {
	return parkScratch{r: make([]msg.Receipt, 0, 4), at: make([]int64, 0, 4), keys: make([]uint64, 0, 4)}
}

func (sc *parkScratch) reset() { sc.r, sc.at, sc.keys = sc.r[:0], sc.at[:0], sc.keys[:0] }

// sweepParked hands receipts parked longer than ParkTTL to the sink with
// no id of ours (ID 0), which keeps them as dead letters: an upstream id
// never accepted here (the runtime's worker, in Due). Rare: the copies
// allocate.
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
	c.handOn(&sc)
}

// restoreParked takes up the receipts an earlier run (or instance) parked
// in the store (Open): each whose id is mapped now goes to the sink, the
// others wait in the park again for park_ttl.
func (c *client) restoreParked() {
	p := c.opts.Parker
	if p == nil {
		return
	}
	var keys idKeys
	var r msg.Receipt
	sc := newParkScratch()
	restored, resolved := 0, 0
	err := p.Parked(func(key uint64, body []byte) {
		if !readParked(body, &keys, &r) {
			c.unpark(key) // unreadable: nothing can resolve it
			return
		}
		restored++
		r.Connector = c.opts.ID
		c.park.mu.Lock()
		id, ok := c.lookup(&keys)
		if !ok && !c.park.add(&keys, &r, key, c.mono()) {
			ok = true // the park is full: a dead letter now
		}
		c.park.mu.Unlock()
		if ok {
			sc.reset()
			r.ID = id
			if id == 0 {
				r.UpstreamID = keys.key(0)
			}
			sc.r, sc.keys = append(sc.r, r), append(sc.keys, key)
			c.handOn(&sc)
			resolved++
		}
	})
	if err != nil {
		c.log.Error().Err(err).Msg("parked receipts of the previous run not read: the next start tries again")
	}
	if restored > 0 {
		c.log.Info().Int("receipts", restored).Int("resolved", resolved).
			Msg("receipts parked by the previous run taken up")
	}
}

// parkedVersion is the first octet of a parked copy: version, the lookup
// keys (count, then a length octet and the key each), flags (1:
// intermediate, 2: network error), state, err (2 octets), network error
// (3), done (Unix ns, 8), all little endian.
const parkedVersion = 1

func appendParked(dst []byte, k *idKeys, r *msg.Receipt) []byte {
	dst = append(dst, parkedVersion, byte(k.n))
	for i := 0; i < k.n; i++ {
		dst = append(dst, k.len[i])
		dst = append(dst, k.key(i)...)
	}
	var flags byte
	if r.Intermediate {
		flags |= 1
	}
	if r.HasNetErr {
		flags |= 2
	}
	dst = append(dst, flags, byte(r.State))
	dst = binary.LittleEndian.AppendUint16(dst, r.Err)
	dst = append(dst, r.NetworkError[:]...)
	return binary.LittleEndian.AppendUint64(dst, uint64(r.Done))
}

// readParked reads a parked copy; false when it is not one this release
// writes.
func readParked(b []byte, k *idKeys, r *msg.Receipt) bool {
	if len(b) < 2 || b[0] != parkedVersion || int(b[1]) > maxKeys {
		return false
	}
	n := int(b[1])
	b = b[2:]
	k.n = 0
	for range n {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return false
		}
		k.add(b[1 : 1+int(b[0])])
		b = b[1+int(b[0]):]
	}
	if k.n == 0 || len(b) != 2+2+3+8 {
		return false
	}
	*r = msg.Receipt{Intermediate: b[0]&1 != 0, HasNetErr: b[0]&2 != 0, State: msg.State(b[1]),
		Err: binary.LittleEndian.Uint16(b[2:]), Done: int64(binary.LittleEndian.Uint64(b[7:]))}
	copy(r.NetworkError[:], b[4:7])
	return true
}

// parkedLen returns the number of parked receipts (tests).
func (c *client) parkedLen() int {
	c.park.mu.Lock()
	defer c.park.mu.Unlock()
	return c.park.n
}
