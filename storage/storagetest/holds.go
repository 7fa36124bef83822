package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// holdCases hold storage.Holds to its contract.
var holdCases = []testCase{
	{name: "Held/LeaseInOrder", run: heldLeaseInOrder},
	{name: "Held/Copies", run: heldCopies},
	{name: "Held/AckRemoves", run: heldAck},
	{name: "Held/ReleaseKeepsPlace", run: heldRelease},
	{name: "Held/Full", maxHeld: 2, run: heldFull},
	{name: "Held/Expire", run: heldExpire},
	{name: "Held/LeaseRunsOut", run: heldLeaseRunsOut},
	{name: "Held/HoldLeased", run: heldHoldLeased},
	{name: "Held/CountsByUser", run: heldCountsByUser},
}

// hold stores an item for user whose body names n, expiring at exp, and
// returns its key.
func (e *env) hold(t *testing.T, user string, n int, exp int64) storage.HeldKey {
	t.Helper()
	h := storage.Held{SystemID: user, Kind: storage.HeldReceipt, ID: msg.ID(n), Body: fmt.Appendf(nil, "body %d", n),
		Expires: exp, Attempts: n % 3}
	k, err := e.holds.Hold(&h)
	if err != nil {
		t.Fatalf("Hold(%s %d): %v", user, n, err)
	}
	if k == 0 {
		t.Fatal("Hold returned key 0")
	}
	return k
}

// lease leases up to max of user's items and returns their ids in order.
func (e *env) lease(t *testing.T, user string, max int, until int64) ([]storage.Held, []int) {
	t.Helper()
	dst := make([]storage.Held, max)
	n, err := e.holds.Lease(user, until, dst)
	if err != nil {
		t.Fatalf("Lease(%s): %v", user, err)
	}
	ids := make([]int, n)
	for i := range dst[:n] {
		ids[i] = int(dst[i].ID)
		if want := fmt.Sprintf("body %d", dst[i].ID); string(dst[i].Body) != want || dst[i].SystemID != user {
			t.Fatalf("leased %+v, want body %q of %s", dst[i], want, user)
		}
	}
	return dst[:n], ids
}

func wantIDs(t *testing.T, what string, got []int, want ...int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: ids %v, want %v", what, got, want)
	}
}

func heldLeaseInOrder(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	keys := map[storage.HeldKey]bool{}
	for i := 1; i <= 3; i++ {
		keys[e.hold(t, "alice", i, exp)] = true
	}
	keys[e.hold(t, "bob", 4, exp)] = true
	if len(keys) != 4 {
		t.Fatalf("keys not unique: %v", keys)
	}
	if n, u := e.holds.Len(), e.holds.Users(); n != 4 || u != 2 {
		t.Fatalf("Len %d Users %d, want 4 and 2", n, u)
	}
	until := e.now() + int64(time.Minute)
	got, ids := e.lease(t, "alice", 2, until)
	wantIDs(t, "first lease", ids, 1, 2)
	for _, h := range got {
		if !keys[h.Key] || h.Kind != storage.HeldReceipt || h.Expires != exp || h.Attempts != int(h.ID)%3 {
			t.Fatalf("leased %+v", h)
		}
	}
	_, ids = e.lease(t, "alice", 2, until)
	wantIDs(t, "second lease: leased items are not offered twice", ids, 3)
	_, ids = e.lease(t, "alice", 2, until)
	wantIDs(t, "third lease", ids)
	_, ids = e.lease(t, "carol", 2, until)
	wantIDs(t, "a user with nothing held", ids)
	if n := e.holds.Len(); n != 4 {
		t.Fatalf("Len = %d: leased items are still held", n)
	}
	if st := e.s.Stats(); st.Held != 4 || st.HeldUsers != 2 {
		t.Fatalf("Stats: %+v", st)
	}
}

func heldCopies(t *testing.T, e *env) {
	body := []byte("body 1")
	h := storage.Held{SystemID: "alice", Kind: storage.HeldMO, ID: 1, Body: body, Expires: e.now() + int64(time.Hour)}
	k, err := e.holds.Hold(&h)
	if err != nil {
		t.Fatal(err)
	}
	body[0] = 'X' // the caller's buffer is its own again
	dst := []storage.Held{{Body: make([]byte, 0, 64)}}
	if n, err := e.holds.Lease("alice", e.now()+int64(time.Minute), dst); n != 1 || err != nil {
		t.Fatalf("Lease = %d, %v", n, err)
	}
	if string(dst[0].Body) != "body 1" || dst[0].Key != k || dst[0].Kind != storage.HeldMO {
		t.Fatalf("leased %+v", dst[0])
	}
	dst[0].Body[0] = 'Y' // nor is the leased copy the store's
	if err := e.holds.Release(k, 0); err != nil {
		t.Fatal(err)
	}
	if _, ids := e.lease(t, "alice", 1, e.now()+int64(time.Minute)); len(ids) != 1 {
		t.Fatalf("released item not leased again: %v", ids)
	}
}

