package cluster

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestWatchDepartedTakesOverNodesGoneBeforeStart: nodes named absent at
// the watch's start (work left in the journal) that hold no lease are
// taken over once, after grace, by the lowest live node only; a live one
// is not.
func TestWatchDepartedTakesOverNodesGoneBeforeStart(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	_ = nodes[0].Close() // node 1 leaves before the watches start
	nodes[0] = nil
	members(t, nodes[1], 2)

	const grace = 2 * time.Second
	var mu sync.Mutex
	taken := map[int][]int{} // watcher -> departed nodes taken over
	started := time.Now()
	var early bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range nodes[1:] {
		wg.Go(func() {
			n.WatchDeparted(grace, []int{1, 3, 7}, stop, func(node int) {
				mu.Lock()
				defer mu.Unlock()
				early = early || time.Since(started) < grace
				taken[n.o.NodeID] = append(taken[n.o.NodeID], node)
			})
		})
	}
	eventually(t, "node 2 takes over nodes 1 and 7", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(taken[2]) == 2
	})
	time.Sleep(2 * DefaultHeartbeat) // room for a wrong second take-over
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	got := slices.Sorted(slices.Values(taken[2]))
	if !slices.Equal(got, []int{1, 7}) || len(taken[3]) != 0 || early {
		t.Fatalf("taken over: node 2 %v, node 3 %v (want [1 7] and none; before grace: %v)", got, taken[3], early)
	}
}

// TestDeparturesSkipBlindReads: the take-over decision from a sequence of
// membership reads (node 1 watching, grace 8 s, one read a second). Reads
// that fail (a JetStream election) or miss this node's own key (cut off)
// decide nothing and restart every absence: after a 9 s election in which
// every key lapsed, the live nodes whose keys come back within the grace
// are not taken over. A node that is gone in good reads is taken over
// once, grace after the last read that could have seen it.
func TestDeparturesSkipBlindReads(t *testing.T) {
	const grace = 8 * time.Second
	t0 := time.Unix(1_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	of := func(ids ...int) []Member {
		var ms []Member
		for _, id := range ids {
			ms = append(ms, Member{Node: id, Alive: true})
		}
		return ms
	}
	errElection := errors.New("no quorum")
	type read struct {
		s       int
		members []Member
		err     error
	}
	run := func(reads []read) map[int]int { // node -> second it was taken over
		w := newDepartures(1, grace, nil, t0)
		taken := map[int]int{}
		for _, r := range reads {
			for _, d := range w.step(at(r.s), r.members, r.err) {
				if _, dup := taken[d.node]; dup {
					t.Fatalf("node %d taken over twice", d.node)
				}
				taken[d.node] = r.s
			}
		}
		return taken
	}

	// A 9 s election: every read fails, every key lapses; after it node 1
	// writes its key first, nodes 2 and 3 within 2 s.
	reads := []read{{s: 0, members: of(1, 2, 3)}}
	for s := 1; s <= 9; s++ {
		reads = append(reads, read{s: s, err: errElection})
	}
	reads = append(reads, read{s: 10, members: of(1)}, read{s: 11, members: of(1, 2)}, read{s: 12, members: of(1, 2, 3)})
	for s := 13; s <= 30; s++ {
		reads = append(reads, read{s: s, members: of(1, 2, 3)})
	}
	if taken := run(reads); len(taken) != 0 {
		t.Fatalf("live nodes taken over after an election: %v", taken)
	}

	// Node 1 cut off: for 12 s its reads (a replica without its leader)
	// show every key lapsed, its own too, then the others still missing
	// for a moment: nothing is taken over.
	reads = []read{{s: 0, members: of(1, 2, 3)}}
	for s := 1; s <= 12; s++ {
		reads = append(reads, read{s: s, members: of()})
	}
	reads = append(reads, read{s: 13, members: of(1)}, read{s: 14, members: of(1, 2, 3)})
	if taken := run(reads); len(taken) != 0 {
		t.Fatalf("a node cut off took the others over: %v", taken)
	}

	// Node 3 killed at 0: gone in every good read, taken over at 8 s.
	reads = nil
	for s := 0; s <= 20; s++ {
		reads = append(reads, read{s: s, members: of(1, 2)})
	}
	reads[0].members = of(1, 2, 3)
	if taken := run(reads); len(taken) != 1 || taken[3] != 8 {
		t.Fatalf("node 3 killed: taken over %v, want node 3 at 8 s", taken)
	}

	// Node 3 killed at 0, then a 5 s election: taken over grace after it.
	reads = []read{{s: 0, members: of(1, 2, 3)}}
	for s := 1; s <= 5; s++ {
		reads = append(reads, read{s: s, err: errElection})
	}
	for s := 6; s <= 20; s++ {
		reads = append(reads, read{s: s, members: of(1, 2)})
	}
	if taken := run(reads); len(taken) != 1 || taken[3] != 13 {
		t.Fatalf("node 3 killed before an election: taken over %v, want node 3 at 13 s", taken)
	}
}

// TestDeparturesNoteComeback: a node taken over and seen again is
// reported once, as the same run when its key's Started did not change
// (cut off, alive all along), else not (restarted); a node never seen
// before it was taken over (absent at start) is not the same run.
func TestDeparturesNoteComeback(t *testing.T) {
	const grace = 8 * time.Second
	t0 := time.Unix(1_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	of := func(started int64, ids ...int) []Member {
		var ms []Member
		for _, id := range ids {
			ms = append(ms, Member{Node: id, Alive: true, Started: started + int64(id)})
		}
		return ms
	}
	run := func(w *departures, back int64) []comeback {
		var got []comeback
		for s := 0; s <= 12; s++ {
			ms := of(100, 1, 2)
			if s == 0 {
				ms = of(100, 1, 2, 3)
			}
			w.step(at(s), ms, nil)
			got = append(got, w.takeBack()...)
		}
		if !w.taken[3] {
			t.Fatal("node 3 not taken over")
		}
		if len(got) != 0 {
			t.Fatalf("seen back while gone: %v", got)
		}
		w.step(at(13), append(of(100, 1, 2), Member{Node: 3, Alive: true, Started: back}), nil)
		got = w.takeBack()
		w.step(at(14), append(of(100, 1, 2), Member{Node: 3, Alive: true, Started: back}), nil)
		return append(got, w.takeBack()...)
	}
	if got := run(newDepartures(1, grace, nil, t0), 103); !slices.Equal(got, []comeback{{node: 3, sameRun: true}}) {
		t.Fatalf("node 3 back from the same run: %v", got)
	}
	if got := run(newDepartures(1, grace, nil, t0), 999); !slices.Equal(got, []comeback{{node: 3, sameRun: false}}) {
		t.Fatalf("node 3 back from a new start: %v", got)
	}

	// Node 7 left work in the journal before this node started: taken
	// over at 8 s, its Started never read before.
	w := newDepartures(1, grace, []int{7}, t0)
	for s := 0; s <= 9; s++ {
		w.step(at(s), of(100, 1), nil)
	}
	w.step(at(10), append(of(100, 1), Member{Node: 7, Alive: true, Started: 5}), nil)
	if got := w.takeBack(); !slices.Equal(got, []comeback{{node: 7, sameRun: false}}) {
		t.Fatalf("node 7 (absent at start) back: %v", got)
	}
}
