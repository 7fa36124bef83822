package jetstream

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
)

// holds is the store's storage.Holds. Keys callers see are the index's;
// the journal names an item by its cluster-wide key (this node's id in the
// top 12 bits, a counter started from the open's Unix µs below), so each
// node maps its own index keys to the items other nodes ack or release.
type holds struct {
	s    *Store
	mu   sync.Mutex
	next uint64
	toG  map[storage.HeldKey]uint64
	toL  map[uint64]storage.HeldKey
	// mine are the items this node holds leased: another node's release
	// of one does not offer it again here.
	mine map[storage.HeldKey]struct{}
	// remote are other nodes' items (their user); lapse, those held leased
	// for their producer, until when: past it (the producer died during
	// its delivery) Expire offers them here.
	remote map[storage.HeldKey]string
	lapse  map[storage.HeldKey]int64
	// lapsed are the items whose producer lease ended here without an ack
	// or a release: one leased next may have been sent by its producer.
	lapsed map[storage.HeldKey]struct{}
	// tried are the items another node (or this node's earlier run) won
	// the claim of and delivered, its kTried applied here without an ack
	// or a release since: the node. One leased here is a possible
	// duplicate even when that node's claim expired before this node
	// ever tried it (no receiver of the user here then).
	tried map[storage.HeldKey]int
	// retaken counts leases of items whose earlier deliverer (the
	// producer, or another claim's winner) went silent past its lease:
	// each possibly delivered twice.
	retaken atomic.Uint64
	// unmarked counts items delivered before their kTried marker was
	// acknowledged (mark).
	unmarked atomic.Uint64
	// own are this node's items (their user), ownBy their number per user:
	// max_held and a user's share bound these only, checked by Hold where
	// it can still refuse. The index takes every item the journal brings
	// (apply.go), each node's bounded by that node's Hold.
	own          map[storage.HeldKey]string
	ownBy        map[string]int
	max          int
	refused      uint64 // Hold refusals (ErrHeldFull), shareRefused included
	shareRefused uint64
}

const nodeShift = 52

// producerLease is how long another node's item that its producer is
// delivering stays out of this node's leases: past it, without a release
// or an ack, the producer is taken for dead and this node may send it (a
// possible duplicate when the producer was only slow: docs/CLUSTER.md).
const producerLease = 10 * time.Second

func (h *holds) init(s *Store) {
	h.s = s
	h.next = uint64(s.o.Node)<<nodeShift | uint64(s.now()/1000)&(1<<nodeShift-1)
	h.toG = make(map[storage.HeldKey]uint64)
	h.toL = make(map[uint64]storage.HeldKey)
	h.mine = make(map[storage.HeldKey]struct{})
	h.remote = make(map[storage.HeldKey]string)
	h.lapse = make(map[storage.HeldKey]int64)
	h.lapsed = make(map[storage.HeldKey]struct{})
	h.tried = make(map[storage.HeldKey]int)
	h.own = make(map[storage.HeldKey]string)
	h.ownBy = make(map[string]int)
	h.max = s.o.MaxHeld
	if h.max <= 0 {
		h.max = disk.DefaultMaxHeld
	}
}

// admit refuses a new item of user's once this node holds max_held items
// of its own, or user its share of them. Caller holds mu.
func (h *holds) admit(user string) error {
	if len(h.own) >= h.max {
		h.refused++
		return storage.ErrHeldFull
	}
	if n := h.ownBy[user]; n > 0 && h.s.o.HeldShare != nil {
		if lim := h.s.o.HeldShare(user); lim > 0 && n >= lim {
			h.refused++
			h.shareRefused++
			return storage.ErrHeldFull
		}
	}
	return nil
}

// HeldByUser implements storage.HeldCounts: this node's own items per
// user, what its share (admit) counts.
func (h *holds) HeldByUser(fn func(systemID string, n int)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for user, n := range h.ownBy {
		if n > 0 {
			fn(user, n)
		}
	}
}

// adopt counts key as this node's item of user. Caller holds mu.
func (h *holds) adopt(key storage.HeldKey, user string) {
	h.own[key] = user
	h.ownBy[user]++
}

