package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLocal is accounts.Store's side of the leases for one account: its
// live counter, charged with a CAS as accounts charges.
type fakeLocal struct {
	mu sync.Mutex
	c  map[string]*atomic.Int64
}

func newFakeLocal(accts ...string) *fakeLocal {
	f := &fakeLocal{c: map[string]*atomic.Int64{}}
	for _, a := range accts {
		f.c[a] = new(atomic.Int64)
	}
	return f
}

func (f *fakeLocal) ctr(a string) *atomic.Int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.c[a]
}

func (f *fakeLocal) Held(a string) (int64, bool) {
	if c := f.ctr(a); c != nil {
		return c.Load(), true
	}
	return 0, false
}

func (f *fakeLocal) Lend(a string, n int64) bool {
	c := f.ctr(a)
	if c == nil {
		return false
	}
	c.Add(n)
	return true
}

func (f *fakeLocal) Withdraw(a string, n int64) int64 {
	c := f.ctr(a)
	for c != nil {
		cur := c.Load()
		t := min(cur, n)
		if t <= 0 {
			return 0
		}
		if c.CompareAndSwap(cur, cur-t) {
			return t
		}
	}
	return 0
}

// charge takes n from the slice, as accounts.Credit.Charge does, and asks
// for a refill when it cannot.
func (f *fakeLocal) charge(a *Accounts, acct string, n int64) bool {
	c := f.ctr(acct)
	for {
		cur := c.Load()
		if cur < n {
			a.Short(acct, n)
			return false
		}
		if c.CompareAndSwap(cur, cur-n) {
			return true
		}
	}
}

