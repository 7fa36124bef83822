package msg

import (
	"runtime"
	"testing"
)

// counter is the generator counter value id was issued from, less base.
func counter(g *IDGen, id ID) uint64 { return uint64(id)>>nodeBits - g.base<<seqBits }

// onOneP runs f with GOMAXPROCS 1, so every call is on P 0.
func onOneP(t *testing.T, f func()) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
}

// A P issues its run's ids one after the other, and its next run starts
// where the counter stood: one goroutine on one P sees consecutive ids.
func TestRunsConsecutiveOnOneP(t *testing.T) {
	g, err := NewIDGen(3)
	if err != nil {
		t.Fatal(err)
	}
	onOneP(t, func() {
		for i := range uint64(5*IDRun + 7) {
			if k := counter(g, g.Next()); k != i {
				t.Fatalf("id %d from counter %d", i, k)
			}
		}
	})
	if n := g.n.Load(); !raceEnabled && n != 6*IDRun {
		t.Fatalf("counter %d after 5 runs and 7 ids, want %d reserved", n, 6*IDRun)
	}
}

// A run the counter has left more than staleAfter behind (its P idle
// while others issued ids) is dropped: its remaining ids are never issued,
// the next id comes from a fresh run. With many Ps the bound grows with
// them.
func TestStaleRunDropped(t *testing.T) {
	g, err := NewIDGen(3)
	if err != nil {
		t.Fatal(err)
	}
	onOneP(t, func() {
		first := counter(g, g.Next())
		g.n.Add(g.stale + 1) // other Ps reserve past it
		if k := counter(g, g.Next()); k < first+g.stale+1 {
			t.Fatalf("id from counter %d after %d: a stale run's", k, first)
		}
		g.n.Add(g.stale - IDRun) // within the bound: the run goes on
		k0 := counter(g, g.Next())
		if k := counter(g, g.Next()); !raceEnabled && k != k0+1 {
			t.Fatalf("counter %d after %d: a run within the bound was dropped", k, k0)
		}
	})
	if s2, s64 := staleAfter(2), staleAfter(64); s2 != 1<<seqBits || s64 != 4*IDRun*64 {
		t.Fatalf("staleAfter: %d with 2 Ps, %d with 64", s2, s64)
	}
}

// NextInOrder takes each id from the counter, past every run reserved so
// far: ids one goroutine takes that way increase even while its Ps hold
// runs they issued from earlier (TestJSONFind's newest first over HTTP
// listed them out of order when its sends drew on two Ps' runs).
func TestNextInOrderIncreasesAcrossRuns(t *testing.T) {
	g, err := NewIDGen(3)
	if err != nil {
		t.Fatal(err)
	}
	var last ID
	done := make(chan struct{})
	go func() { // other goroutines keep taking runs meanwhile
		defer close(done)
		for range 20 * IDRun {
			g.Next()
		}
	}()
	for i := range 5000 {
		id := g.NextInOrder()
		if i > 0 && id <= last {
			t.Fatalf("NextInOrder gave %s after %s", id, last)
		}
		last = id
		if i%7 == 0 {
			g.Next() // this P's own run, started or used
		}
	}
	<-done
	onOneP(t, func() {
		// P 0 may still hold part of a run from the loop above (the test
		// then failed once): drop it, so that Next starts a fresh one.
		if len(g.runs) > 0 {
			g.runs[0] = pRun{}
		}
		run := g.Next() // a fresh run on P 0
		in := g.NextInOrder()
		if in <= run || !raceEnabled && counter(g, in) < counter(g, run)+IDRun {
			t.Fatalf("NextInOrder %s inside the run begun at %s", in, run)
		}
	})
}
