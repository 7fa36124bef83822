package disk

// The package is named for its Slab; this file's slab is the records' own.
import slots "github.com/smppd/smppd/internal/slab"

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
	n      int32 // slots handed out: 0..n-1 exist
}

// at returns slot i (0 <= i < len).
func (s *slab) at(i int32) *recSlot { return &s.chunks[i>>slabChunkBits][i&(slabChunk-1)] }

// grow adds a zero slot at the end and returns its number.
func (s *slab) grow() int32 {
	if int(s.n>>slabChunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, new([slabChunk]recSlot))
	}
	s.n++
	return s.n - 1
}

// len is the number of slots handed out, free ones included.
func (s *slab) len() int { return int(s.n) }

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