// startAccounts opens and starts the accounts bucket on every node, the
// first seeding pools; apply counts the directories applied that hold
// the seeded user, and lastUsers is how many users the last one held.
func startAccounts(t *testing.T, nodes []*Node, locals []*fakeLocal, pools map[string]Pool) ([]*Accounts, []*atomic.Int32, []*atomic.Int32) {
	t.Helper()
	accs := make([]*Accounts, len(nodes))
	applied := make([]*atomic.Int32, len(nodes))
	lastUsers := make([]*atomic.Int32, len(nodes))
	seeded := make([]bool, len(nodes))
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		a, err := n.OpenAccounts()
		if err != nil {
			t.Fatal(err)
		}
		accs[i], applied[i], lastUsers[i] = a, new(atomic.Int32), new(atomic.Int32)
		wg.Go(func() {
			users := map[string][]byte{"ann": []byte(`{"from":` + string(rune('0'+i+1)) + `}`)}
			seeded[i], errs[i] = a.Seed(users, nil, pools)
		})
	}
	wg.Wait()
	n := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d seed: %v", i+1, err)
		}
		if seeded[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d nodes seeded, want exactly 1", n)
	}
	for i, a := range accs {
		ap := applied[i]
		if err := a.Start(locals[i], func(d Directory) error {
			lastUsers[i].Store(int32(len(d.Users)))
			if len(d.Users) == 1 {
				ap.Add(1)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
	}
	return accs, applied, lastUsers
}

// Two nodes charge one balance of 10,000 in steps of 7 as fast as they
// can: together they never charge more than the balance, and between
// them they charge all of it but less than one charge (what no node
// could use); a top-up on node 2 is seen on node 1 and spent; a clean
// stop gives the unspent slices back.
func TestCreditLeasesShareOneBalance(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	locals := []*fakeLocal{newFakeLocal("ann"), newFakeLocal("ann"), newFakeLocal("ann")}
	accs, applied, _ := startAccounts(t, nodes, locals, map[string]Pool{"ann": {Epoch: 1, Amount: 10_000}})
	for i := range applied {
		if applied[i].Load() < 1 {
			t.Fatalf("node %d had not applied the seeded user when Start returned", i+1)
		}
	}
	members(t, nodes[0], 3)

	const step = 7
	var charged [2]atomic.Int64
	run := func(until time.Time) {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				for time.Now().Before(until) {
					if locals[i].charge(accs[i], "ann", step) {
						charged[i].Add(step)
					} else {
						time.Sleep(time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
	}
	spent := func() int64 { return charged[0].Load() + charged[1].Load() }
	deadline := time.Now().Add(20 * time.Second)
	for spent() < 10_000-step*3 && time.Now().Before(deadline) {
		run(time.Now().Add(500 * time.Millisecond))
	}
	if got := spent(); got > 10_000 {
		t.Fatalf("charged %d of a balance of 10000: overspent", got)
	}
	if charged[0].Load() == 0 || charged[1].Load() == 0 {
		t.Fatalf("charges per node %d, %d: both should have borrowed", charged[0].Load(), charged[1].Load())
	}
	// What is left unspent is in the pool or some node's slice; after
	// idleReturn every slice is back and the pool holds the rest.
	eventually(t, "idle slices back in the pool", func() bool {
		p, ok := accs[2].Pool("ann")
		return ok && p.Amount == 10_000-spent()
	})
	t.Logf("charged %d + %d = %d of 10000 (step %d)", charged[0].Load(), charged[1].Load(), spent(), step)

	// A top-up on node 2 is seen on node 1 and spent there.
	if err := accs[1].AddPool("ann", 700, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 1 sees the top-up", func() bool {
		v, unl, ok := accs[0].Total("ann")
		return ok && !unl && v == 10_700-spent()
	})
	before := charged[0].Load()
	run(time.Now().Add(time.Second))
	if charged[0].Load() == before && charged[1].Load() == 0 {
		t.Fatal("the top-up was not spent")
	}
	if got := spent(); got > 10_700 {
		t.Fatalf("charged %d of 10700: overspent", got)
	}
}

// A set voids every node's slice of the previous balance; a departed
// node's written slice is reclaimed into the pool once; a node whose
// slice was reclaimed while it lived drops it.
func TestCreditSetVoidsAndReclaim(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	locals := []*fakeLocal{newFakeLocal("bob"), newFakeLocal("bob"), newFakeLocal("bob")}
	accs, _, _ := startAccounts(t, nodes, locals, map[string]Pool{"bob": {Epoch: 1, Amount: 1_000_000}})

	if locals[0].charge(accs[0], "bob", 10) {
		t.Fatal("charged from an empty slice")
	}
	eventually(t, "node 1 borrowed", func() bool { h, _ := locals[0].Held("bob"); return h >= 10 })
	held, _ := locals[0].Held("bob")
	if held > 1_000_000/3 {
		t.Fatalf("node 1 borrowed %d of 1000000: more than its share per live node", held)
	}
	eventually(t, "node 1's slice written", func() bool {
		v, _, _ := accs[2].Total("bob")
		return v == 1_000_000
	})

	// The operator sets 500: node 1's slice of the old balance is void.
	if err := accs[1].SetPool("bob", Pool{Amount: 500}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 1 dropped its void slice", func() bool { h, _ := locals[0].Held("bob"); return h == 0 })
	if p, _ := accs[0].Pool("bob"); p.Amount != 500 || p.Epoch != 2 {
		t.Fatalf("pool after the set %+v, want 500 at epoch 2", p)
	}

	// Node 3 borrows; it "dies" (its lender stops without giving back);
	// node 1 reclaims its written slice, once.
	locals[2].charge(accs[2], "bob", 100)
	eventually(t, "node 3 borrowed", func() bool { h, _ := locals[2].Held("bob"); return h >= 100 })
	h3, _ := locals[2].Held("bob")
	eventually(t, "node 3's slice written", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		e, err := accs[0].kv.Get(ctx, leaseKey(3, "bob"))
		return err == nil && string(e.Value()) == Pool{Epoch: 2, Amount: h3}.String()
	})
	close(accs[2].stop) // the lender and the watch stop: dead as far as leases go
	accs[2].done.Wait()
	accs[0].Reclaim(3)
	accs[0].Reclaim(3) // a second reclaim finds nothing
	eventually(t, "node 3's slice back in the pool", func() bool { p, _ := accs[1].Pool("bob"); return p.Amount == 500 })
	if got := accs[0].Stats().Reclaimed; got != 1 {
		t.Fatalf("reclaimed %d slices, want 1", got)
	}
	// Node 3 was not dead: its next write finds its key gone and drops
	// the slice the pool got back.
	s := accs[2].sliceOf("bob")
	s.mu.Lock()
	accs[2].writeLease(s, h3)
	s.mu.Unlock()
	if h, _ := locals[2].Held("bob"); h != 0 {
		t.Fatalf("node 3 kept %d of a reclaimed slice", h)
	}
	if p, _ := accs[1].Pool("bob"); p.Amount != 500 || p.Unlimited {
		t.Fatalf("pool %+v, want 500", p)
	}
}

// A pool switched to unlimited is reported so; a top-up of it is refused.
func TestPoolUnlimited(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	locals := []*fakeLocal{newFakeLocal(), newFakeLocal(), newFakeLocal()}
	accs, applied, lastUsers := startAccounts(t, nodes, locals, map[string]Pool{"cy": {Epoch: 1, Amount: 5}})
	n := applied[2].Load()
	if err := accs[0].SetPool("cy", Pool{Unlimited: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 3 re-applied the users for the switch", func() bool { return applied[2].Load() > n })
	if _, unl, ok := accs[2].Total("cy"); !ok || !unl {
		t.Fatalf("node 3: unlimited %v ok %v", unl, ok)
	}
	// A user deleted on node 2 is gone from node 3's directory.
	if err := accs[1].DeleteUser("ann"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 3 applied the delete", func() bool { return lastUsers[2].Load() == 0 })
	if err := accs[1].AddPool("cy", 5, 0); err != ErrPoolUnlimited {
		t.Fatalf("top-up of an unlimited pool: %v", err)
	}
}
