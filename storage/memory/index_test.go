package memory

import (
	"math/rand/v2"
	"testing"
)

// TestIndexRandom inserts and removes against a map, with tags confined to a
// few home positions so probe chains are long and wrap around the end.
func TestIndexRandom(t *testing.T) {
	for _, homes := range []uint32{1, 3, 8, 64} {
		rng := rand.New(rand.NewPCG(uint64(homes), 7))
		var x index
		const ring = 32 // index of 64 words
		x.reset(ring)
		ref := map[uint32]uint32{} // slot -> tag
		for step := 0; step < 20_000; step++ {
			slot := uint32(rng.IntN(ring))
			if tag, ok := ref[slot]; ok {
				x.remove(tag, slot)
				delete(ref, slot)
			} else {
				// Homes near the top of the table make chains wrap.
				tag := uint32(rng.IntN(1<<16))<<6 | (60+uint32(rng.IntN(int(homes))))&63
				x.insert(tag, slot)
				ref[slot] = tag
			}
			used := 0
			for _, v := range x.w {
				if v != 0 {
					used++
				}
			}
			if used != len(ref) {
				t.Fatalf("homes %d step %d: %d words used, %d entries", homes, step, used, len(ref))
			}
			for s, tag := range ref {
				if !x.has(tag, s) {
					t.Fatalf("homes %d step %d: slot %d (tag %#x) unreachable", homes, step, s, tag)
				}
			}
		}
	}
}

// has probes for (tag, slot) the way the shards' find does.
func (x *index) has(tag, slot uint32) bool {
	for p := tag & x.mask; ; p = (p + 1) & x.mask {
		v := x.w[p]
		if v == 0 {
			return false
		}
		if tagOf(v) == tag && slotOf(v) == slot {
			return true
		}
	}
}

func TestIndexRemoveAbsent(t *testing.T) {
	var x index
	x.reset(4)
	x.insert(5, 1)
	x.remove(5, 2) // absent slot: no change
	x.remove(6, 1) // absent tag
	if !x.has(5, 1) {
		t.Fatal("removing an absent pair damaged the index")
	}
}

func TestIndexSize(t *testing.T) {
	f := func(n, want int) {
		t.Helper()
		if got := indexSize(n); got != want {
			t.Fatalf("indexSize(%d) = %d, want %d", n, got, want)
		}
	}
	f(0, 8)
	f(4, 8)
	f(5, 16)
	f(64, 128)
	f(1562, 4096)
	f(15625, 32768)
}
