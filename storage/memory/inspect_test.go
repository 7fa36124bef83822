package memory

import (
	"testing"

	"github.com/smppd/smppd/storage"
)

// TestDeadLetterRemoveKeepsOrder: removing a letter from a ring that
// wrapped keeps the others newest first, and the ring fills again.
func TestDeadLetterRemoveKeepsOrder(t *testing.T) {
	var d deadLetters
	d.init(3, func() int64 { return 1 })
	for at := int64(1); at <= 5; at++ { // wraps: 3, 4, 5 kept
		_ = d.Add(&storage.DeadLetter{At: at})
	}
	if n, _ := d.Remove(4); n != 1 {
		t.Fatalf("removed %d", n)
	}
	_ = d.Add(&storage.DeadLetter{At: 6})
	_ = d.Add(&storage.DeadLetter{At: 7}) // full again: 3 goes
	var ats []int64
	_ = d.List(0, func(l *storage.DeadLetter) { ats = append(ats, l.At) })
	if len(ats) != 3 || ats[0] != 7 || ats[1] != 6 || ats[2] != 5 {
		t.Fatalf("letters %v, want [7 6 5]", ats)
	}
}

// TestHoldsWalk: every item, with its lease, and Walk stops when asked.
func TestHoldsWalk(t *testing.T) {
	hs := NewHolds(10, nil)
	for _, u := range []string{"a", "b", "c"} {
		if _, err := hs.Hold(&storage.Held{SystemID: u, Kind: storage.HeldMO, Expires: 1 << 62}); err != nil {
			t.Fatal(err)
		}
	}
	var dst [1]storage.Held
	_, _ = hs.Lease("b", 1<<62, dst[:])
	leased := map[string]bool{}
	_ = hs.Walk(func(h *storage.Held, l bool) bool { leased[h.SystemID] = l; return true })
	if len(leased) != 3 || !leased["b"] || leased["a"] || leased["c"] {
		t.Fatalf("walk %v", leased)
	}
	n := 0
	_ = hs.Walk(func(*storage.Held, bool) bool { n++; return false })
	if n != 1 {
		t.Fatalf("walk went on after false: %d calls", n)
	}
}
