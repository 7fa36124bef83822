package cluster

import "testing"

// A cluster-wide bind limit split over the live nodes: the shares add up
// to the limit, the lower ids hold the remainder.
func TestShareOf(t *testing.T) {
	for _, c := range []struct {
		limit int
		want  [3]int
	}{{0, [3]int{0, 0, 0}}, {1, [3]int{1, 0, 0}}, {2, [3]int{1, 1, 0}}, {3, [3]int{1, 1, 1}}, {4, [3]int{2, 1, 1}}, {8, [3]int{3, 3, 2}}} {
		sum := 0
		for rank := range 3 {
			got := shareOf(c.limit, 3, rank)
			if got != c.want[rank] {
				t.Errorf("limit %d rank %d: %d, want %d", c.limit, rank, got, c.want[rank])
			}
			sum += got
		}
		if sum != c.limit {
			t.Errorf("limit %d: shares add up to %d", c.limit, sum)
		}
	}
}

// BindShare: this node's share, less what the others still hold past
// theirs (their last status); none for a node not among the live ones.
func TestBindShare(t *testing.T) {
	n := &Node{o: Options{NodeID: 2}}
	if got := n.BindShare("up", 4, 1); got != 0 {
		t.Fatalf("before any membership read: %d", got)
	}
	st := func(binds int) *NodeStatus {
		return &NodeStatus{Connectors: []ConnectorStatus{{Name: "other", Binds: 9}, {Name: "up", Binds: binds}}}
	}
	n.seen.note([]Member{{Node: 1, Status: st(2)}, {Node: 2}, {Node: 3, Status: st(1)}})
	if got := n.BindShare("up", 4, 1); got != 1 {
		t.Fatalf("share of 4 over three nodes at rank 1: %d", got)
	}
	n.seen.note([]Member{{Node: 1, Status: st(3)}, {Node: 2}, {Node: 3, Status: st(1)}}) // node 1 still holds its old share
	if got := n.BindShare("up", 4, 1); got != 0 {
		t.Fatalf("with the others at the limit: %d", got)
	}
	n.seen.note([]Member{{Node: 1, Status: st(4)}, {Node: 2}}) // tx+rx: node 1's 2 pairs are 4 sessions
	if got := n.BindShare("up", 4, 2); got != 2 {
		t.Fatalf("pairs over two nodes: %d", got)
	}
	n.seen.note([]Member{{Node: 1}, {Node: 3}})
	if got := n.BindShare("up", 4, 1); got != 0 {
		t.Fatalf("a node not live: %d", got)
	}
}
