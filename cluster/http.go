package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Status is GET /v1/cluster's answer.
type Status struct {
	Node     int    `json:"node"`     // the node answering
	Server   string `json:"server"`   // its JetStream server's name
	Replicas int    `json:"replicas"` // of every stream and bucket
	// Nodes are the live nodes and those that left within the last hour
	// (alive false, as last seen), by id.
	Nodes []Member `json:"nodes"`
	// Totals add up the live nodes' statuses.
	Totals Totals `json:"totals"`
}

// Totals are the cluster's sessions and queues: the live nodes' sums.
type Totals struct {
	Live      int `json:"live"` // live nodes
	Sessions  int `json:"sessions"`
	Bound     int `json:"bound"`
	Queued    int `json:"queued"`
	Callbacks int `json:"callbacks"`
	// Connectors sum each connector's binds and queue over the live nodes
	// (up: on at least one), by name.
	Connectors []ConnectorStatus `json:"connectors"`
	// Duplicates add up the possible-duplicate counters of every node
	// run in DuplicatesBucket: the live ones' and those of runs ended
	// within a day, each as written within dupFlush of its last change.
	// Without the bucket (it cannot be read), those of every node listed,
	// live or departed (its last heartbeat's), and of the earlier runs
	// this node saw end.
	Duplicates Duplicates `json:"duplicates"`
}

// Handler serves GET /v1/cluster: the node answering, every node's key
// in the membership bucket with its status (a node that stopped
// refreshing it is gone within the lease, then shown as not alive) and
// the totals.
func (n *Node) Handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		ms, err := n.Members(ctx)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "cluster: " + err.Error()})
			return
		}
		st := Status{Node: n.o.NodeID, Server: n.serverName(), Replicas: n.o.Replicas, Totals: totals(ms)}
		st.Nodes = append(ms, n.seen.departed(ms, time.Now())...)
		st.Totals.Duplicates = duplicates(st.Nodes, n.seen.earlierRuns())
		if d, ok := n.runDuplicates(ctx); ok {
			st.Totals.Duplicates = d
		}
		slices.SortFunc(st.Nodes, func(a, b Member) int { return a.Node - b.Node })
		if st.Nodes == nil {
			st.Nodes = []Member{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	}
}

// totals adds up the live members' statuses.
func totals(live []Member) Totals {
	t := Totals{Live: len(live), Connectors: []ConnectorStatus{}}
	at := map[string]int{}
	for _, m := range live {
		s := m.Status
		if s == nil {
			continue
		}
		t.Sessions += s.Sessions
		t.Bound += s.Bound
		t.Queued += s.Queued
		t.Callbacks += s.Callbacks
		for _, c := range s.Connectors {
			i, ok := at[c.Name]
			if !ok {
				i = len(t.Connectors)
				at[c.Name] = i
				t.Connectors = append(t.Connectors, ConnectorStatus{Name: c.Name})
			}
			sum := &t.Connectors[i]
			sum.Up = sum.Up || c.Up
			sum.Binds += c.Binds
			sum.Queued += c.Queued
			sum.Shared = max(sum.Shared, c.Shared) // one queue, read by each node
			sum.SharedBatches = max(sum.SharedBatches, c.SharedBatches)
		}
	}
	slices.SortFunc(t.Connectors, func(a, b ConnectorStatus) int { return cmp.Compare(a.Name, b.Name) })
	return t
}

// duplicates adds up the nodes' possible-duplicate counters to earlier's.
func duplicates(nodes []Member, earlier Duplicates) Duplicates {
	d := earlier
	d.add(Duplicates{})
	for _, m := range nodes {
		if m.Status != nil {
			d.add(m.Status.Duplicates)
		}
	}
	return d
}
