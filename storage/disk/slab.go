package disk

import (
	"sync"
	"unsafe"

	// The package is named for its Slab; this file's slab is the records' own.
	slots "github.com/smppd/smppd/internal/slab"
)

// slabChunk is the slots one allocation of a shard's slab holds: 512 ×
// 144 B, 72 KiB, a whole number of the runtime's 8 KiB pages.
const (
	slabChunkBits = 9
	slabChunk     = 1 << slabChunkBits
)

// slab is a shard's record slots in chunks that never move: growing it
// allocates one more chunk instead of copying the whole slab under the
// shard's lock (a stall of the event loop that holds it, and, with
// doubling, up to half the slab unused).
type slab struct {
	chunks []*[slabChunk]recSlot
	n      int32      // slots handed out: 0..n-1 exist
	arena  *slabArena // where chunks come from; nil: one allocation each
}

// at returns slot i (0 <= i < len).
func (s *slab) at(i int32) *recSlot { return &s.chunks[i>>slabChunkBits][i&(slabChunk-1)] }

// grow adds a zero slot at the end and returns its number.
func (s *slab) grow() int32 {
	if int(s.n>>slabChunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, s.arena.chunk())
	}
	if s.n&(slabChunk-1) == slabChunk/2 {
		s.arena.prepare()
	}
	s.n++
	return s.n - 1
}

// len is the number of slots handed out, free ones included.
func (s *slab) len() int { return int(s.n) }

// The arena's blocks: the first holds one chunk per shard, so that a
// small store stays small; the later ones are 85 chunks in 6 MiB, three
// 2 MiB pages, mapped outside the Go heap and backed with huge pages
// where the kernel has them (hugeBlock).
const (
	arenaFirst = nShards
	arenaBlock = 3 * hugePage / (slabChunk * recSlotSize)
	hugePage   = 2 << 20
	// recSlotSize is recSlot's size; the array fails to compile when it
	// changes, so that the blocks' arithmetic is looked at again.
	recSlotSize = 144
)

var _ = [1]struct{}{}[unsafe.Sizeof(recSlot{})-recSlotSize]

// slabArena hands the shards' slabs their chunks, carved from large
// blocks. The disk store keeps every record until message_ttl, so its
// slabs grow into fresh memory, and each fresh 4 KiB page costs a page
// fault: 15-20 µs of CPU in this project's KVM guests, about 0.5 µs per
// record (28 slots a page). A 2 MiB page faults once per 14,500 slots,
// but that fault clears 2 MiB and, when the kernel has no free huge page
// at hand, can take tens of milliseconds: the next block is mapped and
// faulted in ahead, off the event loops (prepare).
type slabArena struct {
	mu     sync.Mutex
	block  []recSlot // what is left of the current block
	next   []recSlot // the next block, mapped by prepare
	blocks int
	// mapped are the blocks hugeBlock mapped, unmapped by the cleanup
	// Open registers once the store is unreachable (and so are its slots).
	mapped *[][]byte
}

// chunk returns a zero chunk; a nil arena allocates it alone.
func (a *slabArena) chunk() *[slabChunk]recSlot {
	if a == nil {
		return new([slabChunk]recSlot)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.block) == 0 {
		if a.blocks > 0 && a.mapped != nil {
			if a.next == nil {
				a.next, _ = a.mapBlock()
			}
			a.block, a.next = a.next, nil
		}
		if len(a.block) == 0 {
			// Pointer-free, so the collector never scans it.
			a.block = make([]recSlot, arenaFirst*slabChunk)
		}
		a.blocks++
	}
	c := (*[slabChunk]recSlot)(a.block[:slabChunk])
	a.block = a.block[slabChunk:]
	return c
}

// prepare maps the next block and faults it in on a goroutine of its own
// when what is left of the current one could not serve every shard once:
// the shards fill their chunks at about the same time (ids go round
// them), so the chunks are asked for in bursts of up to nShards. A slab
// calls it half way through each chunk, some 16,000 records before the
// burst on an even load.
func (a *slabArena) prepare() {
	if a == nil || a.mapped == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.blocks == 0 || a.next != nil || len(a.block) >= nShards*slabChunk {
		return
	}
	var m []byte
	if a.next, m = a.mapBlock(); m != nil {
		go populate(m)
	}
}

// mapBlock maps a block (nil, nil when it cannot). Caller holds mu.
func (a *slabArena) mapBlock() ([]recSlot, []byte) {
	b, m := hugeBlock(arenaBlock*slabChunk, 3*hugePage)
	if m != nil {
		*a.mapped = append(*a.mapped, m)
	}
	return b, m
}

// unmapBlocks gives the blocks hugeBlock mapped back to the kernel.
func unmapBlocks(m *[][]byte) {
	for _, b := range *m {
		unmapBlock(b)
	}
	*m = nil
}

// upSlab keeps the rewritten addresses of a shard's records that have
// them (recSlot.up is the slab's handle, 0 for none): a store that never
// sees a rewrite allocates nothing here, and a slot stays small. Caller
// holds the shard's mu.
type upSlab struct{ slots.Slab[upAddrs] }

// of returns r's rewritten addresses, nil when it has none.
func (u *upSlab) of(r *recSlot) *upAddrs { return u.At(r.up) }

// set gives r the rewritten addresses a (none: nil or not rewritten),
// taking a slot for them or freeing r's.
func (u *upSlab) set(r *recSlot, a *upAddrs) {
	if a == nil || !a.rewritten {
		u.release(r)
		return
	}
	if r.up == 0 {
		r.up = u.Take()
	}
	*u.of(r) = *a
}

// release frees r's rewritten addresses, if any.
func (u *upSlab) release(r *recSlot) {
	u.Free(r.up)
	r.up = 0
}
