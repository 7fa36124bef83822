package main

import (
	"context"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/jetstream"
)

// clusterStore is the store of a cluster node: the JetStream store, and
// the membership it needs, left after the store's last write.
type clusterStore struct {
	*jetstream.Store
	node   *cluster.Node
	onHeld *atomic.Pointer[func(systemID string)] // set once the delivery side exists
	binds  *cluster.Binds                         // bind counts per user, cluster-wide
	shared *sharedState                           // users, balances and quotas (shareCluster)
	// compactAfter and compactCheck are [cluster] compact_after and
	// compact_check (cluster.RunCompaction).
	compactAfter uint64
	compactCheck time.Duration
}

// heldElsewhere points the store's OnHeld at f (delivery's HeldElsewhere):
// an item another node held for a user bound here is sent at once.
func heldElsewhere(st storage.Store, f func(systemID string)) {
	if c, ok := st.(clusterStore); ok {
		c.onHeld.Store(&f)
	}
}

// Close closes the store (waiting for the journal's acknowledgements),
// then leaves the cluster (the node_id is free at once).
func (c clusterStore) Close() error {
	c.shared.close() // unspent credit slices back to their pools
	c.binds.Close()
	err := c.Store.Close()
	if cerr := c.node.Close(); err == nil {
		err = cerr
	}
	return err
}

// openClusterStore joins the cluster ([cluster]) and opens the JetStream
// store on it; the local index goes under [storage] dir.
func openClusterStore(cfg *config.Config, held storage.HeldLimit, log zerolog.Logger) (storage.Store, error) {
	c := &cfg.Cluster
	o := cluster.Options{NodeID: c.NodeID, URLs: c.NATSURLs, Replicas: c.Replicas, JoinTimeout: c.JoinTimeout.D(), Logger: log}
	if c.EmbeddedServer() {
		e := &c.Embedded
		o.Embedded = cluster.Embedded{Name: e.Name, Listen: e.Listen, RouteListen: e.RouteListen, RouteAdvertise: e.RouteAdvertise, Routes: e.Routes, StoreDir: e.StoreDir}
		switch cfg.Storage.Sync {
		case config.SyncAlways:
			o.Embedded.SyncAlways = true
		case config.SyncInterval:
			o.Embedded.SyncInterval = cfg.Storage.SyncInterval.D()
		}
	}
	node, err := cluster.Join(o)
	if err != nil {
		return nil, err
	}
	onHeld := new(atomic.Pointer[func(string)])
	st, err := jetstream.Open(jetstream.Options{
		OnHeld: func(systemID string) {
			if f := onHeld.Load(); f != nil {
				(*f)(systemID)
			}
		},
		JS: node.JetStream(), Stream: cluster.JournalStream, Subject: cluster.JournalSubject(c.NodeID), Node: c.NodeID,
		Dir: filepath.Join(cfg.Storage.Dir, "cluster-index"), TTL: cfg.Storage.MessageTTL.D(),
		MaxHeld: cfg.Delivery.MaxHeld, HeldShare: held, ReplayTimeout: max(c.JoinTimeout.D(), 5*time.Minute), Logger: log,
		ClaimHeld: true, // one node delivers a held item at a time
	})
	if err != nil {
		_ = node.Close()
		return nil, err
	}
	node.SetApplied(st.Applied) // the heartbeat tells the compacting node how far this index is
	binds, err := node.StartBinds()
	if err != nil {
		_ = st.Close()
		_ = node.Close()
		return nil, err
	}
	return clusterStore{Store: st, node: node, onHeld: onHeld, binds: binds, shared: &sharedState{},
		compactAfter: uint64(c.CompactAfter), compactCheck: c.CompactCheck.D()}, nil
}

// clusterHandler is GET /v1/cluster's handler, nil when the node is not
// in a cluster.
func clusterHandler(st storage.Store) http.HandlerFunc {
	if c, ok := st.(clusterStore); ok {
		return c.node.Handler()
	}
	return nil
}

// idNode is the node part of the message ids: [cluster] node_id in a
// cluster (config checks [smpp-server] node_id is 0 or the same).
func idNode(cfg *config.Config) int {
	if cfg.Cluster.Enabled {
		return cfg.Cluster.NodeID
	}
	return cfg.Server.NodeID
}

