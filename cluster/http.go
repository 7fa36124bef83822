package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Status is GET /v1/cluster's answer.
type Status struct {
	Node     int      `json:"node"`     // the node answering
	Server   string   `json:"server"`   // its JetStream server's name
	Replicas int      `json:"replicas"` // of every stream and bucket
	Nodes    []Member `json:"nodes"`    // the live nodes, by id
}

// Handler serves GET /v1/cluster: the node answering and the live nodes
// (each node's key in the membership bucket; a node that stopped
// refreshing it is gone within the lease).
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
		if ms == nil {
			ms = []Member{}
		}
		_ = json.NewEncoder(w).Encode(Status{Node: n.o.NodeID, Server: n.serverName(), Replicas: n.o.Replicas, Nodes: ms})
	}
}
