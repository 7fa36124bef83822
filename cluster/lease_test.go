package cluster

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// A heartbeat whose update the server wrote but whose answer came too
// late (its context ended on a loaded node) leaves the lease's revision
// one behind. The node stays a member all the same: its next beat finds
// its own entry at the newer revision and refreshes that. Before, every
// later update failed on the stale revision, the Create after it found
// the key (node_lease_lost), and the key lapsed after LeaseBeats beats
// while the node lived (seen under -race at load 13: node 1 left out of
// the members, TestRunCompactionCut's cut passed its applied sequence).
func TestLeaseSurvivesAnUpdateItDidNotSee(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	n := nodes[0]
	members(t, nodes[1], 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := strconv.Itoa(n.o.NodeID)
	// The write the lease does not see: its own entry at the next
	// revision, as its timed-out update left it. A beat between the read
	// and the write moves the revision first: read again.
	for {
		e, err := n.nodes.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.nodes.Update(ctx, key, e.Value(), e.Revision())
		if err == nil {
			break
		}
		if !isWrongSequence(err) {
			t.Fatal(err)
		}
	}
	listed := func(ms []Member) bool {
		for _, m := range ms {
			if m.Node == n.o.NodeID {
				return true
			}
		}
		return false
	}
	// Past the lease (LeaseBeats beats after that write) and two beats more.
	end := time.Now().Add(time.Duration(LeaseBeats+2) * n.o.Heartbeat)
	reads := 0
	for time.Now().Before(end) {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		ms, err := nodes[1].Members(rctx)
		rcancel()
		if err == nil { // a read cut short shows nothing either way
			reads++
			if !listed(ms) {
				t.Fatalf("node %d left out of the members %d ms after a write its lease did not see", n.o.NodeID,
					time.Until(end).Milliseconds())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if reads == 0 {
		t.Fatal("no members read succeeded")
	}
	t.Logf("node %d listed in %d reads over %v", n.o.NodeID, reads, time.Duration(LeaseBeats+2)*n.o.Heartbeat)
}
