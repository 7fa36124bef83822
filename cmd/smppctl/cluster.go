package main

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// clusterStatus is GET /v1/cluster's answer (cluster.Status), the fields
// printed.
type clusterStatus struct {
	Node     int    `json:"node"`
	Server   string `json:"server"`
	Replicas int    `json:"replicas"`
	Nodes    []struct {
		Node    int    `json:"node"`
		Server  string `json:"server"`
		Host    string `json:"host"`
		PID     int    `json:"pid"`
		Beat    int64  `json:"beat"`
		Applied uint64 `json:"applied"`
		Alive   bool   `json:"alive"`
		Status  *struct {
			SMPP       string            `json:"smpp"`
			Admin      string            `json:"admin"`
			Sessions   int               `json:"sessions"`
			Bound      int               `json:"bound"`
			Queued     int               `json:"queued"`
			Callbacks  int               `json:"callbacks"`
			Connectors []connectorOnNode `json:"connectors"`
			Duplicates duplicates        `json:"duplicates"`
		} `json:"status"`
	} `json:"nodes"`
	Totals struct {
		Live       int               `json:"live"`
		Sessions   int               `json:"sessions"`
		Bound      int               `json:"bound"`
		Queued     int               `json:"queued"`
		Callbacks  int               `json:"callbacks"`
		Connectors []connectorOnNode `json:"connectors"`
		Duplicates duplicates        `json:"duplicates"`
	} `json:"totals"`
}

// duplicates are a node's, or the cluster's, possible-duplicate counters
// (cluster.Duplicates).
type duplicates struct {
	Redriven           uint64 `json:"redriven"`
	Pulled             uint64 `json:"pulled"`
	HeldRetaken        uint64 `json:"held_retaken"`
	HeldClaimsLapsed   uint64 `json:"held_claims_lapsed"`
	HeldClaimsUnkeyed  uint64 `json:"held_claims_unkeyed"`
	HeldTriedUnwritten uint64 `json:"held_tried_unwritten"`
	TakeoverAlive      uint64 `json:"takeover_alive"`
	CDR                uint64 `json:"cdr"`
	Sum                uint64 `json:"sum"`
}

type connectorOnNode struct {
	Name   string `json:"name"`
	Up     bool   `json:"up"`
	Binds  int    `json:"binds"`
	Queued int    `json:"queued"`
	Shared int    `json:"shared"`
	// SharedBatches: the JetStream messages carrying Shared.
	SharedBatches int `json:"shared_batches"`
}

var clusterGroup = &group{
	name:    "cluster",
	summary: "show the cluster's nodes, their sessions and queues",
	cmds: []*command{{
		summary: "show every node of the cluster (GET /v1/cluster)",
		help: `Asks any node for the whole cluster: each node's id, SMPP and admin
addresses, whether it is alive, how long ago it last wrote its heartbeat,
the journal sequence its index holds (APPLIED), its SMPP sessions (bound
of open), its connectors' queued MT, its pending HTTP callbacks and its
possible duplicates (DUPLICATES: messages it sent upstream, and receipts
and MO it delivered, that may have gone twice, as its last heartbeat
counted them: a dead node's stay); the cluster's possible duplicates by
kind, over every node listed and the earlier runs the answering node saw
end (a node restarted), and the messages with two CDR lines; then
each connector's upstream binds and queue over the live nodes, the
messages on its shared queue (SHARED: spilled by nodes that could not
send them, waiting or being sent by another node) and the JetStream
batches carrying them (BATCHES: up to 256 messages each), with the binds
per node. A node that left is listed as not alive for an hour.
A node's figures are as of its last heartbeat (every second). Only a
cluster node answers (404 otherwise).

Examples:
  smppctl cluster
  smppctl --addr http://127.0.0.1:8791 cluster --json
`,
		run: func(e *env, _ []string, _ any) error {
			var st clusterStatus
			raw, err := e.c.get("GET", "/v1/cluster", nil, &st)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e, raw)
			}
			return printCluster(e, &st)
		},
	}},
}

func printCluster(e *env, st *clusterStatus) error {
	t := &st.Totals
	dd := &t.Duplicates
	if _, err := fmt.Fprintf(e.out, "answered by node %d (%s); %d live of %d nodes; replicas %d\n"+
		"sessions %d (%d bound), queued %d, callbacks pending %d\n"+
		"possible duplicates %d (redriven %d, pulled %d, held retaken %d, claims lapsed %d, unkeyed %d, "+
		"tried unwritten %d, take-over alive %d); messages with two CDR lines %d\n\n",
		st.Node, st.Server, t.Live, len(st.Nodes), st.Replicas, t.Sessions, t.Bound, t.Queued, t.Callbacks,
		dd.Sum, dd.Redriven, dd.Pulled, dd.HeldRetaken, dd.HeldClaimsLapsed, dd.HeldClaimsUnkeyed,
		dd.HeldTriedUnwritten, dd.TakeoverAlive, dd.CDR); err != nil {
		return err
	}
	rows := [][]string{{"NODE", "ALIVE", "SMPP", "ADMIN", "HOST", "PID", "LAST BEAT", "APPLIED", "SESSIONS", "BOUND", "QUEUED", "CALLBACKS", "DUPLICATES"}}
	perNode := map[string][]string{} // connector -> "node:binds"
	for _, n := range st.Nodes {
		r := []string{strconv.Itoa(n.Node), strconv.FormatBool(n.Alive), "-", "-", n.Host, strconv.Itoa(n.PID),
			ago(time.Unix(0, n.Beat)) + " ago", u64(n.Applied), "-", "-", "-", "-", "-"}
		if s := n.Status; s != nil {
			r[2], r[3] = dash(s.SMPP), dash(s.Admin)
			r[8], r[9], r[10], r[11] = strconv.Itoa(s.Sessions), strconv.Itoa(s.Bound), strconv.Itoa(s.Queued), strconv.Itoa(s.Callbacks)
			r[12] = u64(s.Duplicates.Sum)
			if n.Alive {
				for _, c := range s.Connectors {
					perNode[c.Name] = append(perNode[c.Name], strconv.Itoa(n.Node)+":"+strconv.Itoa(c.Binds))
				}
			}
		}
		rows = append(rows, r)
	}
	if err := table(e, rows); err != nil {
		return err
	}
	if len(t.Connectors) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(e.out); err != nil {
		return err
	}
	rows = [][]string{{"CONNECTOR", "UP", "BINDS", "QUEUED", "SHARED", "BATCHES", "BINDS PER NODE"}}
	for _, c := range t.Connectors {
		nodes := perNode[c.Name]
		sort.Strings(nodes)
		rows = append(rows, []string{c.Name, strconv.FormatBool(c.Up), strconv.Itoa(c.Binds), strconv.Itoa(c.Queued), strconv.Itoa(c.Shared),
			strconv.Itoa(c.SharedBatches), list(nodes)})
	}
	return table(e, rows)
}
