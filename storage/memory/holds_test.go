package memory

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/smppd/smppd/storage"
)

// The contract (order, leases, acks, limits, expiry) is storagetest's;
// these cases are about how this store keeps items.

func held(user string, exp int64) *storage.Held {
	return &storage.Held{SystemID: user, Kind: storage.HeldMO, Body: []byte(fmt.Sprint(user, exp)), Expires: exp}
}

func TestHoldsNilAndZeroValue(t *testing.T) {
	var hs Holds
	if _, err := hs.Hold(nil); !errors.Is(err, ErrNilHeld) {
		t.Fatalf("Hold(nil): %v", err)
	}
	if _, err := hs.Hold(held("a", 1)); err != nil {
		t.Fatal(err)
	}
	if hs.Len() != 1 || hs.max != DefaultMaxHeld {
		t.Fatalf("zero Holds: Len %d max %d", hs.Len(), hs.max)
	}
}

// A key names a slot and its generation: once the item is gone its slot
// serves the next Hold under a new key, and the old key finds nothing.
func TestHoldsKeysReuseSlots(t *testing.T) {
	hs := New(Options{}).Holds().(*Holds)
	k1, _ := hs.Hold(held("a", 10))
	if err := hs.Ack(k1); err != nil {
		t.Fatal(err)
	}
	k2, _ := hs.Hold(held("a", 10))
	if k2 == k1 || uint32(k2) != uint32(k1) || len(hs.ents) != 1 {
		t.Fatalf("keys %x then %x over %d slots: want one slot, two generations", k1, k2, len(hs.ents))
	}
	if err := hs.Release(k1, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Release with a stale key: %v", err)
	}
	for _, k := range []storage.HeldKey{0, 1 << 31, storage.HeldKey(^uint64(0))} {
		if err := hs.Ack(k); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Ack(%x): %v", k, err)
		}
	}
}

// A freed entry keeps its body buffer for the next Hold, unless it is
// over maxHeldBody.
func TestHoldsBodyBuffers(t *testing.T) {
	hs := New(Options{}).Holds().(*Holds)
	small := &storage.Held{SystemID: "a", Body: make([]byte, 100)}
	k, _ := hs.Hold(small)
	_ = hs.Ack(k)
	if c := cap(hs.ents[0].h.Body); c < 100 {
		t.Fatalf("a freed entry kept %d octets of buffer", c)
	}
	big := &storage.Held{SystemID: "a", Body: make([]byte, maxHeldBody+1)}
	k, _ = hs.Hold(big)
	_ = hs.Ack(k)
	if c := cap(hs.ents[0].h.Body); c != 0 {
		t.Fatalf("a freed entry kept a %d-octet buffer", c)
	}
}

// minExp stays a lower bound of a queue's items after leases, releases and
// partial expiry, so no expired item is missed.
func TestHoldsExpireBound(t *testing.T) {
	hs := New(Options{}).Holds().(*Holds)
	for _, e := range []int64{1, 100, 50, 7} {
		if _, err := hs.Hold(held("a", e)); err != nil {
			t.Fatal(err)
		}
	}
	dst := make([]storage.Held, 1)
	if n, _ := hs.Lease("a", 1000, dst); n != 1 || dst[0].Expires != 1 {
		t.Fatalf("leased %d: %+v", n, dst[0])
	}
	if n, _ := hs.Expire(10, nil); n != 1 {
		t.Fatalf("Expire(10) removed %d, want 1 (the 7; the 1 is leased)", n)
	}
	if q := hs.users["a"]; q.minExp != 50 {
		t.Fatalf("minExp %d after the expiry, want 50", q.minExp)
	}
	if err := hs.Release(dst[0].Key, 1); err != nil {
		t.Fatal(err)
	}
	if q := hs.users["a"]; q.minExp != 1 {
		t.Fatalf("minExp %d after the release, want 1", q.minExp)
	}
	if n, _ := hs.Expire(60, nil); n != 2 {
		t.Fatalf("Expire(60) removed %d, want 2 (the 1 and the 50)", n)
	}
	if hs.Len() != 1 {
		t.Fatalf("Len %d", hs.Len())
	}
}

// fn runs without the lock held: it may call the store.
func TestHoldsExpireCallbackMayHold(t *testing.T) {
	hs := New(Options{}).Holds()
	for _, e := range []int64{1, 2, 50} {
		if _, err := hs.Hold(held("a", e)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := hs.Expire(10, func(h *storage.Held) {
		if _, err := hs.Hold(held("b", 100+h.Expires)); err != nil {
			t.Error(err)
		}
	})
	if n != 2 || err != nil || hs.Len() != 3 || hs.Users() != 2 {
		t.Fatalf("Expire = %d, %v; Len %d Users %d", n, err, hs.Len(), hs.Users())
	}
}

// Every item held by concurrent users comes back exactly once, leased
// (then acknowledged) or expired.
func TestHoldsConcurrent(t *testing.T) {
	hs := New(Options{MaxHeld: 500}).Holds()
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	record := func(h *storage.Held) {
		mu.Lock()
		seen[string(h.Body)]++
		mu.Unlock()
	}
	var made sync.Map
	for w := range 8 {
		wg.Go(func() {
			user := fmt.Sprint("u", w%3)
			dst := make([]storage.Held, 5)
			for i := range 400 {
				h := held(user, int64(i))
				h.Body = fmt.Appendf(nil, "%d/%d", w, i)
				if _, err := hs.Hold(h); err == nil {
					made.Store(string(h.Body), true)
				}
				if i%3 == 0 {
					n, _ := hs.Lease(user, 1<<62, dst)
					for j := range dst[:n] {
						record(&dst[j])
						if j%2 == 0 {
							_ = hs.Ack(dst[j].Key)
						} else { // given back: to be leased or expired once more
							mu.Lock()
							seen[string(dst[j].Body)]--
							mu.Unlock()
							_ = hs.Release(dst[j].Key, 1)
						}
					}
				}
				if i%50 == 0 {
					_, _ = hs.Expire(int64(i), record)
				}
			}
		})
	}
	wg.Wait()
	_, _ = hs.Expire(1<<62, record)
	total := 0
	made.Range(func(k, _ any) bool {
		total++
		if seen[k.(string)] != 1 {
			t.Fatalf("item %s handed back %d times", k, seen[k.(string)])
		}
		return true
	})
	if total != len(seen) || hs.Len() != 0 || hs.Users() != 0 {
		t.Fatalf("held %d, handed back %d, left %d", total, len(seen), hs.Len())
	}
}
