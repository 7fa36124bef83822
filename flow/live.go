package flow

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
)

// liveIndex finds a message still queued in this process by its id, so
// cancel_sm and replace_sm can act on it before its connector takes it.
// The hub owns it, not the store: records are values a durable store can
// write, a *msg.Message is a pooled object of this process. The event loop
// that queues a single-destination message adds it before handing it to
// the connector; Accepted or Failed removes it before the connector lets
// it go (a connector reports every message it took exactly once), so an
// entry never names a released message.
//
// Every message passes through add and remove, while cancel and beginEdit
// are rare, so those two cost one compare-and-swap each: a fixed table of
// cells, each a *msg.Message, indexed by the id's issue counter (ids of one
// generator are consecutive above their node bits, so the messages in
// flight take neighbouring cells, and a cell comes round again only
// liveCells ids later). An id whose cell and the next liveProbe-1 are all
// taken (messages that many ids older still in flight, or ids from
// elsewhere) goes to spill, a sharded locked table.
//
// A reader (cancel, beginEdit) swaps the message it looks at for
// liveBusy, checks its id, acts on its phase and puts it back; remove
// waits while its cell is busy, so the message cannot be released under
// the reader. Cells hold no id: a cell's message is read only while its
// reader holds it busy.
type liveIndex struct {
	cells   [liveCells]atomic.Pointer[msg.Message]
	spilled atomic.Int64 // entries in spill
	spill   liveSpill
}

const (
	// liveCells is the table's size (a power of two): 256 KiB of cells.
	liveCells = 1 << 15
	// liveProbe is how many cells from an id's home it may take: one
	// cache line.
	liveProbe = 8
	// liveNodeBits are the node bits at the bottom of a msg.ID, below its
	// issue counter (live_test.go holds msg.MaxNodeID to it).
	liveNodeBits = 12
)

// liveBusy marks a cell a reader holds; it is never queued.
var liveBusy = new(msg.Message)

func liveHomeCell(id msg.ID) uint64 { return uint64(id) >> liveNodeBits }

// add indexes m under m.ID.
func (x *liveIndex) add(m *msg.Message) {
	h := liveHomeCell(m.ID)
	for p := range uint64(liveProbe) {
		c := &x.cells[(h+p)&(liveCells-1)]
		if c.Load() == nil && c.CompareAndSwap(nil, m) {
			return
		}
	}
	x.spilled.Add(1)
	x.spill.add(m.ID, m)
}

// remove drops m's entry, if any.
func (x *liveIndex) remove(m *msg.Message) {
	h := liveHomeCell(m.ID)
	for p := range uint64(liveProbe) {
		c := &x.cells[(h+p)&(liveCells-1)]
		for {
			v := c.Load()
			if v == m {
				if c.CompareAndSwap(m, nil) {
					return
				}
				continue // a reader took it meanwhile
			}
			if v != liveBusy {
				break
			}
			runtime.Gosched() // a reader holds it for a compare-and-swap
		}
	}
	if x.spilled.Load() > 0 && x.spill.remove(m.ID) {
		x.spilled.Add(-1)
	}
}

// with runs f on id's message while its cell is held busy (or under its
// spill shard's lock), so the message cannot be released meanwhile; false
// when id has no entry.
func (x *liveIndex) with(id msg.ID, f func(m *msg.Message)) bool {
	h := liveHomeCell(id)
	for p := range uint64(liveProbe) {
		c := &x.cells[(h+p)&(liveCells-1)]
		for {
			v := c.Load()
			if v == nil {
				break
			}
			if v == liveBusy {
				runtime.Gosched()
				continue
			}
			if !c.CompareAndSwap(v, liveBusy) {
				continue
			}
			// Held: v is not released until it is put back, and its
			// fields were written before its add.
			found := v.ID == id
			if found {
				f(v)
			}
			c.Store(v)
			if found {
				return true
			}
			break
		}
	}
	return x.spilled.Load() > 0 && x.spill.with(id, f)
}

// cancel moves id's queued message to Cancelled; false when there is none
// or its connector claimed it first.
func (x *liveIndex) cancel(id msg.ID) bool {
	ok := false
	x.with(id, func(m *msg.Message) { ok = m.Cancel() })
	return ok
}

// beginEdit moves id's queued message to Editing and returns it (its
// connector cannot claim it until EndEdit); found is false when id has no
// queued message, m nil when its connector claimed it first.
func (x *liveIndex) beginEdit(id msg.ID) (m *msg.Message, found bool) {
	found = x.with(id, func(l *msg.Message) {
		if l.BeginEdit() {
			m = l
		}
	})
	return m, found
}

// len is the number of messages indexed (tests: it reads every cell).
func (x *liveIndex) len() int {
	n := 0
	for i := range x.cells {
		if x.cells[i].Load() != nil {
			n++
		}
	}
	return n + x.spill.len()
}

// shrink gives back spill tables that a burst grew and that are now mostly
// empty (the background goroutine calls it with the sweeps).
func (x *liveIndex) shrink() { x.spill.shrink() }

// liveSpill is the overflow: sharded by id under short mutexes; add and
// remove allocate only when a shard grows.
type liveSpill struct {
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

func (x *liveSpill) shard(h uint64) *liveShard { return &x.shards[h>>(64-liveShardBits)] }

// add indexes m under id.
func (x *liveSpill) add(id msg.ID, m *msg.Message) {
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

// remove drops id's entry; false when there was none.
func (x *liveSpill) remove(id msg.ID) bool {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	i := sh.find(h, id)
	if i >= 0 {
		sh.delete(i)
		sh.n--
	}
	sh.mu.Unlock()
	return i >= 0
}

// with runs f on id's message under its shard's lock; false when there is
// none.
func (x *liveSpill) with(id msg.ID, f func(m *msg.Message)) bool {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(h, id)
	if i >= 0 {
		f(sh.slots[i].m)
	}
	return i >= 0
}

func (x *liveSpill) len() int {
	n := 0
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

func (x *liveSpill) shrink() {
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
