package main

import (
	"net"
	"strconv"

	"github.com/smppd/smppd/cluster"
)

// shareStatus makes a cluster node publish its sessions and queues with
// every heartbeat (cluster.NodeStatus), for GET /v1/cluster on any node;
// outside a cluster it does nothing.
func (d *daemon) shareStatus() {
	c, ok := d.store.(clusterStore)
	if !ok {
		return
	}
	smpp := net.JoinHostPort(d.cfg.Server.Bind, strconv.Itoa(d.cfg.Server.Port))
	admin := ""
	if d.cfg.Admin.Enabled {
		admin = net.JoinHostPort(d.cfg.Admin.Bind, strconv.Itoa(d.cfg.Admin.Port))
	}
	c.node.SetStatus(func() cluster.NodeStatus {
		s := d.nodeStatus(smpp, admin)
		s.Duplicates = d.duplicates(c)
		return s
	})
	c.node.SetDuplicates(func() cluster.Duplicates { return d.duplicates(c) })
}

// duplicates are this node's possible-duplicate counters (their /metrics
// names in cluster.Duplicates); the cluster adds TakeoverAlive.
func (d *daemon) duplicates(c clusterStore) cluster.Duplicates {
	j := c.Journal()
	return cluster.Duplicates{Redriven: d.hub.Stats().RedrivenDup, Pulled: d.hub.SharedStats().PossibleDuplicates,
		HeldRetaken: j.HeldRetaken, HeldClaimsLapsed: j.ClaimsLapsed, HeldClaimsUnkeyed: j.ClaimsUnkeyed,
		HeldTriedUnwritten: j.HeldUnmarked, CDR: j.FinalTwice}
}

// nodeStatus is this node's status now (once a heartbeat).
func (d *daemon) nodeStatus(smpp, admin string) cluster.NodeStatus {
	es := d.srv.Stats()
	s := cluster.NodeStatus{SMPP: smpp, Admin: admin, Sessions: int(es.Sessions), Bound: int(es.Bound),
		Callbacks: d.webhook.Pending()}
	for _, c := range d.hub.Connectors() {
		s.Queued += c.Stats.Queued
		sd := sharedDepth(d.store, c.ID)
		s.Connectors = append(s.Connectors, cluster.ConnectorStatus{Name: c.Name, Up: c.Up, Binds: c.Stats.Binds,
			Queued: c.Stats.Queued, Shared: sd.Messages, SharedBatches: sd.Batches})
	}
	return s
}
