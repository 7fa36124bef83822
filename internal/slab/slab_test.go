package slab

import "testing"

// Handles start at 1, slots come back zeroed and are reused, and a slot
// does not move when the slab grows past a chunk.
func TestTakeFreeReuse(t *testing.T) {
	var s Slab[[2]int64]
	if s.At(0) != nil || s.Held() != 0 || s.Chunks() != 0 {
		t.Fatal("empty slab: handle 0 must be nil, nothing held or allocated")
	}
	first := s.Take()
	if first != 1 {
		t.Fatalf("first handle %d, want 1", first)
	}
	p := s.At(first)
	p[0] = 42
	var hs []int32
	for range 3 * chunkLen {
		hs = append(hs, s.Take())
	}
	if s.Chunks() != 4 {
		t.Fatalf("%d chunks for %d slots, want 4", s.Chunks(), 1+3*chunkLen)
	}
	if s.At(first) != p || p[0] != 42 {
		t.Fatal("a slot moved or changed when the slab grew")
	}
	if s.Held() != 1+3*chunkLen {
		t.Fatalf("held %d, want %d", s.Held(), 1+3*chunkLen)
	}
	s.Free(first)
	s.Free(0)
	if s.Held() != 3*chunkLen {
		t.Fatalf("held %d after a free, want %d", s.Held(), 3*chunkLen)
	}
	again := s.Take()
	if again != first || s.At(again)[0] != 0 {
		t.Fatalf("Take after Free gave %d (value %d), want the freed slot %d zeroed", again, s.At(again)[0], first)
	}
	seen := map[int32]bool{again: true}
	for _, h := range hs {
		if seen[h] {
			t.Fatalf("handle %d given twice", h)
		}
		seen[h] = true
	}
}

// Taking a freed slot and freeing it again allocates nothing.
func TestReuseDoesNotAllocate(t *testing.T) {
	var s Slab[[6]byte]
	s.Free(s.Take())
	if n := testing.AllocsPerRun(1000, func() { s.Free(s.Take()) }); n != 0 {
		t.Fatalf("%.1f allocations per take and free, want 0", n)
	}
}
