package cluster

import (
	"context"
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
	seen := map[int]time.Time{} // live nodes; a departed one keeps the time it was last seen
	taken := map[int]bool{}
	unseen := map[int]bool{} // absent ones not live since this call
	for _, id := range absent {
		if id != n.o.NodeID && id > 0 {
			seen[id], unseen[id] = time.Now(), true
		}
	}
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
		if err != nil {
			continue // no quorum or a leader election: decide nothing
		}
		now := time.Now()
		live := map[int]bool{}
		lowest := n.o.NodeID
		for _, m := range members {
			live[m.Node] = true
			seen[m.Node] = now
			delete(unseen, m.Node)
			delete(taken, m.Node)
			lowest = min(lowest, m.Node)
		}
		for id, last := range seen {
			if live[id] || id == n.o.NodeID || taken[id] || now.Sub(last) < grace || lowest != n.o.NodeID {
				continue
			}
			taken[id] = true
			// before_start: no lease seen since this node started; gone_for
			// counts from the start then.
			n.lg.Warn().Str("event", "node_departed").Int("departed", id).Bool("before_start", unseen[id]).
				Dur("gone_for", now.Sub(last).Round(time.Millisecond)).
				Msg("cluster: a node's lease expired; this node takes over its unsent messages")
			delete(unseen, id)
			fn(id)
		}
	}
}
