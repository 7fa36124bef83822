package config

import (
	"path/filepath"
	"time"
)

// Cluster is [cluster]: several smppd nodes sharing their messages, held
// items, upstream id maps and users through NATS JetStream
// (docs/CLUSTER.md). Off by default: a node without it runs on its own
// [storage].
type Cluster struct {
	// Enabled turns the node into a cluster member: its store is the
	// cluster's JetStream streams and buckets instead of [storage] kind.
	Enabled bool `toml:"enabled"`
	// NodeID names this node in the cluster (1..4095) and is the node
	// part of every message id it issues, so ids stay unique across
	// nodes; [smpp-server] node_id must be 0 or the same number.
	NodeID int `toml:"node_id"`
	// SpillHighWater is the percentage of a connector's queue past which
	// this node puts accepted messages on the connector's shared queue for
	// another node to send (docs/CLUSTER.md "Shared connector queues").
	SpillHighWater int `toml:"spill_high_water"`
	// SpillHeldAfter is how long a connector must have been down on this
	// node, spilling, before the messages it already held unsent go to its
	// shared queue too; 0 keeps them here until its upstream returns.
	SpillHeldAfter Duration `toml:"spill_held_after"`
	// NATSURLs are the client URLs of an existing NATS cluster with
	// JetStream; empty when [cluster.embedded] runs the server in-process.
	NATSURLs []string `toml:"nats_urls"`
	// Replicas is each stream's and bucket's replica count: an
	// acknowledgement waits for a majority of them.
	Replicas int `toml:"replicas"`
	// JoinTimeout bounds the wait at start for the JetStream meta leader
	// (a quorum of the servers) and the streams.
	JoinTimeout Duration `toml:"join_timeout"`
	// CompactAfter is how many journal stream sequences every live node
	// must have applied past the last compaction's cut before the lowest
	// live node compacts again (docs/CLUSTER.md "Journal compaction").
	CompactAfter int `toml:"compact_after"`
	// CompactCheck is how often the lowest live node looks whether to
	// compact.
	CompactCheck Duration `toml:"compact_check"`
	// Embedded runs a JetStream server inside this process, clustered
	// with the peers named in Routes.
	Embedded ClusterEmbedded `toml:"embedded"`
}

// ClusterEmbedded is [cluster.embedded].
type ClusterEmbedded struct {
	// Name is the NATS cluster's name, the same on every node.
	Name string `toml:"name"`
	// Listen is the client listen address (host:port) the node itself
	// and operators' tools connect to.
	Listen string `toml:"listen"`
	// RouteListen is the address (host:port) the peers' routes reach.
	RouteListen string `toml:"route_listen"`
	// RouteAdvertise is the host:port the peers are told to reach this
	// node's route at (a NAT or proxy in between); "" = RouteListen.
	RouteAdvertise string `toml:"route_advertise"`
	// Routes are the peers' route URLs (nats-route://host:port); this
	// node's own may be listed too (the server skips it), so every node
	// can share one list.
	Routes []string `toml:"routes"`
	// StoreDir is the JetStream store directory; "" means "jetstream"
	// under [storage] dir. Validate makes it absolute.
	StoreDir string `toml:"store_dir"`
}

// DefaultCluster is [cluster] when the file says nothing.
func DefaultCluster() Cluster {
	return Cluster{
		// Past 80 % the ring is the node's backlog, not its buffer.
		SpillHighWater: 80,
		// Past a reconnect or two (reconnect_min 1 s) and a heartbeat:
		// a blip keeps its messages, an outage moves them.
		SpillHeldAfter: Duration(5 * time.Second),
		Replicas:       3,
		// A restart of all three nodes elects a meta leader in seconds;
		// half a minute covers a slow disk replay without hiding a peer
		// that never comes.
		JoinTimeout: Duration(30 * time.Second),
		// A journal batch carries tens to hundreds of writes: 50,000
		// batches are minutes of full load, an hour or more of light
		// traffic, and a start replays at most about that many.
		CompactAfter: 50000,
		CompactCheck: Duration(30 * time.Second),
		Embedded: ClusterEmbedded{
			Name:        "smppd",
			Listen:      "127.0.0.1:4222",
			RouteListen: "127.0.0.1:6222",
		},
	}
}

// EmbeddedServer reports whether this node runs its JetStream server
// in-process (no nats_urls).
func (c *Cluster) EmbeddedServer() bool { return len(c.NATSURLs) == 0 }

// defaultStoreDir is the embedded store's directory under storageDir.
func defaultStoreDir(storageDir string) string { return filepath.Join(storageDir, "jetstream") }