// disown uncounts key if it is this node's item. Caller holds mu.
func (h *holds) disown(key storage.HeldKey) {
	u, ok := h.own[key]
	if !ok {
		return
	}
	delete(h.own, key)
	if h.ownBy[u]--; h.ownBy[u] <= 0 {
		delete(h.ownBy, u)
	}
}

// Hold implements storage.Holds.
func (h *holds) Hold(it *storage.Held) (storage.HeldKey, error) {
	h.mu.Lock()
	if err := h.admit(it.SystemID); err != nil {
		h.mu.Unlock()
		return 0, err
	}
	key, err := h.s.idx.Holds().Hold(it)
	if err != nil {
		h.mu.Unlock()
		return 0, err
	}
	h.next++
	g := h.next
	h.toG[key], h.toL[g] = g, key
	h.adopt(key, it.SystemID)
	if it.LeaseUntil > 0 {
		h.mine[key] = struct{}{}
	}
	h.mu.Unlock()
	b := h.s.buf()
	*b = appendHeld(*b, g, it)
	if err := h.s.log(kHold, b, it.Kind == storage.HeldReceipt); err != nil {
		h.drop(key)
		return 0, err
	}
	return key, nil
}

// drop acknowledges key in the index and drops its mapping under one hold
// of mu: the index reuses a freed key at once, and a Hold or an applied
// hold taking it between the two would lose its own mapping (a lease then
// claims cluster key 0, which every node wins). The mapping goes even when
// the index did not know key (its error is returned): a stale one would
// map the key's next item to this one's cluster key.
func (h *holds) drop(key storage.HeldKey) (g uint64, err error) {
	h.mu.Lock()
	err = h.s.idx.Holds().Ack(key)
	g = h.unmap(key)
	h.mu.Unlock()
	h.s.claims.forget(key)
	return g, err
}

// unmap drops key's mapping and returns its cluster key. Caller holds mu.
func (h *holds) unmap(key storage.HeldKey) uint64 {
	g := h.toG[key]
	delete(h.toG, key)
	delete(h.toL, g)
	delete(h.mine, key)
	delete(h.remote, key)
	delete(h.lapse, key)
	delete(h.lapsed, key)
	delete(h.tried, key)
	h.disown(key)
	return g
}

func (h *holds) global(key storage.HeldKey) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.toG[key]
}

// Lease implements storage.Holds: an item leased here is this node's to
// deliver only once its claim is won (claims.go), so no two nodes deliver
// it at once; the others are left out of dst, and more are leased in
// their place, so that fewer than len(dst) still means none are left.
func (h *holds) Lease(systemID string, until int64, dst []storage.Held) (int, error) {
	var n int
	var err error
	for n < len(dst) {
		var k int
		// The lease and its items' cluster keys under one hold of mu: an
		// ack applied in between would free a key the index may give the
		// next item at once (drop).
		h.mu.Lock()
		k, err = h.s.idx.Holds().Lease(systemID, until, dst[n:])
		gs := make([]uint64, k)
		for i := range gs {
			gs[i] = h.toG[dst[n+i].Key]
		}
		h.mu.Unlock()
		won := h.s.claims.take(dst[n:], gs, k)
		n += won
		if err != nil || won == k || k < len(dst)-(n-won) {
			break // all won, or the queue ran out
		}
	}
	if n > 0 {
		h.retake(dst[:n])
		h.mark(dst[:n])
	}
	return n, err
}

