package cluster

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

// GET /v1/cluster on one node shows every node's status from its
// heartbeat (sessions, queues, connectors) and the live nodes' totals; a
// node that leaves stays listed, not alive, with its last heartbeat, and
// its possible-duplicate counters stay in the cluster's total.
func TestStatusShowsEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("three embedded JetStream servers")
	}
	nodes := joinAll(t, threeNodes(t))
	for i, n := range nodes {
		n.SetStatus(func() NodeStatus {
			return NodeStatus{SMPP: "127.0.0.1:277" + string(rune('5'+i)), Sessions: 10 * (i + 1), Bound: 9 * (i + 1),
				Queued: i, Callbacks: 2, Connectors: []ConnectorStatus{{Name: "up1", Up: i != 1, Binds: 2, Queued: i},
					{Name: "node" + string(rune('1'+i)), Up: true, Binds: 1}},
				Duplicates: Duplicates{Redriven: uint64(i + 1), HeldRetaken: 10, CDR: uint64(i)}}
		})
	}
	get := func() Status { // a 503 (no bucket leader: an election after a node left) reads as no nodes
		t.Helper()
		rec := httptest.NewRecorder()
		nodes[1].Handler()(rec, httptest.NewRequest("GET", "/v1/cluster", nil))
		var st Status
		if rec.Code == 503 {
			return st
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 200 {
			t.Fatalf("GET /v1/cluster: %d %s", rec.Code, rec.Body)
		}
		return st
	}
	var st Status
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st = get()
		if st.Totals.Live == 3 && st.Totals.Sessions == 60 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("statuses not all published: %+v", st)
		}
	}
	tt := st.Totals
	if tt.Bound != 54 || tt.Queued != 3 || tt.Callbacks != 6 || len(tt.Connectors) != 4 {
		t.Fatalf("totals %+v", tt)
	}
	if c := tt.Connectors[3]; c.Name != "up1" || !c.Up || c.Binds != 6 || c.Queued != 3 {
		t.Fatalf("up1 over the nodes %+v", c)
	}
	// CDR: every node counts each message with two lines, so the largest.
	if d := tt.Duplicates; d.Redriven != 6 || d.HeldRetaken != 30 || d.CDR != 2 || d.Sum != 36 {
		t.Fatalf("duplicates over the nodes %+v", d)
	}
	for i, m := range st.Nodes {
		if m.Node != i+1 || !m.Alive || m.Status == nil || m.Status.Sessions != 10*(i+1) || m.Beat == 0 {
			t.Fatalf("node %d: %+v", i+1, m)
		}
	}

	for i, n := range nodes { // cluster_binds = 4 over nodes 1, 2, 3 (a read may miss a key late under load: read again)
		want := []int{2, 1, 1}[i]
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			_, err := n.Members(t.Context())
			if got := n.BindShare("none", 4, 1); err == nil && got == want {
				break
			} else if time.Now().After(end) {
				t.Fatalf("node %d's share of 4 binds: %d, want %d (%v)", i+1, got, want, err)
			}
		}
	}

	_ = nodes[2].Close() // leaves: its key deleted at once
	gone := time.Now()
	nodes[2] = nil
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st = get()
		if st.Totals.Live == 2 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("node 3's departure not seen: %+v", st)
		}
	}
	if len(st.Nodes) != 3 || st.Nodes[2].Alive || st.Nodes[2].Node != 3 || time.Unix(0, st.Nodes[2].Beat).After(gone) ||
		st.Totals.Sessions != 30 {
		t.Fatalf("after node 3 left: %+v", st)
	}
	// Its counters died with it; its last heartbeat's stay in the total.
	if d := st.Totals.Duplicates; d.Redriven != 6 || d.Sum != 36 {
		t.Fatalf("duplicates after node 3 left: %+v", d)
	}
	if got := nodes[1].BindShare("none", 4, 1); got != 2 {
		t.Fatalf("node 2's share of 4 binds over two nodes: %d", got)
	}
}

// The cluster's possible duplicates keep a node's last counters while it
// is gone and after it returns as a new run (its counters from zero), and
// after it is forgotten; CDR is the largest node's, not a sum.
func TestDuplicatesKeepEndedRuns(t *testing.T) {
	run := func(node int, started int64, beat time.Time, redriven, cdr uint64) Member {
		return Member{Node: node, Started: started, Beat: beat.UnixNano(),
			Status: &NodeStatus{Duplicates: Duplicates{Redriven: redriven, HeldRetaken: 1, CDR: cdr}}}
	}
	now := time.Now()
	var s seenNodes
	total := func(live []Member, at time.Time) Duplicates {
		return duplicates(append(live, s.departed(live, at)...), s.earlierRuns())
	}
	live := []Member{run(1, 1, now, 5, 2), run(2, 2, now, 7, 3)}
	s.note(live)
	if d := total(live, now); d.Redriven != 12 || d.HeldRetaken != 2 || d.CDR != 3 || d.Sum != 14 {
		t.Fatalf("both live: %+v", d)
	}
	live = live[:1] // node 2 killed: its last heartbeat stays
	s.note(live)
	if d := total(live, now); d.Redriven != 12 || d.Sum != 14 {
		t.Fatalf("node 2 gone: %+v", d)
	}
	live = append(live, run(2, 9, now, 1, 0)) // back, a new run
	s.note(live)
	if d := total(live, now); d.Redriven != 13 || d.HeldRetaken != 3 || d.CDR != 3 || d.Sum != 16 {
		t.Fatalf("node 2 back: %+v", d)
	}
	s.note(live) // the same run again: not added twice
	if d := total(live, now); d.Sum != 16 {
		t.Fatalf("node 2 read again: %+v", d)
	}
	later := now.Add(departedKeep + time.Minute) // node 2 gone past departedKeep: forgotten, its counters kept
	live = live[:1]
	s.note(live)
	if d := total(live, later); d.Redriven != 13 || d.Sum != 16 {
		t.Fatalf("node 2 forgotten: %+v", d)
	}
	if d := total(live, later); d.Sum != 16 {
		t.Fatalf("node 2 forgotten, read again: %+v", d)
	}
}
