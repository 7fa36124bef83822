package cluster

// BindShare is how many binds this node may hold of a connector whose
// upstream allows limit over the cluster (cluster_binds): its share,
// limit split over the live nodes in node_id order with the lower ids
// holding the remainder (the shares add up to limit), and never more than
// the limit less what the other live nodes held at their last heartbeat
// (their status: Connectors[].Binds, perBind sessions to a bind), so a
// node whose share grew waits for the others to give theirs up. The live
// nodes are those the last membership read saw (every heartbeat, and once
// at Join); a node missing from it (its key expired: cut off, or taken
// for dead) holds none. Cheap and allocation-free: a scan of the live
// members.
func (n *Node) BindShare(connector string, limit, perBind int) int {
	p := n.seen.live.Load()
	if p == nil {
		return 0
	}
	live := *p
	rank, others := -1, 0
	for i := range live {
		m := &live[i]
		if m.Node == n.o.NodeID {
			rank = i
			continue
		}
		if m.Status == nil {
			continue
		}
		for _, c := range m.Status.Connectors {
			if c.Name == connector {
				others += (c.Binds + max(perBind, 1) - 1) / max(perBind, 1)
			}
		}
	}
	if rank < 0 {
		return 0
	}
	return min(shareOf(limit, len(live), rank), max(limit-others, 0))
}

// shareOf is the share of limit of the node at rank among count nodes.
func shareOf(limit, count, rank int) int {
	s := limit / count
	if rank < limit%count {
		s++
	}
	return s
}
