// Package slab keeps values in chunks that never move, with freed slots
// reused: a handle stays valid while its slot is held, growing allocates
// one more chunk instead of copying what is there, and a slab that is
// never used allocates nothing. The stores keep a record's optional parts
// (such as its rewritten addresses) here, so a record without them stays
// small.
package slab

const (
	chunkBits = 8
	chunkLen  = 1 << chunkBits
)

// Slab holds values of type T. The zero value is empty and ready; it is
// not safe for concurrent use (its owner's lock guards it).
type Slab[T any] struct {
	chunks []*[chunkLen]T
	n      int32   // slots handed out at least once: 0..n-1 exist
	free   []int32 // freed slot numbers, reused first
}

// At returns the slot of handle h, nil for 0 (no slot).
func (s *Slab[T]) At(h int32) *T {
	if h == 0 {
		return nil
	}
	i := h - 1
	return &s.chunks[i>>chunkBits][i&(chunkLen-1)]
}

// Take returns the handle of a zero slot, a freed one when there is one.
// Handles start at 1, so 0 can mean "none" in the owner's own fields.
func (s *Slab[T]) Take() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i + 1
	}
	if int(s.n>>chunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, new([chunkLen]T))
	}
	s.n++
	return s.n
}

// Free zeroes h's slot and keeps it for the next Take; 0 is ignored.
func (s *Slab[T]) Free(h int32) {
	p := s.At(h)
	if p == nil {
		return
	}
	var zero T
	*p = zero
	s.free = append(s.free, h-1)
}

// Held is the number of slots taken and not freed.
func (s *Slab[T]) Held() int { return int(s.n) - len(s.free) }

// Chunks is the number of chunks allocated: 0 until the first Take.
func (s *Slab[T]) Chunks() int { return len(s.chunks) }