// startTakeover makes this node take over the unsent messages of a node
// whose lease expired (cluster.WatchDeparted: the lowest live node, after
// cluster.TakeoverGrace) and, as the lowest live node, compact the journal
// (cluster.RunCompaction); the returned func stops both. wh takes over
// the departed node's pending HTTP callbacks. Outside a cluster
// it does nothing.
func startTakeover(st storage.Store, hub *flow.Hub, wh *webhook.Service) func() {
	c, ok := st.(clusterStore)
	if !ok {
		return func() {}
	}
	if wh != nil {
		// Callbacks an earlier build held under the one shared queue: the
		// first node to lease each sends it (logs event=webhook_adopt_shared).
		_, _ = wh.AdoptShared()
	}
	// The nodes that left work in the replayed journal: one that departed
	// before this node started is taken over as well.
	absent := c.Store.Owners()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		c.node.WatchTakeOvers(cluster.TakeoverGrace, absent, stop, func(node int) cluster.Deferred {
			if a := c.shared.acc.Load(); a != nil {
				a.Reclaim(node) // its unspent credit slices; logs event=credit_reclaimed
			}
			rep, _ := hub.TakeOverDeferred(nodeRecords{st: c.Store, node: node}) // logs its outcome
			d := rep.Deferred
			if wh != nil {
				_, _ = wh.TakeOver(node) // its pending HTTP callbacks; logs event=webhook_takeover
			}
			ids := make([]string, len(d.IDs))
			for i, id := range d.IDs {
				ids[i] = id.String()
			}
			return cluster.Deferred{N: d.N, IDs: ids}
		})
	}()
	compacted := make(chan struct{})
	go func() {
		defer close(compacted)
		c.node.RunCompaction(c.compactCheck, c.compactAfter, cluster.CompactMaxAge, stop,
			func(ctx context.Context, cut uint64) error { _, err := c.Store.Compact(ctx, cut); return err })
	}()
	return func() {
		close(stop)
		<-done
		<-compacted
	}
}

// nodeRecords hands out one departed node's records (flow.Recoverer).
type nodeRecords struct {
	st   *jetstream.Store
	node int
}

func (r nodeRecords) Recover(fn func(r *storage.Record, m []byte) error) error {
	return r.st.RecoverNode(r.node, fn)
}