func heldAck(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	k1 := e.hold(t, "alice", 1, exp)
	k2 := e.hold(t, "alice", 2, exp)
	k3 := e.hold(t, "alice", 3, exp)
	got, _ := e.lease(t, "alice", 1, e.now()+int64(time.Minute))
	if got[0].Key != k1 {
		t.Fatalf("leased key %v, want %v", got[0].Key, k1)
	}
	if err := e.holds.Ack(k1); err != nil {
		t.Fatalf("Ack of a leased item: %v", err)
	}
	if err := e.holds.Ack(k2); err != nil { // not leased: removed all the same
		t.Fatalf("Ack of an unleased item: %v", err)
	}
	for _, k := range []storage.HeldKey{k1, k2} {
		if err := e.holds.Ack(k); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second Ack = %v, want ErrNotFound", err)
		}
		if err := e.holds.Release(k, 1); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Release after Ack = %v, want ErrNotFound", err)
		}
	}
	_, ids := e.lease(t, "alice", 4, e.now()+int64(time.Minute))
	wantIDs(t, "after two acks", ids, 3)
	if err := e.holds.Ack(k3); err != nil {
		t.Fatal(err)
	}
	if n, u := e.holds.Len(), e.holds.Users(); n != 0 || u != 0 {
		t.Fatalf("Len %d Users %d after acking everything", n, u)
	}
	// A new item's key is not an acked one's.
	if k := e.hold(t, "alice", 4, exp); k == k1 || k == k2 || k == k3 {
		t.Fatalf("key %v reused", k)
	}
}

func heldRelease(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	for i := 1; i <= 4; i++ {
		e.hold(t, "alice", i, exp)
	}
	until := e.now() + int64(time.Minute)
	got, ids := e.lease(t, "alice", 3, until)
	wantIDs(t, "lease", ids, 1, 2, 3)
	// Given back out of order, with the attempts made: back in place.
	for _, i := range []int{2, 0, 1} {
		if err := e.holds.Release(got[i].Key, 10+i); err != nil {
			t.Fatal(err)
		}
	}
	again, ids := e.lease(t, "alice", 4, until)
	wantIDs(t, "after release", ids, 1, 2, 3, 4)
	for i, h := range again[:3] {
		if h.Attempts != 10+i || h.Key != got[i].Key {
			t.Fatalf("released item %d: attempts %d key %v", i, h.Attempts, h.Key)
		}
	}
	// An item released in the middle of its user's queue keeps its place.
	if err := e.holds.Release(again[1].Key, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.holds.Release(again[3].Key, 0); err != nil {
		t.Fatal(err)
	}
	_, ids = e.lease(t, "alice", 4, until)
	wantIDs(t, "second release", ids, 2, 4)
	// Releasing an item that is not leased sets its attempts only.
	if err := e.holds.Release(again[0].Key, 5); err != nil {
		t.Fatal(err)
	}
	if err := e.holds.Release(again[0].Key, 6); err != nil {
		t.Fatal(err)
	}
	last, ids := e.lease(t, "alice", 4, until)
	wantIDs(t, "released twice", ids, 1)
	if last[0].Attempts != 6 {
		t.Fatalf("attempts %d, want 6", last[0].Attempts)
	}
}

func heldFull(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	k := e.hold(t, "alice", 1, exp)
	e.hold(t, "bob", 2, exp)
	h := storage.Held{SystemID: "carol", Kind: storage.HeldMO, Body: []byte("x"), Expires: exp}
	if _, err := e.holds.Hold(&h); !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("Hold over the limit = %v, want ErrHeldFull", err)
	}
	if st := e.s.Stats(); st.HeldRefused != 1 || st.Held != 2 {
		t.Fatalf("Stats: %+v", st)
	}
	if err := e.holds.Ack(k); err != nil {
		t.Fatal(err)
	}
	e.hold(t, "carol", 3, exp) // an ack makes room
}

func heldExpire(t *testing.T, e *env) {
	soon, late := e.now()+int64(time.Minute), e.now()+int64(time.Hour)
	e.hold(t, "alice", 1, soon)
	e.hold(t, "alice", 2, late)
	e.hold(t, "alice", 3, soon)
	e.hold(t, "bob", 4, soon)
	e.hold(t, "carol", 5, late)
	// bob's item is leased: the lease holder expires it, not Expire.
	e.lease(t, "bob", 1, late)
	e.advance(2 * time.Minute)
	var seen []int
	n, err := e.holds.Expire(e.now(), func(h *storage.Held) {
		if want := fmt.Sprintf("body %d", h.ID); string(h.Body) != want || h.SystemID != "alice" {
			t.Errorf("expired %+v", h)
		}
		seen = append(seen, int(h.ID))
	})
	if err != nil || n != 2 {
		t.Fatalf("Expire = %d, %v; want 2", n, err)
	}
	if fmt.Sprint(seen) != "[1 3]" && fmt.Sprint(seen) != "[3 1]" {
		t.Fatalf("expired ids %v, want 1 and 3", seen)
	}
	if l := e.holds.Len(); l != 3 {
		t.Fatalf("Len = %d after expiring 2 of 5", l)
	}
	_, ids := e.lease(t, "alice", 4, late)
	wantIDs(t, "alice after Expire", ids, 2)
	if n, _ := e.holds.Expire(e.now(), nil); n != 0 {
		t.Fatalf("a second Expire removed %d", n)
	}
}

