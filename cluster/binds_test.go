package cluster

import (
	"context"
	"testing"
	"time"
)

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
}

// Bind counts one node writes are seen by the others (never its own);
// a release is; a node that leaves takes its counts with it; a dead
// node's (no refresh) stop counting after the TTL.
func TestBindsShared(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	bs := make([]*Binds, len(nodes))
	for i, n := range nodes {
		b, err := n.StartBinds()
		if err != nil {
			t.Fatal(err)
		}
		bs[i] = b
	}
	defer func() {
		for _, b := range bs[1:] {
			b.Close()
		}
	}()
	const user = "ann/ü" // not a valid key token as is
	bs[0].Changed(user, 2, [3]int{1, 1, 0})
	bs[1].Changed(user, 1, [3]int{0, 0, 1})
	eventually(t, "node 3 sees nodes 1 and 2", func() bool {
		all, bt := bs[2].Binds(user)
		return all == 3 && bt == [3]int{1, 1, 1}
	})
	eventually(t, "node 1 counts node 2's only (never its own)", func() bool { all, _ := bs[0].Binds(user); return all == 1 })
	bs[1].Changed(user, 0, [3]int{})
	eventually(t, "node 2's release", func() bool { all, _ := bs[2].Binds(user); return all == 2 })
	bs[0].Close() // a node leaving deletes its keys
	eventually(t, "node 1's leave", func() bool { all, _ := bs[2].Binds(user); return all == 0 })

	// Node 7 wrote its count once and died: it stops counting after the TTL.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := bs[2].kv.PutString(ctx, bs[2].key(7, user), "5,5,0,0"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 7's count", func() bool { all, _ := bs[1].Binds(user); return all == 5 })
	eventually(t, "node 7's count expired", func() bool { all, _ := bs[1].Binds(user); return all == 0 })
}
