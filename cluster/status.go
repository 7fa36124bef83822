package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// NodeStatus is what a node tells the others about itself in its
// membership key, rewritten every heartbeat (SetStatus): GET /v1/cluster
// on any node shows every node's.
type NodeStatus struct {
	SMPP      string `json:"smpp,omitempty"`  // SMPP listen address
	Admin     string `json:"admin,omitempty"` // admin API address
	Sessions  int    `json:"sessions"`        // SMPP sessions open on the node
	Bound     int    `json:"bound"`           // of those, bound
	Queued    int    `json:"queued"`          // MT messages in its connectors' queues
	Callbacks int    `json:"callbacks"`       // HTTP callbacks it has pending
	// Connectors are its connector sessions to the upstreams.
	Connectors []ConnectorStatus `json:"connectors,omitempty"`
	// Duplicates are its possible-duplicate counters since its start: they
	// live in its memory, so published here a node that dies leaves its
	// last values with the others.
	Duplicates Duplicates `json:"duplicates"`
}

// Duplicates are one node's possible-duplicate counters (CLUSTER.md,
// Failure modes and duplicates), each its /metrics counter's value.
type Duplicates struct {
	Redriven           uint64 `json:"redriven"`             // smppd_messages_redriven_possible_duplicates_total
	Pulled             uint64 `json:"pulled"`               // smppd_cluster_pulled_possible_duplicates_total
	HeldRetaken        uint64 `json:"held_retaken"`         // smppd_cluster_held_retaken_total
	HeldClaimsLapsed   uint64 `json:"held_claims_lapsed"`   // smppd_cluster_held_claims_lapsed_total
	HeldClaimsUnkeyed  uint64 `json:"held_claims_unkeyed"`  // smppd_cluster_held_claims_unkeyed_total
	HeldTriedUnwritten uint64 `json:"held_tried_unwritten"` // smppd_cluster_held_tried_unwritten_total
	TakeoverAlive      uint64 `json:"takeover_alive"`       // smppd_cluster_takeover_alive_possible_duplicates_total
	// CDR is smppd_cluster_cdr_possible_duplicates_total: every node counts
	// each message with two CDR lines, so it is not in Sum and the
	// cluster's is the largest node's, not a sum.
	CDR uint64 `json:"cdr"`
	// Sum adds the counters above but CDR: upstream sends and deliveries
	// to an ESME that may have gone twice.
	Sum uint64 `json:"sum"`
}

// add adds o's counters to d (CDR: the larger), then sets Sum.
func (d *Duplicates) add(o Duplicates) {
	d.Redriven += o.Redriven
	d.Pulled += o.Pulled
	d.HeldRetaken += o.HeldRetaken
	d.HeldClaimsLapsed += o.HeldClaimsLapsed
	d.HeldClaimsUnkeyed += o.HeldClaimsUnkeyed
	d.HeldTriedUnwritten += o.HeldTriedUnwritten
	d.TakeoverAlive += o.TakeoverAlive
	d.CDR = max(d.CDR, o.CDR)
	d.Sum = d.Redriven + d.Pulled + d.HeldRetaken + d.HeldClaimsLapsed + d.HeldClaimsUnkeyed +
		d.HeldTriedUnwritten + d.TakeoverAlive
}

// ConnectorStatus is one connector on one node.
type ConnectorStatus struct {
	Name   string `json:"name"`
	Up     bool   `json:"up"`
	Binds  int    `json:"binds"`  // upstream binds up on this node
	Queued int    `json:"queued"` // messages in its queue on this node
	// Shared is the messages on the connector's shared queue, waiting or
	// taken and not yet acknowledged, as this node read it last (every
	// second): one queue for the cluster. SharedBatches are the JetStream
	// messages (up to 256 each) carrying them.
	Shared        int `json:"shared"`
	SharedBatches int `json:"shared_batches"`
}

// SetStatus makes the heartbeat publish f's answer with this node's key
// (f runs on the heartbeat's goroutine, once a heartbeat; it must not
// block).
func (n *Node) SetStatus(f func() NodeStatus) { n.status.Store(&f) }

// statusNow is SetStatus's answer, nil without one.
func (n *Node) statusNow() *NodeStatus {
	f := n.status.Load()
	if f == nil {
		return nil
	}
	s := (*f)()
	s.Duplicates.TakeoverAlive = n.aliveDup.Load()
	s.Duplicates.add(Duplicates{}) // Sum
	return &s
}

// departedKeep is how long a node that left stays in GET /v1/cluster
// (alive false) after its last heartbeat.
const departedKeep = time.Hour

// seenNodes remembers the members Members last read, so a node that left
// is shown as not alive, with its last heartbeat, rather than vanishing.
type seenNodes struct {
	mu sync.Mutex
	m  map[int]Member
	// earlier adds up the last duplicate counters of the nodes' runs
	// this node saw end: replaced by a later run of the same node id
	// (a restart) or forgotten after departedKeep.
	earlier Duplicates
	// live are the live members last read, by id (BindShare).
	live atomic.Pointer[[]Member]
}

// note records the live members just read.
func (s *seenNodes) note(live []Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[int]Member{}
	}
	for _, m := range live {
		if old, ok := s.m[m.Node]; ok && old.Started != m.Started && old.Status != nil {
			s.earlier.add(old.Status.Duplicates)
		}
		s.m[m.Node] = m
	}
	cp := append([]Member(nil), live...)
	s.live.Store(&cp)
}

// departed returns the nodes seen before and not in live, their last
// heartbeat within departedKeep, marked not alive; older ones are
// forgotten.
func (s *seenNodes) departed(live []Member, now time.Time) []Member {
	in := map[int]bool{}
	for _, m := range live {
		in[m.Node] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Member
	for id, m := range s.m {
		switch {
		case in[id]:
		case now.Sub(time.Unix(0, m.Beat)) > departedKeep:
			if m.Status != nil {
				s.earlier.add(m.Status.Duplicates)
			}
			delete(s.m, id)
		default:
			m.Alive = false
			out = append(out, m)
		}
	}
	return out
}

// earlierRuns returns the duplicate counters of the runs seen end.
func (s *seenNodes) earlierRuns() Duplicates {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.earlier
}
