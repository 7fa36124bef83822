package memory

import (
	"errors"
	"math"
	"sort"
	"sync"

	"github.com/smppd/smppd/storage"
)

// ErrNilHeld is returned by Hold for a nil item.
var ErrNilHeld = errors.New("memory: nil held item")

// maxHeldBody is the largest body buffer a freed entry keeps for the next
// Hold (a long reassembled MO's goes to the GC).
const maxHeldBody = 8 << 10

// Holds is the in-memory storage.Holds: the items in a slab of entries
// (a key names a slot and its generation) and, per system_id, the slots of
// the items not leased in arrival order, all under one mutex and bounded in
// total. Get it from Store.Holds (a zero Holds also works, with
// DefaultMaxHeld). Not on the per-message path: Hold allocates when the
// slab or a user's queue grows (a freed entry keeps its body buffer), and
// Lease into a reused dst does not allocate.
type Holds struct {
	mu      sync.Mutex
	ents    []heldEntry
	free    []int32
	users   map[string]*heldQueue
	spare   []*heldQueue // emptied queues, kept for the next user with items
	n       int          // items held, leased included
	leased  int          // items leased now
	seq     uint64       // arrival order of the next Hold
	max     int
	share   storage.HeldLimit // a user's share of max; nil: none
	refused uint64
	// shareRefused counts the refusals (in refused too) of a user at its
	// share.
	shareRefused uint64
}

// heldEntry is one item (h, its Body owned here) or a free slot.
type heldEntry struct {
	h      storage.Held
	seq    uint64 // arrival order: a released item goes back to its place
	until  int64  // lease end (Unix ns) while leased
	gen    uint32 // bumped when the slot is freed: old keys no longer match
	used   bool
	leased bool
}

// heldQueue is one user's items: slots[head:] are the unleased ones by
// arrival; n counts the leased ones too (the queue lives while n > 0).
type heldQueue struct {
	slots []int32
	head  int
	n     int
	// minExp is a lower bound of the Expires of the queued slots: Expire
	// skips the queue while now <= minExp. Lease leaves it low (safe).
	minExp int64
}

// NewHolds returns an empty Holds of at most max items (0: DefaultMaxHeld)
// with each user's share given by share (nil: none): the held items of
// New's Store, for a store that keeps its items in memory and its log
// elsewhere (storage/disk).
func NewHolds(max int, share storage.HeldLimit) *Holds {
	hs := &Holds{}
	hs.init(max)
	hs.share = share
	return hs
}

// Restore is Hold without the limits: a durable store putting back at
// start the items it had, which were within the limits when they came (a
// smaller limit since then refuses new items until there is room).
func (hs *Holds) Restore(h *storage.Held) storage.HeldKey {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.users == nil {
		hs.init(hs.max)
	}
	c := *h
	c.LeaseUntil = 0 // no lease survives a restart
	return hs.add(&c)
}

func (hs *Holds) init(max int) {
	if max <= 0 {
		max = DefaultMaxHeld
	}
	hs.users = make(map[string]*heldQueue)
	hs.max = max
}

// keyOf and slotOf name and find an entry: the slot in the low half (plus
// one, so a key is never 0), the generation in the high half.
func keyOf(slot int32, gen uint32) storage.HeldKey {
	return storage.HeldKey(uint64(gen)<<32 | uint64(slot+1))
}

// entry returns key's entry when it is still held; nil otherwise. Caller
// holds mu.
func (hs *Holds) entry(key storage.HeldKey) (int32, *heldEntry) {
	slot := int64(uint32(key)) - 1
	if slot < 0 || slot >= int64(len(hs.ents)) {
		return 0, nil
	}
	e := &hs.ents[slot]
	if !e.used || e.gen != uint32(key>>32) {
		return 0, nil
	}
	return int32(slot), e
}

