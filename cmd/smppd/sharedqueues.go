package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/jetstream"
)

// sharedQueues is a cluster node's shared connector queues as the hub
// sees them (flow.SharedQueues): built with the store, so the hub gets it
// at New, and started (startShared) once the hub runs and re-drove what
// the journal kept, since its pullers hand messages to the hub.
type sharedQueues struct {
	node *cluster.Node
	st   *jetstream.Store
	// name is the connector name of a routing id (connIDs.name).
	name atomic.Pointer[func(id int) string]
	q    atomic.Pointer[cluster.Queues]
}

// Spill implements flow.SharedQueues: false until started and after the
// stop (the message then stays on this node).
func (s *sharedQueues) Spill(c int, item []byte) bool {
	q := s.q.Load()
	return q != nil && q.Spill(c, item)
}

// UpElsewhere implements flow.SharedQueues.
func (s *sharedQueues) UpElsewhere(c int) bool {
	f := s.name.Load()
	return f != nil && s.node.UpElsewhere((*f)(c))
}

// sharedOf is the hub's Options.Shared: the cluster store's queues (made
// at the first call), nil on a single node.
func sharedOf(st storage.Store) flow.SharedQueues {
	c, ok := st.(clusterStore)
	if !ok {
		return nil
	}
	if c.shared.queues == nil {
		c.shared.queues = &sharedQueues{node: c.node, st: c.Store}
	}
	return c.shared.queues
}

// queuesGlue is the cluster store's shared-queue glue, nil outside a
// cluster or before sharedOf.
func queuesGlue(st storage.Store) *sharedQueues {
	if c, ok := st.(clusterStore); ok {
		return c.shared.queues
	}
	return nil
}

// startShared starts a cluster node's pullers and publisher for the n
// connector ids (named by name); stopPulling and closeShared stop them.
// Outside a cluster it does nothing.
func startShared(st storage.Store, hub *flow.Hub, n int, name func(int32) string, log zerolog.Logger) error {
	s := queuesGlue(st)
	if s == nil {
		return nil
	}
	byID := func(id int) string { return name(int32(id)) }
	s.name.Store(&byID)
	q, err := s.node.StartQueues(cluster.QueuesOptions{
		Connectors: n,
		Ready:      hub.CanPull,
		Pulled: func(conn int, item []byte, b *cluster.Batch, redelivered bool) {
			hub.Pulled(conn, item, b, redelivered)
		},
		// Once the queue stored them, no start or take-over re-drives them.
		Stored: func(_ int, items [][]byte) {
			ids := make([]msg.ID, 0, len(items))
			for _, it := range items {
				if id, ok := flow.SpilledID(it); ok {
					ids = append(ids, id)
				}
			}
			if err := s.st.MarkSpilled(ids); err != nil {
				log.Warn().Str("event", "spill_mark_failed").Int("messages", len(ids)).Err(err).
					Msg("shared queues: spilled messages not marked in the journal; this node's next start or its taker may send them too (possible duplicates)")
			}
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	s.q.Store(q)
	return nil
}

// queuesOf is a cluster node's started shared queues, nil otherwise.
func queuesOf(st storage.Store) *cluster.Queues {
	if s := queuesGlue(st); s != nil {
		return s.q.Load()
	}
	return nil
}

// stopPulling makes a cluster node take nothing more from its shared
// queues (before its hub stops: what it holds is settled or given back).
func stopPulling(st storage.Store) {
	if q := queuesOf(st); q != nil {
		q.StopPulling()
	}
}

// closeShared publishes what the node spilled (5 s at most) and stops its
// shared queues, after the hub and before the store (its marks are
// journal writes).
func closeShared(st storage.Store) {
	if q := queuesOf(st); q != nil {
		q.Close()
	}
}

// sharedDepth is connector id's shared queue depth (its node status):
// Messages and Batches as last read; zero outside a cluster.
func sharedDepth(st storage.Store, id int) cluster.QueueStats {
	if q := queuesOf(st); q != nil {
		return q.Stats(id)
	}
	return cluster.QueueStats{}
}

// registerShared exports the shared queues' counters and depths per
// connector (names by routing id, "" for a vacant id); outside a cluster
// nothing.
func registerShared(reg prometheus.Registerer, st storage.Store, hub *flow.Hub, names []string) error {
	s := queuesGlue(st)
	if s == nil {
		return nil
	}
	stat := func(id int) cluster.QueueStats {
		if q := s.q.Load(); q != nil {
			return q.Stats(id)
		}
		return cluster.QueueStats{}
	}
	for id, name := range names {
		if name == "" {
			continue
		}
		l := prometheus.Labels{"connector": name}
		for _, k := range []struct {
			name, help string
			get        func(cluster.QueueStats) float64
		}{
			{"smppd_cluster_spilled_total", "Messages this node put on the connector's shared queue (its own connector down, halted, without a bind share or past spill_high_water, another node's up).", func(q cluster.QueueStats) float64 { return float64(q.Spilled) }},
			{"smppd_cluster_pulled_total", "Messages this node took from the connector's shared queue.", func(q cluster.QueueStats) float64 { return float64(q.Pulled) }},
			{"smppd_cluster_pull_redelivered_total", "Of those, messages of batches taken before by a node that died or gave them back.", func(q cluster.QueueStats) float64 { return float64(q.Redelivered) }},
		} {
			get, id := k.get, id
			if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: k.name, Help: k.help, ConstLabels: l},
				func() float64 { return get(stat(id)) })); err != nil {
				return err
			}
		}
		id := id
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smppd_cluster_shared_queue_batches",
			Help: "Batches (up to 256 messages each) on the connector's shared queue, waiting or taken and not yet acknowledged, as read every second.", ConstLabels: l},
			func() float64 { q := stat(id); return float64(q.Waiting + q.InFlight) })); err != nil {
			return err
		}
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smppd_cluster_shared_queue_messages",
			Help: "Messages on the connector's shared queue (all nodes'), waiting or taken and not yet acknowledged, as read every second from the spill stream's per-subject counts.", ConstLabels: l},
			func() float64 { return float64(stat(id).Messages) })); err != nil {
			return err
		}
	}
	for _, k := range []struct {
		name, help string
		get        func(flow.SharedStats) float64
	}{
		{"smppd_cluster_pulled_skipped_total", "Messages taken from a shared queue and not sent: accepted or final already, or already queued on this node.", func(s flow.SharedStats) float64 { return float64(s.Skipped) }},
		{"smppd_cluster_pulled_not_applied_total", "Shared-queue batches given back because a message's record was not applied on this node within 2 s (offered again after 1 s).", func(s flow.SharedStats) float64 { return float64(s.NotYetApplied) }},
		{"smppd_cluster_pulled_possible_duplicates_total", "Messages of a redelivered shared-queue batch sent while still unsent here: the node that took the batch first may have sent them.", func(s flow.SharedStats) float64 { return float64(s.PossibleDuplicates) }},
		{"smppd_cluster_spilled_held_total", "Of the messages spilled, those a connector already held unsent when its upstream went down here (down past spill_held_after while another node had it up).", func(s flow.SharedStats) float64 { return float64(s.HeldSpilled) }},
		{"smppd_cluster_held_returned_total", "Messages this node had pulled from a shared queue and held unsent when its connector's upstream went down: given back to the queue.", func(s flow.SharedStats) float64 { return float64(s.HeldReturned) }},
	} {
		get := k.get
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: k.name, Help: k.help},
			func() float64 { return get(hub.SharedStats()) })); err != nil {
			return err
		}
	}
	return nil
}