// registerCluster exports a cluster node's journal counters (jetstream
// Store.Journal); outside a cluster nothing.
func registerCluster(reg prometheus.Registerer, st storage.Store) error {
	c, ok := st.(clusterStore)
	if !ok {
		return nil
	}
	type js = jetstream.JournalStats
	counters := []struct {
		name, help string
		get        func(js) float64
	}{
		{"smppd_cluster_journal_batches_total", "Journal batches this node published to JetStream (one JetStream operation each).", func(j js) float64 { return float64(j.Batches) }},
		{"smppd_cluster_journal_entries_total", "Store writes this node appended to its journal batches.", func(j js) float64 { return float64(j.Entries) }},
		{"smppd_cluster_journal_retries_total", "Journal batches published again after a failed or lost acknowledgement.", func(j js) float64 { return float64(j.Retries) }},
		{"smppd_cluster_journal_refused_total", "Writes refused because the unacknowledged journal passed its bound (submits answered ESME_RMSGQFUL).", func(j js) float64 { return float64(j.Refused) }},
		{"smppd_cluster_journal_applied_batches_total", "Journal batches applied to this node's index: other nodes', and its own replayed at start.", func(j js) float64 { return float64(j.Applied) }},
		{"smppd_cluster_journal_applied_entries_total", "Journal entries applied to this node's index: other nodes', and its own replayed at start.", func(j js) float64 { return float64(j.AppliedEntries) }},
		{"smppd_cluster_journal_bytes_total", "Bytes of the journal batches this node published, before compression.", func(j js) float64 { return float64(j.RawBytes) }},
		{"smppd_cluster_journal_published_bytes_total", "Bytes this node published to JetStream for its journal batches (S2-compressed where that saves an eighth; retries included).", func(j js) float64 { return float64(j.SentBytes) }},
		{"smppd_cluster_journal_compactions_total", "Journal compactions this node made (a new base; the batches before its cut purged).", func(j js) float64 { return float64(j.Compactions) }},
		{"smppd_cluster_held_claims_won_total", "Held-item leases whose cluster-wide claim this node won (it delivers the item).", func(j js) float64 { return float64(j.ClaimsWon) }},
		{"smppd_cluster_held_claim_batches_total", "Held-item leases whose claims went to JetStream as one atomic batch (one acknowledgement for all).", func(j js) float64 { return float64(j.ClaimBatches) }},
		{"smppd_cluster_held_claim_batches_refused_total", "Claim batches refused whole (one item claimed by another node, or atomic batches off), then claimed one by one.", func(j js) float64 { return float64(j.ClaimBatchesRefused) }},
		{"smppd_cluster_held_claims_unkeyed_total", "Held-item leases of items without a cluster key, delivered without a claim (each may be delivered twice); 0 unless a defect.", func(j js) float64 { return float64(j.ClaimsUnkeyed) }},
		{"smppd_cluster_held_claims_lost_total", "Held-item leases given up because another node held the item's claim (or the claim was not acknowledged in 2 s).", func(j js) float64 { return float64(j.ClaimsLost) }},
		{"smppd_cluster_held_claims_lapsed_total", "This node's held-item claims that lapsed while it delivered the item or before its ack was in the journal (refresh refused, or unacknowledged past the claim's 10 s TTL): each item possibly delivered twice (event=held_claim_lost).", func(j js) float64 { return float64(j.ClaimsLapsed) }},
		{"smppd_cluster_held_retaken_total", "Held items this node leased after their earlier deliverer (producer or claim winner) stayed silent past its 10 s lease: each possibly delivered twice (event=held_retaken).", func(j js) float64 { return float64(j.HeldRetaken) }},
		{"smppd_cluster_held_tried_unwritten_total", "Held items this node delivered before the journal acknowledged their delivery marker (2 s): should it die before the marker is written, another node's delivery of them is counted nowhere (event=held_tried_unwritten).", func(j js) float64 { return float64(j.HeldUnmarked) }},
		{"smppd_cluster_cdr_possible_duplicates_total", "Final states another node recorded for messages already final here: each such message has a CDR line on two nodes. Every node counts it: read one node, do not sum (event=cdr_possible_duplicate).", func(j js) float64 { return float64(j.FinalTwice) }},
	}
	for _, k := range counters {
		get := k.get
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: k.name, Help: k.help},
			func() float64 { return get(c.Journal()) })); err != nil {
			return err
		}
	}
	if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "smppd_cluster_takeover_alive_possible_duplicates_total",
		Help: "Scheduled messages and decided receipts this node's take-overs queued for later whose departed node came back from the same run (cut off, not dead): it sends them too (event=takeover_node_alive)."},
		func() float64 { return float64(c.node.TakeOverAliveDuplicates()) })); err != nil {
		return err
	}
	type as = cluster.AccountsStats
	credit := []struct {
		name, help string
		get        func(as) float64
	}{
		{"smppd_cluster_credit_borrows_total", "Credit slices this node borrowed from balance and quota pools.", func(a as) float64 { return float64(a.Borrows) }},
		{"smppd_cluster_credit_returns_total", "Unspent credit slices this node gave back to their pools (idle, or at a clean stop).", func(a as) float64 { return float64(a.Returns) }},
		{"smppd_cluster_credit_reclaimed_total", "Departed nodes' unspent credit slices this node moved back to their pools.", func(a as) float64 { return float64(a.Reclaimed) }},
		{"smppd_cluster_credit_voided_total", "This node's credit slices dropped: the balance was set, or another node reclaimed them.", func(a as) float64 { return float64(a.Voided) }},
	}
	for _, k := range credit {
		get := k.get
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: k.name, Help: k.help},
			func() float64 {
				if a := c.shared.acc.Load(); a != nil {
					return get(a.Stats())
				}
				return 0
			})); err != nil {
			return err
		}
	}
	gauges := []struct {
		name, help string
		get        func(js) float64
	}{
		{"smppd_cluster_held_own", "Held receipts and MO this node admitted and not yet acknowledged: what [delivery] max_held bounds.", func(j js) float64 { return float64(j.HeldOwn) }},
		{"smppd_cluster_held_others", "Other nodes' held receipts and MO this node's index holds (each node's bounded by its max_held; never refused here).", func(j js) float64 { return float64(j.HeldOthers) }},
	}
	for _, k := range gauges {
		get := k.get
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: k.name, Help: k.help},
			func() float64 { return get(c.Journal()) })); err != nil {
			return err
		}
	}
	return reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smppd_cluster_journal_pending_bytes",
		Help: "Journal bytes appended and not yet acknowledged by JetStream."},
		func() float64 { return float64(c.Journal().Pending) }))
}
