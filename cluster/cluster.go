// Package cluster joins this smppd node to the cluster's NATS JetStream:
// it runs the embedded JetStream server when the config asks for one,
// connects, waits (bounded) for the JetStream meta leader, creates the
// streams and buckets the store and the membership use (idempotently, so
// every node may do it at every start), and holds this node's node_id in
// the membership bucket with a heartbeat, so a second process with the
// same id is refused. docs/CLUSTER.md and docs/adr/0004-cluster-jetstream.md
// describe the design; storage/jetstream is the store on top of it.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Options configure Join; cmd/smppd maps them from [cluster] and [storage].
type Options struct {
	// NodeID is this node's id (1..4095), unique among live nodes.
	NodeID int
	// URLs are an existing NATS cluster's client URLs; empty: Embedded.
	URLs []string
	// Embedded runs a JetStream server in this process (used when URLs is
	// empty).
	Embedded Embedded
	// Replicas of every stream and bucket.
	Replicas int
	// JoinTimeout bounds Join: the server's start, the meta leader, the
	// streams and this node's lease.
	JoinTimeout time.Duration
	// Heartbeat is how often the node refreshes its membership key
	// (default DefaultHeartbeat); a key not refreshed for
	// LeaseBeats × Heartbeat is gone, and its node_id free.
	Heartbeat time.Duration
	Logger    zerolog.Logger
}

// Embedded configures the in-process JetStream server.
type Embedded struct {
	Name        string // the NATS cluster name
	Listen      string // client host:port
	RouteListen string // route host:port
	Routes      []string
	StoreDir    string
	// RouteAdvertise is the route host:port the peers learn through
	// gossip (a NAT or proxy in between); "" = RouteListen.
	RouteAdvertise string
	// SyncAlways fsyncs every write before JetStream acknowledges it;
	// otherwise SyncInterval (0: JetStream's default, two minutes).
	SyncAlways   bool
	SyncInterval time.Duration
}

// Defaults of Options.
const (
	DefaultHeartbeat = time.Second
	// LeaseBeats heartbeats missed make a node's key expire: long enough
	// for a GC pause or a slow disk, short enough that a node restarted
	// after kill -9 rejoins within seconds.
	LeaseBeats = 4
)

// Node is this process's membership of the cluster.
type Node struct {
	o     Options
	lg    zerolog.Logger
	srv   *server.Server // nil with URLs
	nc    *nats.Conn
	js    jetstream.JetStream
	nodes jetstream.KeyValue
	lease *lease
	// closing silences the disconnect warning of our own Close.
	closing atomic.Bool
	// applied reports the store's applied journal sequence (SetApplied).
	applied atomic.Pointer[func() uint64]
	// status is this node's sessions and queues (SetStatus); seen the
	// members last read, for the departed ones GET /v1/cluster shows.
	status atomic.Pointer[func() NodeStatus]
	seen   seenNodes
	// aliveDup counts what take-overs of nodes seen back alive had queued
	// for later (WatchTakeOvers).
	aliveDup atomic.Uint64
	// dups is DuplicatesBucket; dupStop and dupDone stop SetDuplicates'
	// writer.
	dups             jetstream.KeyValue
	dupStop, dupDone chan struct{}
}

// ErrNodeIDTaken: another live node holds this node_id.
var ErrNodeIDTaken = errors.New("cluster: node_id held by a live node")

// Join starts the embedded server (if any), connects, waits for the
// JetStream meta leader, creates the streams and buckets and takes this
// node's lease, all within o.JoinTimeout. On an error nothing is left
// running.
func Join(o Options) (*Node, error) {
	if o.NodeID < 1 || o.NodeID > 4095 {
		return nil, fmt.Errorf("cluster: node_id %d out of range 1..4095", o.NodeID)
	}
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	if o.JoinTimeout <= 0 {
		o.JoinTimeout = 30 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.JoinTimeout)
	defer cancel()
	n := &Node{o: o, lg: o.Logger.With().Str("component", "cluster").Int("node", o.NodeID).Logger()}
	if err := n.join(ctx); err != nil {
		n.shutdown()
		return nil, err
	}
	n.lg.Info().Str("event", "cluster_joined").Str("server", n.serverName()).Int("replicas", o.Replicas).
		Msg("cluster: joined")
	return n, nil
}

// join is Join's work; on an error the caller shuts down what it started.
func (n *Node) join(ctx context.Context) (err error) {
	o := &n.o
	urls := o.URLs
	var inProcess []nats.Option
	if len(urls) == 0 {
		if n.srv, err = startEmbedded(o, n.lg); err != nil {
			return err
		}
		urls = []string{n.srv.ClientURL()}
		// Its own server through a pipe in memory, not loopback TCP: the
		// journal's publishes, their acknowledgements and the batches
		// consumed cost no system calls.
		inProcess = append(inProcess, nats.InProcessServer(n.srv))
	}
	n.nc, err = nats.Connect(joinURLs(urls), append(inProcess, nats.Name("smppd-"+strconv.Itoa(o.NodeID)),
		nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if !n.closing.Load() {
				n.lg.Warn().Err(err).Str("event", "nats_disconnected").Msg("cluster: disconnected from NATS")
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { n.lg.Info().Str("url", c.ConnectedUrl()).Msg("cluster: reconnected to NATS") }))...)
	if err != nil {
		return fmt.Errorf("cluster: connect %v: %w", urls, err)
	}
	if n.js, err = jetstream.New(n.nc); err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	if err = n.waitMetaLeader(ctx); err != nil {
		return err
	}
	if err = n.ensure(ctx); err != nil {
		return err
	}
	if err = n.openDuplicates(ctx); err != nil {
		return fmt.Errorf("cluster: bucket %s: %w", DuplicatesBucket, err)
	}
	if n.lease, err = takeLease(ctx, n); err == nil {
		_, _ = n.Members(ctx) // the live nodes for BindShare before the first heartbeat's read
	}
	return err
}

// waitMetaLeader polls JetStream's account info until the meta group has a
// leader (a quorum of servers routed to each other), or ctx ends.
func (n *Node) waitMetaLeader(ctx context.Context) error {
	var last error
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := n.js.AccountInfo(actx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: no JetStream meta leader within join_timeout %v (are a majority of the servers up and routed?): %w", n.o.JoinTimeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// JetStream returns the node's JetStream context (the store's).
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// Conn returns the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// ID returns this node's id.
func (n *Node) ID() int { return n.o.NodeID }

// Replicas returns the replica count of the streams and buckets.
func (n *Node) Replicas() int { return n.o.Replicas }

// serverName is the embedded server's name, or the connected server's.
func (n *Node) serverName() string {
	if n.srv != nil {
		return n.srv.Name()
	}
	if n.nc != nil {
		return n.nc.ConnectedServerName()
	}
	return ""
}

// Close gives up the lease (the node_id is free at once), closes the
// connection and stops the embedded server.
func (n *Node) Close() error {
	n.stopDuplicates()
	if n.lease != nil {
		n.lease.release()
	}
	n.shutdown()
	n.lg.Info().Str("event", "cluster_left").Msg("cluster: left")
	return nil
}

func (n *Node) shutdown() {
	n.closing.Store(true)
	if n.nc != nil {
		_ = n.nc.Drain()
		deadline := time.Now().Add(2 * time.Second)
		for !n.nc.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		n.nc.Close()
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
}

func joinURLs(urls []string) string {
	s := ""
	for i, u := range urls {
		if i > 0 {
			s += ","
		}
		s += u
	}
	return s
}