// mark journals, for each claimed item in its, that this node delivers it
// (kTried), and waits up to claimWait for the journal to acknowledge it,
// so the marker is on a majority before the delivery goes out: a node
// that leases the item after this node's claim expired (this node killed
// mid-delivery, and no other node tried it meanwhile) sees it and counts
// a possible duplicate (retake). Not acknowledged in time (a stalled
// journal: an election, a partition), the items are delivered anyway and
// counted here (event=held_tried_unwritten): should this node die before
// the marker is written, the next node's delivery counts nothing.
func (h *holds) mark(its []storage.Held) {
	if !markDelivery || h.s.claims.kv == nil {
		return
	}
	var last uint64
	var err error
	for i := range its {
		g := h.global(its[i].Key)
		if g == 0 {
			continue // unkeyed: no claim, counted in held_claims_unkeyed
		}
		b := h.s.buf()
		*b = appendU64(*b, g)
		var pos uint64
		if pos, err = h.s.logAt(kTried, b, true); err != nil {
			break
		}
		last = pos
	}
	if err == nil && (last == 0 || h.s.j.waitFor(last, claimWait)) {
		return
	}
	if err == nil {
		err = errors.New("not acknowledged within " + claimWait.String())
	}
	ids := make(idList, len(its))
	for i := range its {
		ids[i] = its[i].ID
	}
	h.unmarked.Add(uint64(len(its)))
	h.s.lg.Warn().Err(err).Str("event", "held_tried_unwritten").Array("ids", ids).
		Msg("store: delivering held items before the journal took their delivery marker; should this node die first, another node's delivery of them is not counted")
}

// retake marks the leased items as this node's, and counts (and logs)
// those their earlier deliverer went silent on: its producer's lease
// lapsed here (the index let them be leased, so a producer lease noted
// in lapse has ended), another node's claim lapsed (claims.retaken), or
// another node (or this node's earlier run) marked it tried and neither
// acked nor released it (tried: its claim may have expired unseen), or
// this node's journal consumer is more than lagLimit behind (an ack or a
// marker of the item may be among what it has not applied).
func (h *holds) retake(its []storage.Held) {
	var ids []msg.ID
	lagging := h.s.apply.behind(time.Now())
	h.mu.Lock()
	for i := range its {
		key := its[i].Key
		h.mine[key] = struct{}{}
		_, wasLeased := h.lapse[key]
		_, lapsed := h.lapsed[key]
		_, tried := h.tried[key]
		delete(h.lapse, key)
		delete(h.lapsed, key)
		delete(h.tried, key)
		if h.s.claims.retaken(key) || wasLeased || lapsed || tried || lagging {
			ids = append(ids, its[i].ID)
		}
	}
	h.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	h.retaken.Add(uint64(len(ids)))
	h.s.lg.Warn().Str("event", "held_retaken").Int("items", len(ids)).Array("ids", idList(ids)).Bool("journal_lagging", lagging).
		Msg("store: delivering held items whose earlier deliverer went silent past its lease; it may have sent them")
}

// idList logs message ids as the ESMEs see them.
type idList []msg.ID

func (l idList) MarshalZerologArray(a *zerolog.Array) {
	for _, id := range l {
		a.Str(id.String())
	}
}

// Release implements storage.Holds.
func (h *holds) Release(key storage.HeldKey, attempts int) error {
	if err := h.s.idx.Holds().Release(key, attempts); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.mine, key)
	h.mu.Unlock()
	h.s.claims.release(key)
	b := h.s.buf()
	*b = appendU64(*b, h.global(key))
	*b = appendU32(*b, uint32(attempts))
	return h.s.log(kRelease, b, true)
}

// Ack implements storage.Holds. The item's claim lives on until the ack
// is written (claims.acked).
func (h *holds) Ack(key storage.HeldKey) error {
	cl, claimed := h.s.claims.detach(key)
	g, err := h.drop(key)
	if err != nil {
		return err
	}
	pos, err := h.logAck(g)
	switch {
	case err != nil && claimed:
		h.s.claims.ackUnwritten(cl, err)
	case claimed:
		h.s.claims.acked(cl, pos)
	}
	return err
}

func (h *holds) logAck(g uint64) (uint64, error) {
	b := h.s.buf()
	*b = appendU64(*b, g)
	return h.s.logAt(kAck, b, true)
}