// Hold stores a copy of h at the end of h.SystemID's queue and returns its
// key: storage.ErrHeldFull when the store already holds its limit,
// ErrNilHeld for nil.
func (hs *Holds) Hold(h *storage.Held) (storage.HeldKey, error) {
	if h == nil {
		return 0, ErrNilHeld
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.users == nil {
		hs.init(hs.max)
	}
	if hs.n >= hs.max {
		hs.refused++
		return 0, storage.ErrHeldFull
	}
	if q := hs.users[h.SystemID]; q != nil && hs.share != nil {
		if lim := hs.share(h.SystemID); lim > 0 && q.n >= lim {
			hs.refused++
			hs.shareRefused++
			return 0, storage.ErrHeldFull
		}
	}
	return hs.add(h), nil
}

// add stores a copy of h at the end of its user's queue and returns its
// key. Caller holds mu.
func (hs *Holds) add(h *storage.Held) storage.HeldKey {
	if len(hs.free) == 0 {
		hs.ents = append(hs.ents, heldEntry{})
		hs.free = append(hs.free, int32(len(hs.ents)-1))
	}
	slot := hs.free[len(hs.free)-1]
	hs.free = hs.free[:len(hs.free)-1]
	e := &hs.ents[slot]
	body := append(e.h.Body[:0], h.Body...)
	e.h = *h
	e.h.Body = body
	e.h.Key = keyOf(slot, e.gen)
	e.h.LeaseUntil = 0
	e.seq, e.used, e.leased = hs.seq, true, false
	hs.seq++
	q := hs.users[h.SystemID]
	if q == nil {
		q = hs.newQueue(h.Expires)
		hs.users[h.SystemID] = q
	}
	q.n++
	hs.n++
	if h.LeaseUntil > 0 { // leased from the start: never in the queue
		e.leased, e.until = true, h.LeaseUntil
		hs.leased++
		return e.h.Key
	}
	if q.head > 0 && len(q.slots) == cap(q.slots) {
		// Reuse the front the leases freed before growing.
		q.slots, q.head = q.slots[:copy(q.slots, q.slots[q.head:])], 0
	}
	q.slots = append(q.slots, slot)
	q.minExp = min(q.minExp, h.Expires)
	return e.h.Key
}

// HeldByUser implements storage.HeldCounts.
func (hs *Holds) HeldByUser(fn func(systemID string, n int)) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for user, q := range hs.users {
		if q.n > 0 {
			fn(user, q.n)
		}
	}
}

// newQueue returns an empty queue, an emptied one when there is one (the
// spare queues are at most the peak number of users with items).
func (hs *Holds) newQueue(minExp int64) *heldQueue {
	if n := len(hs.spare); n > 0 {
		q := hs.spare[n-1]
		hs.spare[n-1] = nil
		hs.spare = hs.spare[:n-1]
		q.minExp = minExp
		return q
	}
	return &heldQueue{minExp: minExp}
}

// Lease copies up to len(dst) of systemID's oldest unleased items into
// dst[0:k], in arrival order, leases them until until and returns k. It
// never fails.
func (hs *Holds) Lease(systemID string, until int64, dst []storage.Held) (int, error) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	q := hs.users[systemID]
	if q == nil {
		return 0, nil
	}
	k := 0
	for ; k < len(dst) && q.head < len(q.slots); k++ {
		e := &hs.ents[q.slots[q.head]]
		q.head++
		e.leased, e.until = true, until
		body := append(dst[k].Body[:0], e.h.Body...)
		dst[k] = e.h
		dst[k].Body = body
	}
	hs.leased += k
	if q.head == len(q.slots) {
		q.slots, q.head = q.slots[:0], 0
	}
	return k, nil
}

// Release implements storage.Holds; storage.ErrNotFound for a key not
// held.
func (hs *Holds) Release(key storage.HeldKey, attempts int) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	slot, e := hs.entry(key)
	if e == nil {
		return storage.ErrNotFound
	}
	e.h.Attempts = attempts
	if e.leased {
		e.leased = false
		hs.leased--
		hs.requeue(slot)
	}
	return nil
}

