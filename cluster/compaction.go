package cluster

import (
	"context"
	"time"
)

// When the lowest live node compacts the journal (storage/jetstream
// Store.Compact; docs/CLUSTER.md "Journal compaction"): it looks every
// CompactCheck, and compacts once every live node has applied at least
// CompactAfter stream sequences past the last cut, or any at all past it
// after CompactMaxAge. The journal so holds the live state (the base) plus
// at most about CompactAfter batches, or CompactMaxAge of them when
// traffic is light. CompactCheck and CompactAfter are the defaults of
// [cluster] compact_check and compact_after (config.DefaultCluster).
const (
	CompactCheck  = 30 * time.Second
	CompactAfter  = 50000
	CompactMaxAge = time.Hour
	// compactTimeout bounds one compaction (two reads of the base and the
	// batches since, and the new base's writes).
	compactTimeout = 10 * time.Minute
)

// SetApplied makes the heartbeat publish fn's value, the stream sequence
// up to which this node's index holds the journal (the store's Applied):
// a compaction's cut never passes a live node's. 0 (the default, and
// while a start replays) holds every compaction off.
func (n *Node) SetApplied(fn func() uint64) { n.applied.Store(&fn) }

func (n *Node) appliedSeq() uint64 {
	if f := n.applied.Load(); f != nil {
		return (*f)()
	}
	return 0
}

// compactionCut is the cut node self may compact at, given members (the
// live nodes' keys) and its own applied sequence now: the smallest applied
// sequence among them and its own. ok is false unless self is the lowest
// live node and listed itself: a node whose own key is missing (its lease
// lapsed while it lived: a heartbeat slower than the lease) is no judge
// of who else is live, and took itself for the lowest, with a cut past
// its own applied sequence. ok is false too while any reports 0 (a start
// replaying).
func compactionCut(self int, own uint64, members []Member) (cut uint64, ok bool) {
	cut = own
	listed := false
	for _, m := range members {
		if m.Node < self {
			return 0, false
		}
		listed = listed || m.Node == self
		cut = min(cut, m.Applied)
	}
	return cut, listed && cut > 0
}

// RunCompaction calls compact(ctx, cut) as the constants above say, while
// this node is the lowest live one, with cut the smallest sequence the
// live nodes report applied. It returns when stop is closed.
func (n *Node) RunCompaction(check time.Duration, after uint64, maxAge time.Duration, stop <-chan struct{},
	compact func(ctx context.Context, cut uint64) error) {
	t := time.NewTicker(check)
	defer t.Stop()
	var lastCut uint64
	lastAt := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.o.Heartbeat)
		members, err := n.Members(ctx)
		cancel()
		if err != nil {
			continue
		}
		cut, ok := compactionCut(n.o.NodeID, n.appliedSeq(), members)
		if !ok || cut <= lastCut {
			continue
		}
		if cut-lastCut < after && time.Since(lastAt) < maxAge {
			continue
		}
		ctx, cancel = context.WithTimeout(context.Background(), compactTimeout)
		err = compact(ctx, cut)
		cancel()
		if err != nil {
			n.lg.Warn().Err(err).Str("event", "journal_compaction_failed").Uint64("cut", cut).
				Msg("cluster: journal compaction failed; the journal keeps its batches until the next try")
			continue
		}
		lastCut, lastAt = cut, time.Now()
	}
}
