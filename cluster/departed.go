package cluster

import (
	"context"
	"slices"
	"time"
)

// TakeoverGrace is how long a node's membership key must have been gone
// before a surviving node takes over its unsent messages: past the key's
// own lease (LeaseBeats heartbeats), so a node restarted at once after a
// kill usually rejoins and re-sends its own instead.
const TakeoverGrace = 2 * LeaseBeats * DefaultHeartbeat

// WatchDeparted calls fn(node) once for each node whose membership key
// disappeared (killed, partitioned away, or stopped) and stayed gone for
// grace, when this node is the lowest-numbered live node (one taker per
// departure, whichever nodes survive). A node seen again is watched
// afresh. absent are the nodes that left work in the journal this node
// replayed at start (jetstream Store.Owners): each is watched as if last
// seen at this call, so one that departed before this node started (no
// running node saw it go) is taken over too once it stayed away for
// grace. It polls the bucket every heartbeat until stop is closed; fn
// runs on its goroutine.
func (n *Node) WatchDeparted(grace time.Duration, absent []int, stop <-chan struct{}, fn func(node int)) {
	n.WatchTakeOvers(grace, absent, stop, func(node int) Deferred { fn(node); return Deferred{} })
}

// Deferred is what a take-over queued for a time still to come (scheduled
// messages, receipts decided at acceptance): N of them, and the first
// ids (as the ESMEs see them) for the log.
type Deferred struct {
	N   uint64
	IDs []string
}

// WatchTakeOvers is WatchDeparted whose fn returns what the take-over
// queued for later. A node taken over that is seen back in the same run
// (its key's Started unchanged: cut off from the others for the grace,
// not dead) had all of that queued too and sends it at its time as
// well: each is counted as a possible duplicate
// (TakeOverAliveDuplicates, event=takeover_node_alive). A node seen
// back from a new start, or never, counts nothing.
func (n *Node) WatchTakeOvers(grace time.Duration, absent []int, stop <-chan struct{}, fn func(node int) Deferred) {
	w := newDepartures(n.o.NodeID, grace, absent, time.Now())
	deferred := map[int]Deferred{}
	t := time.NewTicker(n.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.o.Heartbeat)
		members, err := n.Members(ctx)
		cancel()
		for _, d := range w.step(time.Now(), members, err) {
			// before_start: no lease seen since this node started; gone_for
			// counts from the start then, or from the last read that could
			// not see it (departures).
			n.lg.Warn().Str("event", "node_departed").Int("departed", d.node).Bool("before_start", d.beforeStart).
				Dur("gone_for", d.goneFor.Round(time.Millisecond)).
				Msg("cluster: a node's lease expired; this node takes over its unsent messages")
			if dd := fn(d.node); dd.N > 0 {
				deferred[d.node] = dd
			}
		}
		for _, b := range w.takeBack() {
			dd, ok := deferred[b.node]
			delete(deferred, b.node)
			if !ok || !b.sameRun {
				continue
			}
			n.aliveDup.Add(dd.N)
			n.lg.Warn().Str("event", "takeover_node_alive").Int("departed", b.node).Uint64("possible_duplicates", dd.N).
				Strs("ids", dd.IDs).Msg("cluster: a node this node took over is back from the same run: it was cut off, not dead, " +
				"and sends what the take-over queued for later too")
		}
	}
}

// TakeOverAliveDuplicates counts the messages and receipts this node's
// take-overs queued for later whose departed node came back from the same
// run (WatchTakeOvers): each possibly sent by both.
func (n *Node) TakeOverAliveDuplicates() uint64 { return n.aliveDup.Load() }

// departures decides WatchDeparted's take-overs from its reads of the
// membership bucket. A node's absence counts only over reads that could
// have seen it: while the bucket cannot be read (no quorum, a JetStream
// election) or this node's own key is not in it (cut off, or its
// heartbeats not written), no lease is renewed either, so every node's
// absence restarts at the next good read. Else an election longer than
// the lease let every key lapse, and the first read after it took live
// nodes for gone for the whole election, and over.
type departures struct {
	self   int
	grace  time.Duration
	seen   map[int]time.Time // live nodes; a departed one keeps the time it was last seen
	taken  map[int]bool
	unseen map[int]bool // absent ones not live since the start
	// started is each node's key's Started as last read (0: never seen);
	// back, the taken nodes seen again since the last takeBack.
	started map[int]int64
	back    []comeback
}

// comeback is a node taken over and seen again; sameRun: its key's
// Started is the one it had before it went (the same process).
type comeback struct {
	node    int
	sameRun bool
}

// takeBack returns and clears the taken nodes seen again.
func (w *departures) takeBack() []comeback {
	b := w.back
	w.back = nil
	return b
}

// departure is one node to take over.
type departure struct {
	node        int
	beforeStart bool
	goneFor     time.Duration
}

func newDepartures(self int, grace time.Duration, absent []int, now time.Time) *departures {
	w := &departures{self: self, grace: grace, seen: map[int]time.Time{}, taken: map[int]bool{}, unseen: map[int]bool{},
		started: map[int]int64{}}
	for _, id := range absent {
		if id != self && id > 0 {
			w.seen[id], w.unseen[id] = now, true
		}
	}
	return w
}

// step takes one read of the bucket at now (members, or its error) and
// returns the nodes to take over, each once until seen again.
func (w *departures) step(now time.Time, members []Member, err error) []departure {
	blind := err != nil
	if !blind {
		blind = !slices.ContainsFunc(members, func(m Member) bool { return m.Node == w.self })
	}
	if blind {
		for id := range w.seen {
			w.seen[id] = now // decide nothing; absence counts from the next good read
		}
		return nil
	}
	live := map[int]bool{}
	lowest := w.self
	for _, m := range members {
		live[m.Node] = true
		w.seen[m.Node] = now
		delete(w.unseen, m.Node)
		if w.taken[m.Node] {
			prev := w.started[m.Node]
			w.back = append(w.back, comeback{node: m.Node, sameRun: prev != 0 && prev == m.Started})
		}
		w.started[m.Node] = m.Started
		delete(w.taken, m.Node)
		lowest = min(lowest, m.Node)
	}
	var out []departure
	for id, last := range w.seen {
		if live[id] || id == w.self || w.taken[id] || now.Sub(last) < w.grace || lowest != w.self {
			continue
		}
		w.taken[id] = true
		out = append(out, departure{node: id, beforeStart: w.unseen[id], goneFor: now.Sub(last)})
		delete(w.unseen, id)
	}
	return out
}
