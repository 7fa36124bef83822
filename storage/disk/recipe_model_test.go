package disk

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestHeldRecipeRandom: random runs of held items logged with their Body
// (kHold: before Options.Rebuild, or an MO) and with their recipe
// (kHoldRecipe), leased, released with more attempts, acknowledged,
// through restarts and compactions that copy them forward: after each
// restart the store holds exactly the items not acknowledged, each with
// its user, attempts and the Body it was held with, and no entry is
// counted damaged. The first phase of each run writes as a store without
// Rebuild did (old logs).
func TestHeldRecipeRandom(t *testing.T) {
	rebuild := func(dst, r []byte) ([]byte, error) { return append(append(dst, "rcp:"...), r...), nil }
	type want struct {
		user     string
		body     string
		attempts int
	}
	for run := range 4 {
		rng := rand.New(rand.NewPCG(uint64(run), 7))
		dir := t.TempDir()
		open := func(rb func(dst, r []byte) ([]byte, error)) *Store {
			t.Helper()
			s, err := Open(Options{Dir: dir, Sync: wal.SyncNever, SegmentSize: 16 << 10, CompactEvery: -1, Rebuild: rb})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		exp := time.Now().Add(time.Hour).UnixNano()
		model := map[msg.ID]want{}
		users := []string{"a", "b", "c"}
		next := msg.ID(1)
		compacted, restarts := 0, 0
		s := open(nil)
		check := func(when string) {
			t.Helper()
			got := map[msg.ID]want{}
			err := s.Holds().(storage.HeldWalker).Walk(func(h *storage.Held, _ bool) bool {
				got[h.ID] = want{h.SystemID, string(h.Body), h.Attempts}
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(model) {
				t.Fatalf("run %d %s: held\n%v\nwant\n%v", run, when, got, model)
			}
			if c := s.Stats().ReplayCorrupt; c != 0 {
				t.Fatalf("run %d %s: %d entries counted damaged", run, when, c)
			}
		}
		for step := range 300 {
			switch op := rng.IntN(20); {
			case op < 8: // hold, with a recipe or without
				user := users[rng.IntN(len(users))]
				h := storage.Held{SystemID: user, Kind: storage.HeldReceipt, ID: next, Expires: exp,
					Attempts: rng.IntN(3)}
				recipe := fmt.Sprintf("%d-%x", next, rng.Uint64())
				var err error
				if rng.IntN(3) == 0 {
					h.Body = []byte(fmt.Sprintf("body %d %x", next, rng.Uint64()))
					_, err = s.Holds().Hold(&h)
				} else {
					// What delivery hands: the Body and the recipe that builds it.
					h.Body, _ = rebuild(nil, []byte(recipe))
					_, err = s.Holds().(storage.RecipeHolds).HoldRecipe(&h, []byte(recipe))
				}
				if err != nil {
					t.Fatal(err)
				}
				model[next] = want{user, string(h.Body), h.Attempts}
				next++
			case op < 14: // lease one, then acknowledge, release or keep it leased
				var dst [1]storage.Held
				n, err := s.Holds().Lease(users[rng.IntN(len(users))], exp, dst[:])
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					continue
				}
				h := dst[0]
				switch rng.IntN(3) {
				case 0:
					if err := s.Holds().Ack(h.Key); err != nil {
						t.Fatal(err)
					}
					delete(model, h.ID)
				case 1:
					if err := s.Holds().Release(h.Key, h.Attempts+1); err != nil {
						t.Fatal(err)
					}
					w := model[h.ID]
					w.attempts++
					model[h.ID] = w
				}
			case op < 17: // churn past a segment, then compact
				big := make([]byte, 2000)
				for range 10 {
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
				n, err := s.Compact(rng.IntN(2) == 0)
				if err != nil {
					t.Fatal(err)
				}
				compacted += n
			default: // restart; from the second phase on, with Rebuild
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s = open(rebuild)
				restarts++
				check(fmt.Sprintf("after the restart at step %d", step))
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(rebuild)
		check("at the end")
		s.Close()
		if compacted == 0 || restarts == 0 {
			t.Fatalf("run %d: %d segments compacted, %d restarts: the run tried neither", run, compacted, restarts)
		}
	}
}
