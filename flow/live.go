package flow

import (
	"sync"

	"github.com/smppd/smppd/msg"
)

// liveIndex finds a message still queued in this process by its id, so
// cancel_sm and replace_sm can act on it before its connector takes it.
// The hub owns it, not the store: records are values a durable store can
// write, a *msg.Message is a pooled object of this process. The event loop
// that queues a single-destination message adds it before handing it to
// the connector; Accepted or Failed removes it before the connector lets
// it go (a connector reports every message it took exactly once), so an
// entry never names a released message. Sharded by id under short
// mutexes; add and remove allocate only when a shard grows.
type liveIndex struct {
	shards [liveShards]liveShard
}

const (
	liveShardBits = 6
	liveShards    = 1 << liveShardBits
	// liveMinSlots is a shard's table size when it is first used and the
	// size shrink never goes below.
	liveMinSlots = 64
)

// liveShard is an open-addressing table (linear probing, backward-shift
// deletion, so no tombstones) at most half full.
type liveShard struct {
	mu    sync.Mutex
	slots []liveSlot
	n     int
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

// liveSlot is one entry; m == nil marks it empty.
type liveSlot struct {
	id msg.ID
	m  *msg.Message
}

// liveHash spreads an id (node bits low, time bits high) over the shards
// and each shard's table: Fibonacci hashing.
func liveHash(id msg.ID) uint64 { return uint64(id) * 0x9e3779b97f4a7c15 }

func (x *liveIndex) shard(h uint64) *liveShard { return &x.shards[h>>(64-liveShardBits)] }

// add indexes m under id.
func (x *liveIndex) add(id msg.ID, m *msg.Message) {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	if 2*(sh.n+1) > len(sh.slots) {
		sh.resize(max(2*len(sh.slots), liveMinSlots))
	}
	sh.insert(h, id, m)
	sh.n++
	sh.mu.Unlock()
}

// remove drops id's entry, if any.
func (x *liveIndex) remove(id msg.ID) {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	if i := sh.find(h, id); i >= 0 {
		sh.delete(i)
		sh.n--
	}
	sh.mu.Unlock()
}

// cancel moves id's queued message to Cancelled under the shard's lock
// (so it cannot be released meanwhile); false when there is none or its
// connector claimed it first.
func (x *liveIndex) cancel(id msg.ID) bool {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	ok := false
	if i := sh.find(h, id); i >= 0 {
		ok = sh.slots[i].m.Cancel()
	}
	sh.mu.Unlock()
	return ok
}

// beginEdit moves id's queued message to Editing and returns it (its
// connector cannot claim it until EndEdit); found is false when id has no
// queued message, m nil when its connector claimed it first.
func (x *liveIndex) beginEdit(id msg.ID) (m *msg.Message, found bool) {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	if i := sh.find(h, id); i >= 0 {
		found = true
		if l := sh.slots[i].m; l.BeginEdit() {
			m = l
		}
	}
	sh.mu.Unlock()
	return m, found
}

// len is the number of messages indexed.
func (x *liveIndex) len() int {
	n := 0
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

// shrink gives back the tables of shards that a burst grew and that are
// now mostly empty (the background goroutine calls it with the sweeps).
func (x *liveIndex) shrink() {
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		if len(sh.slots) > liveMinSlots && 8*sh.n < len(sh.slots) {
			sh.resize(max(len(sh.slots)/4, liveMinSlots))
		}
		sh.mu.Unlock()
	}
}

// liveHome is h's first probe position in a table of size slots (a power of
// two); the bits below the shard's.
func liveHome(h uint64, size int) int { return int(h>>(64-liveShardBits-32)) & (size - 1) }

// find returns id's position, or -1. Caller holds mu.
func (sh *liveShard) find(h uint64, id msg.ID) int {
	if sh.n == 0 {
		return -1
	}
	mask := len(sh.slots) - 1
	for i := liveHome(h, len(sh.slots)); ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if s.m == nil {
			return -1
		}
		if s.id == id {
			return i
		}
	}
}

// insert puts (id, m) in the first empty slot of h's probe sequence.
// Caller holds mu; the table has room.
func (sh *liveShard) insert(h uint64, id msg.ID, m *msg.Message) {
	mask := len(sh.slots) - 1
	i := liveHome(h, len(sh.slots))
	for sh.slots[i].m != nil {
		i = (i + 1) & mask
	}
	sh.slots[i] = liveSlot{id: id, m: m}
}

// delete empties slot i and moves later entries of its probe run back
// into the gap (Knuth, TAOCP vol. 3, §6.4, Algorithm R). Caller holds mu.
func (sh *liveShard) delete(i int) {
	mask := len(sh.slots) - 1
	for j := (i + 1) & mask; sh.slots[j].m != nil; j = (j + 1) & mask {
		k := liveHome(liveHash(sh.slots[j].id), len(sh.slots))
		// The entry at j may fill the gap at i unless its home lies
		// cyclically in (i, j].
		if (i <= j && i < k && k <= j) || (i > j && (k > i || k <= j)) {
			continue
		}
		sh.slots[i] = sh.slots[j]
		i = j
	}
	sh.slots[i] = liveSlot{}
}

// resize moves the entries into a table of size slots. Caller holds mu.
func (sh *liveShard) resize(size int) {
	old := sh.slots
	sh.slots = make([]liveSlot, size)
	for _, s := range old {
		if s.m != nil {
			sh.insert(liveHash(s.id), s.id, s.m)
		}
	}
}
