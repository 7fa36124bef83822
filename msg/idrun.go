package msg

import "runtime"

// IDGen hands out ids in runs: each scheduler P takes IDRun consecutive
// counter values with one atomic add and issues them one by one while
// pinned (plain writes: no other goroutine runs on the P meanwhile). One
// atomic add per id on a counter both event loops share moved its cache
// line between the cores on every submit, and interleaved the loops' ids,
// so every structure indexed by id (the memory store's shards, the flow's
// live index) had both cores writing neighbouring entries. With runs, a
// loop's consecutive messages have consecutive ids, and a store can keep a
// run on one shard (storage/memory recKey).
//
// Ids stay unique (every value of the counter is issued at most once) and
// under the gate and the kept floor (a run is reserved only once all its
// slots have arrived and are below the floor). They are no longer issued in
// counter order across Ps: an id may be issued after higher ones of another
// P, by at most staleAfter counter values (an older remainder of a run is
// dropped, its ids never issued). Under the race detector, which cannot see
// the pinning, and on a P beyond those at creation (GOMAXPROCS raised
// later), each id is reserved alone.

// IDRun is how many consecutive counter values a P reserves at once. It
// divides 2048 (a slot), so runs taken only in whole never straddle slots.
const IDRun = 64

// staleAfter is how far behind the counter a P's run may be and still be
// issued from: one slot, or more with many Ps, so that runs the other Ps
// take meanwhile (each a run at a time) do not make a busy P drop its own.
func staleAfter(ps int) uint64 { return max(1<<seqBits, 4*IDRun*uint64(ps)) }

var _ = [1]struct{}{}[(1<<seqBits)%IDRun] // IDRun divides a slot

// pRun is one P's run: counter values next..end-1 are reserved, not issued.
type pRun struct {
	next, end uint64
	_         [48]byte // neighbouring Ps' runs off one cache line
}

func newRuns() []pRun {
	if raceEnabled {
		return nil
	}
	return make([]pRun, runtime.GOMAXPROCS(0))
}

// fromRun issues the next value of this P's run; false when the P has no
// run left (or a stale one, or none at all).
func (g *IDGen) fromRun() (uint64, bool) {
	k, ok := uint64(0), false
	if p := procPin(); p < len(g.runs) {
		r := &g.runs[p]
		if r.next < r.end && g.n.Load()-r.next <= g.stale {
			k, ok = r.next, true
			r.next++
		}
	}
	procUnpin()
	return k, ok
}

// newRun reserves a run for this P and issues its first value (a P beyond
// the table reserves the one value only). The reservation may wait for the
// gate or the keeper, so it is made unpinned; the run goes to the P the
// caller is on afterwards.
func (g *IDGen) newRun() uint64 {
	in := procPin() < len(g.runs)
	procUnpin()
	if !in {
		return g.reserve(1)
	}
	k := g.reserve(IDRun)
	if p := procPin(); p < len(g.runs) {
		g.runs[p] = pRun{next: k + 1, end: k + IDRun}
	}
	procUnpin()
	return k
}
