package memory

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/smppd/smppd/storage"
)

func held(user string, exp int64) *storage.Held {
	return &storage.Held{SystemID: user, Kind: storage.HeldMO, Expires: exp}
}

func TestHoldsFIFOAndTake(t *testing.T) {
	hs := New(Options{}).Holds()
	var a, b []*storage.Held
	for i := 0; i < 10; i++ {
		a = append(a, held("a", int64(i)))
		b = append(b, held("b", int64(i)))
		if err := hs.Hold(a[i]); err != nil {
			t.Fatal(err)
		}
		if err := hs.Hold(b[i]); err != nil {
			t.Fatal(err)
		}
	}
	if hs.Len() != 20 || hs.Users() != 2 {
		t.Fatalf("Len %d Users %d", hs.Len(), hs.Users())
	}
	dst := make([]*storage.Held, 4)
	tests := []struct {
		user  string
		dst   []*storage.Held
		want  []*storage.Held
		len   int
		users int
	}{
		{"a", dst, a[0:4], 16, 2},
		{"a", dst[:0], nil, 16, 2},
		{"nobody", dst, nil, 16, 2},
		{"a", dst[:3], a[4:7], 13, 2},
		{"b", dst, b[0:4], 9, 2},
		{"a", dst, a[7:10], 6, 1},
		{"a", dst, nil, 6, 1},
	}
	for i, tc := range tests {
		clear(dst)
		n := hs.Take(tc.user, tc.dst)
		if n != len(tc.want) {
			t.Fatalf("step %d: Take moved %d, want %d", i, n, len(tc.want))
		}
		for j := range tc.want {
			if tc.dst[j] != tc.want[j] {
				t.Fatalf("step %d: item %d out of order", i, j)
			}
		}
		if hs.Len() != tc.len || hs.Users() != tc.users {
			t.Fatalf("step %d: Len %d Users %d, want %d %d", i, hs.Len(), hs.Users(), tc.len, tc.users)
		}
	}
	// Holding after takes reuses the freed front and keeps order.
	extra := held("b", 0)
	if err := hs.Hold(extra); err != nil {
		t.Fatal(err)
	}
	got := make([]*storage.Held, 10)
	if n := hs.Take("b", got); n != 7 || got[5] != b[9] || got[6] != extra {
		t.Fatalf("Take after re-hold: %d", n)
	}
}

func TestHoldsLimit(t *testing.T) {
	s := New(Options{MaxHeld: 3})
	hs := s.Holds()
	for i := 0; i < 3; i++ {
		if err := hs.Hold(held(fmt.Sprint("u", i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := hs.Hold(held("u0", 0)); !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("Hold beyond the limit: %v", err)
	}
	if err := hs.Hold(nil); !errors.Is(err, ErrNilHeld) {
		t.Fatalf("Hold(nil): %v", err)
	}
	dst := make([]*storage.Held, 1)
	hs.Take("u1", dst)
	if err := hs.Hold(held("u0", 0)); err != nil {
		t.Fatalf("Hold after a Take freed room: %v", err)
	}
	if st := s.Stats(); st.Held != 3 || st.HeldUsers != 2 || st.HeldRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHoldsZeroValue(t *testing.T) {
	var hs Holds
	if err := hs.Hold(held("a", 1)); err != nil {
		t.Fatal(err)
	}
	if hs.Len() != 1 || hs.max != DefaultMaxHeld {
		t.Fatalf("zero Holds: Len %d max %d", hs.Len(), hs.max)
	}
}

func TestHoldsExpire(t *testing.T) {
	hs := New(Options{}).Holds()
	// a: 5 10 3 20 ; b: 1 2 ; c: 50
	items := map[string][]int64{"a": {5, 10, 3, 20}, "b": {1, 2}, "c": {50}}
	all := map[*storage.Held]bool{}
	for _, u := range []string{"a", "b", "c"} {
		for _, e := range items[u] {
			h := held(u, e)
			all[h] = true
			if err := hs.Hold(h); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []int64
	n := hs.Expire(10, func(h *storage.Held) {
		if !all[h] {
			t.Fatal("Expire passed an unknown item")
		}
		got = append(got, h.Expires)
		// fn runs without the lock held: re-holding must not deadlock.
		if h.Expires == 1 {
			if err := hs.Hold(held("d", 100)); err != nil {
				t.Error(err)
			}
		}
	})
	if n != 4 || len(got) != 4 {
		t.Fatalf("expired %d (fn saw %d), want 4", n, len(got))
	}
	for _, e := range got {
		if e >= 10 {
			t.Fatalf("item expiring at %d expired at 10", e)
		}
	}
	if hs.Len() != 4 || hs.Users() != 3 { // a: 10 20, c: 50, d: 100
		t.Fatalf("Len %d Users %d", hs.Len(), hs.Users())
	}
	dst := make([]*storage.Held, 4)
	if n := hs.Take("a", dst); n != 2 || dst[0].Expires != 10 || dst[1].Expires != 20 {
		t.Fatalf("survivors of a out of order: %d", n)
	}
	if n := hs.Expire(10, nil); n != 0 {
		t.Fatalf("second Expire at the same time removed %d", n)
	}
	if n := hs.Expire(1000, nil); n != 2 || hs.Len() != 0 || hs.Users() != 0 {
		t.Fatalf("Expire(1000) removed %d, Len %d Users %d", n, hs.Len(), hs.Users())
	}
}

// TestHoldsExpireAfterTake: minExp stays a lower bound after Takes and
// partial expiry, so no expired item is missed.
func TestHoldsExpireAfterTake(t *testing.T) {
	hs := New(Options{}).Holds()
	for _, e := range []int64{1, 100, 50, 7} {
		if err := hs.Hold(held("a", e)); err != nil {
			t.Fatal(err)
		}
	}
	dst := make([]*storage.Held, 1)
	hs.Take("a", dst) // takes 1
	if n := hs.Expire(10, nil); n != 1 {
		t.Fatalf("Expire(10) removed %d, want 1 (the 7)", n)
	}
	if n := hs.Expire(60, nil); n != 1 {
		t.Fatalf("Expire(60) removed %d, want 1 (the 50)", n)
	}
	if hs.Len() != 1 {
		t.Fatalf("Len %d", hs.Len())
	}
}

func TestHoldsConcurrent(t *testing.T) {
	hs := New(Options{MaxHeld: 500}).Holds()
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[*storage.Held]int{}
	record := func(h *storage.Held) {
		mu.Lock()
		seen[h]++
		mu.Unlock()
	}
	var made sync.Map
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			user := fmt.Sprint("u", w%3)
			dst := make([]*storage.Held, 5)
			for i := 0; i < 400; i++ {
				h := held(user, int64(i))
				if hs.Hold(h) == nil {
					made.Store(h, true)
				}
				if i%3 == 0 {
					n := hs.Take(user, dst)
					for _, x := range dst[:n] {
						record(x)
					}
				}
				if i%50 == 0 {
					hs.Expire(int64(i), record)
				}
			}
		}(w)
	}
	wg.Wait()
	hs.Expire(1<<62, record)
	total := 0
	made.Range(func(k, _ any) bool {
		total++
		if seen[k.(*storage.Held)] != 1 {
			t.Fatalf("item handed back %d times", seen[k.(*storage.Held)])
		}
		return true
	})
	if total != len(seen) || hs.Len() != 0 || hs.Users() != 0 {
		t.Fatalf("held %d, handed back %d, left %d", total, len(seen), hs.Len())
	}
}