func heldLeaseRunsOut(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	e.hold(t, "alice", 1, exp)
	e.hold(t, "alice", 2, exp)
	e.hold(t, "alice", 3, e.now()+int64(2*time.Minute))
	e.lease(t, "alice", 3, e.now()+int64(time.Minute))
	e.advance(90 * time.Second)
	if n, err := e.holds.Expire(e.now(), nil); n != 0 || err != nil {
		t.Fatalf("Expire = %d, %v; nothing had expired", n, err)
	}
	// The lease ran out: the items are offered again, in order.
	_, ids := e.lease(t, "alice", 4, e.now()+int64(time.Minute))
	wantIDs(t, "after the lease ran out", ids, 1, 2, 3)
	// A lease that runs out on an expired item removes it.
	e.advance(2 * time.Minute)
	n, err := e.holds.Expire(e.now(), nil)
	if n != 1 || err != nil {
		t.Fatalf("Expire = %d, %v; want the expired item", n, err)
	}
	_, ids = e.lease(t, "alice", 4, e.now()+int64(time.Minute))
	wantIDs(t, "after the expiry", ids, 1, 2)
}

func heldHoldLeased(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	e.hold(t, "alice", 1, exp)
	h := storage.Held{SystemID: "alice", Kind: storage.HeldReceipt, ID: 2, Body: []byte("body 2"), Expires: exp,
		LeaseUntil: e.now() + int64(time.Minute)}
	k2, err := e.holds.Hold(&h)
	if err != nil {
		t.Fatal(err)
	}
	h.ID, h.Body, h.LeaseUntil = 3, []byte("body 3"), e.now()+int64(time.Minute)
	k3, err := e.holds.Hold(&h)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.holds.Len(); n != 3 {
		t.Fatalf("Len = %d: items held leased count", n)
	}
	// Only the item held unleased is offered; the others are out already.
	got, ids := e.lease(t, "alice", 4, e.now()+int64(time.Minute))
	wantIDs(t, "lease beside items held leased", ids, 1)
	if got[0].LeaseUntil != 0 {
		t.Fatalf("Lease set LeaseUntil: %+v", got[0])
	}
	if err := e.holds.Release(k2, 1); err != nil { // a failed delivery gives it back
		t.Fatal(err)
	}
	_, ids = e.lease(t, "alice", 4, e.now()+int64(time.Minute))
	wantIDs(t, "after the release", ids, 2)
	// Item 3's lease runs out: offered again.
	e.advance(2 * time.Minute)
	if n, err := e.holds.Expire(e.now(), nil); n != 0 || err != nil {
		t.Fatalf("Expire = %d, %v", n, err)
	}
	again, ids := e.lease(t, "alice", 4, e.now()+int64(time.Minute))
	wantIDs(t, "after the lease ran out", ids, 1, 2, 3)
	if again[2].Key != k3 {
		t.Fatalf("key %v, want %v", again[2].Key, k3)
	}
	if err := e.holds.Ack(k3); err != nil {
		t.Fatal(err)
	}
}

// heldCountsByUser: a store that counts its users' items (HeldCounts)
// counts leased ones too, and forgets a user with none left.
func heldCountsByUser(t *testing.T, e *env) {
	hc, ok := e.holds.(storage.HeldCounts)
	if !ok {
		t.Skip("the store does not count items by user")
	}
	counts := func() map[string]int {
		m := map[string]int{}
		hc.HeldByUser(func(user string, n int) { m[user] += n })
		return m
	}
	exp := e.now() + int64(time.Hour)
	a1 := e.hold(t, "alice", 1, exp)
	e.hold(t, "alice", 2, exp)
	b1 := e.hold(t, "bob", 3, exp)
	e.lease(t, "alice", 1, e.now()+int64(time.Minute))
	if got := fmt.Sprint(counts()); got != "map[alice:2 bob:1]" {
		t.Fatalf("counts %s, want alice 2 (one leased), bob 1", got)
	}
	if err := e.holds.Ack(a1); err != nil {
		t.Fatal(err)
	}
	if err := e.holds.Ack(b1); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(counts()); got != "map[alice:1]" {
		t.Fatalf("counts after two acks %s, want alice 1", got)
	}
}
