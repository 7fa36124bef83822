package disk

import (
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
)

// TestDeadLetterRemoveSurvivesReopen: a removed letter stays removed
// after a reopen (its kDeadDel is replayed), the others stay, and the
// held items walk with their lease.
func TestDeadLetterRemoveSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UnixNano() // within the TTL at the reopen
	for _, at := range []int64{t0 + 100, t0 + 200, t0 + 300} {
		if err := s.DeadLetters().Add(&storage.DeadLetter{Kind: storage.HeldMO, Reason: "no route", Body: []byte{1, 2}, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	rm := s.DeadLetters().(storage.DeadLetterRemover)
	if n, err := rm.Remove(t0 + 200); n != 1 || err != nil {
		t.Fatalf("Remove(t0+200) = %d, %v", n, err)
	}
	if n, err := rm.Remove(t0 + 200); n != 0 || err != nil {
		t.Fatalf("Remove(t0+200) again = %d, %v", n, err)
	}
	k1, err := s.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldReceipt, Body: []byte("x"), Expires: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Holds().Hold(&storage.Held{SystemID: "amy", Kind: storage.HeldMO, Body: []byte("y"), Expires: 1 << 62}); err != nil {
		t.Fatal(err)
	}
	var dst [1]storage.Held
	if n, _ := s.Holds().Lease("bob", 1<<62, dst[:]); n != 1 {
		t.Fatal("lease")
	}
	seen := map[string]bool{}
	if err := s.Holds().(storage.HeldWalker).Walk(func(h *storage.Held, leased bool) bool {
		seen[h.SystemID] = leased
		if h.SystemID == "bob" && h.Key != k1 {
			t.Errorf("bob's key %d, want %d", h.Key, k1)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || !seen["bob"] || seen["amy"] {
		t.Fatalf("walk saw %v", seen)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ats []int64
	if err := s.DeadLetters().List(0, func(d *storage.DeadLetter) { ats = append(ats, d.At) }); err != nil {
		t.Fatal(err)
	}
	if len(ats) != 2 || ats[0] != t0+300 || ats[1] != t0+100 {
		t.Fatalf("after reopen: letters at %v, want [t0+300 t0+100]", ats)
	}
	if st := s.Stats(); st.ReplayCorrupt != 0 {
		t.Fatalf("replay found %d corrupt entries", st.ReplayCorrupt)
	}
	if err := s.DeadLetters().Add(&storage.DeadLetter{Kind: storage.HeldMO, Reason: "no route", At: t0 + 400}); err != nil {
		t.Fatal(err)
	}
	if n := s.DeadLetters().Len(); n != 3 {
		t.Fatalf("%d letters after an add, want 3", n)
	}
}