// Expire implements storage.Holds: every node expires by the same
// Expires; the acks it journals make the others drop what they did not
// expire yet.
func (h *holds) Expire(now int64, fn func(it *storage.Held)) (int, error) {
	// The mappings go under the same hold of mu as the index's items (see
	// drop); the acks and fn after it.
	type gone struct {
		g  uint64
		it storage.Held
	}
	var out []gone
	h.mu.Lock()
	n, err := h.s.idx.Holds().Expire(now, func(it *storage.Held) {
		e := gone{g: h.unmap(it.Key), it: *it}
		e.it.Body = append([]byte(nil), it.Body...)
		out = append(out, e)
	})
	h.mu.Unlock()
	var werr error
	for i := range out {
		h.s.claims.forget(out[i].it.Key)
		if out[i].g != 0 {
			if _, e := h.logAck(out[i].g); e != nil && werr == nil {
				werr = e
			}
		}
		if fn != nil {
			fn(&out[i].it)
		}
	}
	if err == nil {
		err = werr
	}
	h.offerLapsed(now)
	return n, err
}

// offerLapsed tells OnHeld the users of other nodes' items whose producer
// lease ended without a release or an ack (the index's Expire has made
// them leasable again).
func (h *holds) offerLapsed(now int64) {
	if h.s.o.OnHeld == nil {
		return
	}
	var users []string
	h.mu.Lock()
	for key, until := range h.lapse {
		if until < now {
			delete(h.lapse, key)
			h.lapsed[key] = struct{}{}
			if !slices.Contains(users, h.remote[key]) {
				users = append(users, h.remote[key])
			}
		}
	}
	h.mu.Unlock()
	users = h.s.claims.lapsed(now, users)
	for _, u := range users {
		h.s.o.OnHeld(u)
	}
}

// Len implements storage.Holds.
func (h *holds) Len() int { return h.s.idx.Holds().Len() }

// Users implements storage.Holds.
func (h *holds) Users() int { return h.s.idx.Holds().Users() }

// ledger is the store's storage.Ledger: the index's balances, from every
// node's entries.
type ledger struct{ s *Store }

// Append implements storage.Ledger.
func (l *ledger) Append(e *storage.LedgerEntry) error {
	if err := l.s.idx.Ledger().Append(e); err != nil {
		return err
	}
	b := l.s.buf()
	*b = appendStr(*b, e.SystemID)
	*b = append(*b, byte(e.Kind))
	*b = appendU64(*b, uint64(e.Amount))
	*b = appendU64(*b, uint64(e.ID))
	return l.s.log(kLedger, b, e.Kind != storage.LedgerCharge)
}

// Balances implements storage.Ledger.
func (l *ledger) Balances(fn func(systemID string, balance int64, set bool)) error {
	return l.s.idx.Ledger().Balances(fn)
}

// deadView is the store's storage.DeadLetters.
type deadView struct{ s *Store }

// Add implements storage.DeadLetters.
func (d *deadView) Add(dl *storage.DeadLetter) error {
	c := *dl
	if c.At == 0 {
		c.At = d.s.now()
	}
	if err := d.s.idx.DeadLetters().Add(&c); err != nil {
		return err
	}
	b := d.s.buf()
	*b = appendDead(*b, &c)
	return d.s.log(kDead, b, true)
}

// List implements storage.DeadLetters.
func (d *deadView) List(max int, fn func(dl *storage.DeadLetter)) error {
	return d.s.idx.DeadLetters().List(max, fn)
}

// Len implements storage.DeadLetters.
func (d *deadView) Len() int { return d.s.idx.DeadLetters().Len() }

// callbacks is the store's storage.Callbacks.
type callbacks struct{ s *Store }

// PutCallback implements storage.Callbacks.
func (c *callbacks) PutCallback(cb *storage.Callback) error {
	if err := c.s.idx.Callbacks().PutCallback(cb); err != nil {
		return err
	}
	b := c.s.buf()
	*b = appendCallback(*b, cb)
	return c.s.log(kCallback, b, false)
}

// Callback implements storage.Callbacks.
func (c *callbacks) Callback(id msg.ID, out *storage.Callback) error {
	return c.s.idx.Callbacks().Callback(id, out)
}

// DeleteCallback implements storage.Callbacks.
func (c *callbacks) DeleteCallback(id msg.ID) error {
	if err := c.s.idx.Callbacks().DeleteCallback(id); err != nil {
		return err
	}
	b := c.s.buf()
	*b = appendU64(*b, uint64(id))
	return c.s.log(kCallbackDel, b, true)
}
