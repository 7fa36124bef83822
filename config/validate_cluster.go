package config

import (
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Bounds of [cluster]; see docs/CLUSTER.md.
const (
	// JetStream's largest useful replica count: a stream of more than 5
	// replicas is refused by the server.
	maxClusterReplicas = 5
	minJoinTimeout     = time.Second
	maxJoinTimeout     = 10 * time.Minute
	maxClusterNodeID   = 4095
	// A compaction costs two reads of the base: one every 100 batches at
	// the least; past 100 M a start's replay would take hours.
	minCompactAfter = 100
	maxCompactAfter = 100_000_000
	minCompactCheck = time.Second
	maxCompactCheck = 10 * time.Minute
	// Below a second a reconnect cannot finish; past an hour the held
	// messages have waited longer than most validity periods allow.
	minSpillHeldAfter = time.Second
	maxSpillHeldAfter = time.Hour
)

// cluster checks [cluster]. Ranges are checked whether or not it is
// enabled; the cross-key rules only when it is, so a config can switch it
// off without deleting its keys.
func (v *validator) cluster() {
	c := &v.c.Cluster
	const p = "cluster."
	v.intRange(p+"replicas", c.Replicas, 1, maxClusterReplicas)
	v.intRange(p+"spill_high_water", c.SpillHighWater, 1, 100)
	if d := c.SpillHeldAfter.D(); d != 0 && (d < minSpillHeldAfter || d > maxSpillHeldAfter) {
		v.fail(p+"spill_held_after", "%v is out of range: 0 (off) or %v..%v", c.SpillHeldAfter, minSpillHeldAfter, maxSpillHeldAfter)
	}
	if d := c.JoinTimeout.D(); d < minJoinTimeout || d > maxJoinTimeout {
		v.fail(p+"join_timeout", "%v is out of range %v..%v", c.JoinTimeout, minJoinTimeout, maxJoinTimeout)
	}
	v.intRange(p+"compact_after", c.CompactAfter, minCompactAfter, maxCompactAfter)
	if d := c.CompactCheck.D(); d < minCompactCheck || d > maxCompactCheck {
		v.fail(p+"compact_check", "%v is out of range %v..%v", c.CompactCheck, minCompactCheck, maxCompactCheck)
	}
	for i, u := range c.NATSURLs {
		if err := checkNATSURL(u, "nats", "tls", "ws", "wss"); err != "" {
			v.fail(p+"nats_urls["+strconv.Itoa(i)+"]", "%s", err)
		}
	}
	e := &c.Embedded
	const ep = p + "embedded."
	if e.Name == "" || strings.ContainsAny(e.Name, " \t\r\n.*>") {
		v.fail(ep+"name", "must be a non-empty name without spaces, '.', '*' or '>'")
	}
	v.hostPortKey(ep+"listen", e.Listen)
	v.hostPortKey(ep+"route_listen", e.RouteListen)
	if e.RouteAdvertise != "" {
		v.hostPortKey(ep+"route_advertise", e.RouteAdvertise)
	}
	for i, r := range e.Routes {
		if err := checkNATSURL(r, "nats-route", "nats"); err != "" {
			v.fail(ep+"routes["+strconv.Itoa(i)+"]", "%s", err)
		}
	}
	v.storeDir(e)
	if !c.Enabled {
		return
	}
	if c.NodeID < 1 || c.NodeID > maxClusterNodeID {
		v.fail(p+"node_id", "%d is out of range 1..%d (each node's own, also the node part of its message ids)", c.NodeID, maxClusterNodeID)
	} else if n := v.c.Server.NodeID; n != 0 && n != c.NodeID {
		v.fail(p+"node_id", "%d differs from smpp-server.node_id %d: message ids carry one node id (set smpp-server.node_id to 0 or the same number)", c.NodeID, n)
	}
	embedded := v.c.written(p + "embedded")
	switch {
	case len(c.NATSURLs) > 0 && embedded:
		v.fail(p+"nats_urls", "set either nats_urls (an existing NATS cluster) or [cluster.embedded], not both")
	case len(c.NATSURLs) == 0 && !embedded:
		v.fail(p+"enabled", "needs nats_urls (an existing NATS cluster) or [cluster.embedded] (a JetStream server in this process)")
	case embedded && c.Replicas > 1 && len(peerRoutes(e)) < c.Replicas-1:
		v.fail(p+"replicas", "%d replicas need at least %d JetStream servers, but [cluster.embedded] routes name %d other than this node's route_listen",
			c.Replicas, c.Replicas, len(peerRoutes(e)))
	}
}

// hostPortKey checks a host:port listen address.
func (v *validator) hostPortKey(key, hp string) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		v.fail(key, "must be host:port: %v", err)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.fail(key, "port %q is out of range 1..65535", port)
	}
	if host == "" {
		v.fail(key, "must name a host (0.0.0.0 for every address)")
	}
}

// storeDir resolves the embedded JetStream store directory: store_dir
// against the config's folder, else "jetstream" under [storage] dir.
func (v *validator) storeDir(e *ClusterEmbedded) {
	const key = "cluster.embedded.store_dir"
	if strings.ContainsRune(e.StoreDir, 0) {
		v.fail(key, "must not contain a NUL character")
		return
	}
	dir := e.StoreDir
	if dir == "" {
		base := v.c.Storage.Dir
		if base == "" || strings.ContainsRune(base, 0) {
			if v.c.Cluster.Enabled && v.c.Cluster.EmbeddedServer() {
				v.fail(key, "is empty and [storage] dir gives no folder to default to")
			}
			return
		}
		dir = defaultStoreDir(base)
	}
	abs, err := filepath.Abs(v.resolve(dir))
	if err != nil {
		v.fail(key, "%v", err)
		return
	}
	e.StoreDir = abs
}

// checkNATSURL returns why u is not a URL of one of schemes with a host
// and port, or "".
func checkNATSURL(u string, schemes ...string) string {
	p, err := url.Parse(u)
	if err != nil {
		return err.Error()
	}
	ok := false
	for _, s := range schemes {
		ok = ok || p.Scheme == s
	}
	if !ok {
		return "scheme must be one of " + strings.Join(schemes, ", ") + " (" + u + ")"
	}
	if p.Hostname() == "" || p.Port() == "" {
		return "must name a host and a port (" + u + ")"
	}
	if n, err := strconv.Atoi(p.Port()); err != nil || n < 1 || n > 65535 {
		return "port out of range 1..65535 (" + u + ")"
	}
	return ""
}

// peerRoutes returns e's routes other than its own route_listen.
func peerRoutes(e *ClusterEmbedded) []string {
	var out []string
	for _, r := range e.Routes {
		p, err := url.Parse(r)
		if err != nil || p.Host == e.RouteListen {
			continue
		}
		out = append(out, r)
	}
	return out
}
