package jetstream

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
)

// TestClaimBatch: a lease's claims go as one atomic batch, each at the
// revision the node keeps for its refresh and release; a batch one of
// whose items another node claimed is refused whole, and the lease then
// claims the others one by one, losing only that item.
func TestClaimBatch(t *testing.T) {
	dir := t.TempDir()
	a, b := openClaimer(t, dir, 1), openClaimer(t, dir, 2)
	until := time.Now().Add(time.Hour).UnixNano()
	hold := func(user string, k int) {
		for i := range k {
			body := fmt.Appendf(nil, "%s-%d", user, i)
			if _, err := a.Holds().Hold(&storage.Held{SystemID: user, Kind: storage.HeldMO, Body: body, Expires: until}); err != nil {
				t.Fatal(err)
			}
		}
	}
	hold("carol", 3)
	eventually(t, "node 2 applies the holds", func() bool { return b.Holds().Len() == 3 })
	dst := make([]storage.Held, 8)
	if n, err := b.Holds().Lease("carol", until, dst); n != 3 || err != nil {
		t.Fatalf("node 2 leased %d (%v), want 3", n, err)
	}
	if got := b.claims.batches.Load(); got != 1 {
		t.Fatalf("node 2 sent %d claim batches, want 1", got)
	}
	for _, it := range dst[:3] {
		g := b.holds.global(it.Key)
		e, err := b.claims.kv.Get(context.Background(), claimKey(g))
		if err != nil {
			t.Fatal(err)
		}
		b.claims.mu.Lock()
		rev := b.claims.held[it.Key].rev
		b.claims.mu.Unlock()
		if e.Revision() != rev || string(e.Value()) != "2" {
			t.Fatalf("claim of %q: revision %d value %q in the bucket, node 2 keeps revision %d", it.Body, e.Revision(), e.Value(), rev)
		}
	}
	// The revision kept is the one a release deletes at.
	if err := b.Holds().Release(dst[0].Key, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.claims.kv.Get(context.Background(), claimKey(b.holds.global(dst[0].Key))); err == nil {
		t.Fatal("the released item's claim is still in the bucket")
	}

	hold("dave", 4)
	eventually(t, "node 2 applies the holds", func() bool { return b.Holds().Len() == 7 })
	if n, _ := b.Holds().Lease("dave", until, dst[:1]); n != 1 {
		t.Fatalf("node 2 leased %d of dave's, want 1", n)
	}
	taken := dst[0].Body
	won := a.claims.won.Load()
	got := make([]storage.Held, 8)
	n, err := a.Holds().Lease("dave", until, got)
	if n != 3 || err != nil {
		t.Fatalf("node 1 leased %d (%v) of dave's 4, one claimed by node 2; want 3", n, err)
	}
	for _, it := range got[:n] {
		if string(it.Body) == string(taken) {
			t.Fatalf("node 1 leased %q, node 2's claim", taken)
		}
	}
	if u, w := a.claims.unbatched.Load(), a.claims.won.Load()-won; u != 1 || w != 3 {
		t.Fatalf("node 1: %d refused batches, %d claims won; want 1 and 3", u, w)
	}
	if l := a.claims.lostN.Load(); l != 1 {
		t.Fatalf("node 1 lost %d claims, want 1", l)
	}
}
