package disk

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
