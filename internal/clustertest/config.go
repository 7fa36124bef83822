// Package clustertest runs three smppd processes as a cluster on loopback
// (embedded JetStream, free ports) and checks issue 19's cluster
// guarantees from the ESMEs' side: receipts and MO reach a receiver bound
// on another node than the one that produced them, and a node killed with
// SIGKILL loses nothing it acknowledged. Its test (make cluster-test) is
// //go:build linux && !race.
package clustertest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/internal/proctest"
)

// The demo cluster's account (configs/cluster/users.toml) the test binds
// as: no limits, receipts on, every MO routed to it.
const (
	user     = "demo"
	password = "demopass"
	source   = "4917000"
	// limited is the demo's account with limits; the test gives it
	// max_binds = limitedBinds for the cluster-wide bind limit.
	limited      = "demo2"
	limitedPass  = "demopas2"
	limitedBinds = 2
)

// nodeConfig is one node's written configuration.
type nodeConfig struct {
	id                    int
	path, dir             string
	smpp, admin, natsPort int
	route                 int
	conf                  map[string]any // as written to path
}

// rewrite applies edit to the node's configuration and writes it again,
// for its next start.
func (n *nodeConfig) rewrite(edit func(conf map[string]any)) error {
	edit(n.conf)
	return writeTOML(n.path, n.conf)
}

// writeConfigs derives node1..3's configuration from configs/cluster's,
// on free loopback ports (never the demo's, which a developer's own
// cluster may hold), data under work/nodeN, JSON logs on standard error,
// the admin API without a token, the HTTP API off; tweak, when not nil,
// edits each node's configuration last.
func writeConfigs(configDir, work string, tweak func(id int, conf map[string]any)) ([]*nodeConfig, error) {
	ports, err := proctest.FreePorts(12)
	if err != nil {
		return nil, err
	}
	nodes := make([]*nodeConfig, 3)
	var routes []string
	for i := range nodes {
		n := &nodeConfig{id: i + 1, dir: filepath.Join(work, fmt.Sprintf("node%d", i+1)),
			smpp: ports[4*i], admin: ports[4*i+1], natsPort: ports[4*i+2], route: ports[4*i+3]}
		n.path = filepath.Join(n.dir, "smppd.toml")
		nodes[i] = n
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", n.route))
	}
	users := filepath.Join(work, "users.toml")
	if err := writeUsers(filepath.Join(configDir, "users.toml"), users); err != nil {
		return nil, err
	}
	for _, n := range nodes {
		var conf map[string]any
		if _, err := toml.DecodeFile(filepath.Join(configDir, fmt.Sprintf("node%d.toml", n.id)), &conf); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(n.dir, 0o700); err != nil {
			return nil, err
		}
		srv := proctest.Table(conf, "smpp-server")
		srv["bind"], srv["port"] = "127.0.0.1", n.smpp
		srv["log_file"], srv["log_format"], srv["log_level"] = "", "json", "info"
		srv["shutdown_grace"], srv["users_file"] = "2s", users
		proctest.Table(srv, "tls")["enabled"] = false
		adm := proctest.Table(conf, "admin")
		adm["enabled"], adm["bind"], adm["port"], adm["token"] = true, "127.0.0.1", n.admin, ""
		proctest.Table(conf, "http-api")["enabled"] = false
		proctest.Table(conf, "storage")["dir"] = filepath.Join(n.dir, "var")
		for _, r := range routeList(conf, "mt_route") {
			r["rate"] = creditRate
		}
		cl := proctest.Table(conf, "cluster")
		cl["node_id"] = n.id
		emb := proctest.Table(cl, "embedded")
		emb["listen"] = fmt.Sprintf("127.0.0.1:%d", n.natsPort)
		emb["route_listen"] = fmt.Sprintf("127.0.0.1:%d", n.route)
		emb["routes"] = routes
		if tweak != nil {
			tweak(n.id, conf)
		}
		n.conf = conf
		if err := writeTOML(n.path, conf); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// writeUsers copies the cluster's users file with limited's max_binds
// set to limitedBinds.
func writeUsers(from, to string) error {
	var users map[string]any
	if _, err := toml.DecodeFile(from, &users); err != nil {
		return err
	}
	list, _ := users["user"].([]map[string]any)
	found := false
	for _, u := range list {
		if u["system_id"] == limited {
			u["max_binds"], found = limitedBinds, true
		}
	}
	if !found {
		return fmt.Errorf("%s has no user %s", from, limited)
	}
	return writeTOML(to, users)
}

// creditRate is the MT routes' rate per part: users with an unlimited
// balance pay nothing; testCredit's balance of 1 pays for 100 parts.
const creditRate = 0.01

// routeList returns m's array of tables name ([[mt_route]]).
func routeList(m map[string]any, name string) []map[string]any {
	l, _ := m[name].([]map[string]any)
	return l
}

func writeTOML(path string, v any) error {
	return proctest.WriteTOML(path, "Written by internal/clustertest from configs/cluster.", v)
}