// requeue puts an unleased slot back into its user's queue by arrival.
// Caller holds mu.
func (hs *Holds) requeue(slot int32) {
	e := &hs.ents[slot]
	q := hs.users[e.h.SystemID]
	q.minExp = min(q.minExp, e.h.Expires)
	live := q.slots[q.head:]
	i := sort.Search(len(live), func(i int) bool { return hs.ents[live[i]].seq > e.seq })
	if i == 0 && q.head > 0 {
		q.head--
		q.slots[q.head] = slot
		return
	}
	q.slots = append(q.slots, 0)
	at := q.head + i
	copy(q.slots[at+1:], q.slots[at:])
	q.slots[at] = slot
}

// Ack implements storage.Holds; storage.ErrNotFound for a key not held.
func (hs *Holds) Ack(key storage.HeldKey) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	slot, e := hs.entry(key)
	if e == nil {
		return storage.ErrNotFound
	}
	q := hs.users[e.h.SystemID]
	if e.leased {
		hs.leased--
	} else {
		live := q.slots[q.head:]
		i := sort.Search(len(live), func(i int) bool { return hs.ents[live[i]].seq >= e.seq })
		q.slots = append(q.slots[:q.head+i], q.slots[q.head+i+1:]...)
	}
	hs.drop(q, slot)
	return nil
}

// drop frees an entry that is no longer in its queue's slots. Caller
// holds mu.
func (hs *Holds) drop(q *heldQueue, slot int32) {
	e := &hs.ents[slot]
	q.n--
	if q.n == 0 {
		delete(hs.users, e.h.SystemID)
		q.slots, q.head = q.slots[:0], 0
		hs.spare = append(hs.spare, q)
	}
	hs.n--
	body := e.h.Body[:0]
	if cap(body) > maxHeldBody {
		body = nil
	}
	*e = heldEntry{h: storage.Held{Body: body}, gen: e.gen + 1}
	hs.free = append(hs.free, slot)
}

// Expire implements storage.Holds: leases that ran out before now end
// first, then every unleased item whose Expires is before now is removed,
// keeping the others in order. fn (may be nil) runs after the lock is
// released, so it may call the store. It allocates the removed items'
// copies only when there are some; it never fails.
func (hs *Holds) Expire(now int64, fn func(*storage.Held)) (int, error) {
	var out []storage.Held
	hs.mu.Lock()
	if hs.leased > 0 {
		for i := range hs.ents {
			if e := &hs.ents[i]; e.leased && e.until < now {
				e.leased = false
				hs.leased--
				hs.requeue(int32(i))
			}
		}
	}
	for _, q := range hs.users {
		if q.minExp >= now {
			continue
		}
		kept, minExp := q.slots[:0], int64(math.MaxInt64)
		for _, slot := range q.slots[q.head:] {
			e := &hs.ents[slot]
			if e.h.Expires < now {
				out = append(out, e.h)
				e.h.Body = nil // the copy in out has it now
				hs.drop(q, slot)
				continue
			}
			minExp = min(minExp, e.h.Expires)
			kept = append(kept, slot)
		}
		q.slots, q.head, q.minExp = kept, 0, minExp
	}
	hs.mu.Unlock()
	if fn != nil {
		for i := range out {
			fn(&out[i])
		}
	}
	return len(out), nil
}

// Len is the number of items held, leased ones included.
func (hs *Holds) Len() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.n
}

// Users is the number of users with at least one item held.
func (hs *Holds) Users() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return len(hs.users)
}

// Stats returns the held items' part of storage.Stats (Held, HeldUsers,
// HeldRefused, HeldShareRefused).
func (hs *Holds) Stats() storage.Stats {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return storage.Stats{Held: hs.n, HeldUsers: len(hs.users), HeldRefused: hs.refused, HeldShareRefused: hs.shareRefused}
}
