package disk

import (
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestHeldRecipe: with Options.Rebuild a held item's recipe is logged
// instead of its Body, and the item comes back at a restart, and after
// compaction copied it, with the Body Rebuild builds from the recipe. An
// item from a log written without Rebuild comes back with its Body as
// before; a store opened without Rebuild, or whose Rebuild fails, skips
// a recipe's item and counts it.
func TestHeldRecipe(t *testing.T) {
	dir := t.TempDir()
	rebuild := func(dst, r []byte) ([]byte, error) { return append(append(dst, "built from "...), r...), nil }
	open := func(rb func(dst, r []byte) ([]byte, error)) *Store {
		t.Helper()
		s, err := Open(Options{Dir: dir, Sync: wal.SyncAlways, SegmentSize: 64 << 10, CompactEvery: -1, Rebuild: rb})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Hour).UnixNano()
	hold := func(s *Store, user, body, recipe string) {
		t.Helper()
		h := storage.Held{SystemID: user, Kind: storage.HeldReceipt, ID: 1, Body: []byte(body), Expires: exp}
		if _, err := s.Holds().(storage.RecipeHolds).HoldRecipe(&h, []byte(recipe)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store, user, want string) {
		t.Helper()
		var dst [2]storage.Held
		n, err := s.Holds().Lease(user, exp, dst[:])
		if err != nil || n != 1 || string(dst[0].Body) != want {
			t.Fatalf("%s: %d held (%v), body %q: want one, body %q", user, n, err, dst[0].Body, want)
		}
	}

	s := open(nil)
	hold(s, "old", "body old", "recipe old") // no Rebuild: the recipe is ignored
	s.Close()
	s = open(rebuild)
	hold(s, "new", "body new", "recipe new")
	check(s, "new", "body new") // the live item keeps the Body it was given
	s.Close()

	s = open(rebuild)
	check(s, "old", "body old")
	check(s, "new", "built from recipe new")
	// Past the first segment, then every closed segment compacted: both
	// items are copied forward, each in the form it was logged in.
	big := make([]byte, 1000)
	for range 100 {
		h := storage.Held{SystemID: "churn", Kind: storage.HeldMO, Body: big, Expires: exp}
		key, err := s.Holds().Hold(&h)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Holds().Ack(key); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s)
	if n, err := s.Compact(true); err != nil || n == 0 {
		t.Fatalf("compaction removed %d segments: %v", n, err)
	}
	s.Close()

	s = open(rebuild)
	check(s, "old", "body old")
	check(s, "new", "built from recipe new")
	if c := s.Stats().ReplayCorrupt; c != 0 {
		t.Fatalf("%d entries skipped", c)
	}
	s.Close()

	for name, rb := range map[string]func(dst, r []byte) ([]byte, error){
		"without Rebuild":           nil,
		"with a Rebuild that fails": func(dst, _ []byte) ([]byte, error) { return dst, errBadEntry },
	} {
		s = open(rb)
		check(s, "old", "body old")
		if n, c := s.Holds().Len(), s.Stats().ReplayCorrupt; n != 1 || c != 1 {
			t.Fatalf("%s: %d held, %d entries skipped: want the recipe's item skipped and counted", name, n, c)
		}
		s.Close()
	}
}

// TestHeldRecipeKeyKept: a store opened without Rebuild skips a recipe's
// item but still counts its durable key as given, so an item it holds
// next gets a key of its own: opened with Rebuild again, both come back
// (an item under a reused key would replace the recipe's at replay, and
// its acknowledgement would remove both).
func TestHeldRecipeKeyKept(t *testing.T) {
	dir := t.TempDir()
	rebuild := func(dst, r []byte) ([]byte, error) { return append(append(dst, "built from "...), r...), nil }
	open := func(rb func(dst, r []byte) ([]byte, error)) *Store {
		t.Helper()
		s, err := Open(Options{Dir: dir, Sync: wal.SyncAlways, CompactEvery: -1, Rebuild: rb})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Hour).UnixNano()
	s := open(rebuild)
	h := storage.Held{SystemID: "u", Kind: storage.HeldReceipt, ID: 1, Body: []byte("built from r"), Expires: exp}
	if _, err := s.Holds().(storage.RecipeHolds).HoldRecipe(&h, []byte("r")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(nil)
	h = storage.Held{SystemID: "u", Kind: storage.HeldReceipt, ID: 2, Body: []byte("body"), Expires: exp}
	if _, err := s.Holds().Hold(&h); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(rebuild)
	defer s.Close()
	var dst [3]storage.Held
	n, err := s.Holds().Lease("u", exp, dst[:])
	if err != nil || n != 2 || string(dst[0].Body) != "built from r" || string(dst[1].Body) != "body" {
		t.Fatalf("%d held (%v): %+v; want the recipe's item and the next", n, err, dst[:n])
	}
}
