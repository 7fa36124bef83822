package config

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClusterEveryKey(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Cluster
	dir, _ := filepath.Abs("testdata/full")
	checks := []struct {
		name      string
		got, want any
	}{
		{"enabled", cl.Enabled, false},
		{"node_id", cl.NodeID, 7},
		{"nats_urls", strings.Join(cl.NATSURLs, ","), "nats://10.0.0.1:4222,tls://10.0.0.2:4222"},
		{"replicas", cl.Replicas, 1},
		{"join_timeout", cl.JoinTimeout.D(), 45 * time.Second},
		{"compact_after", cl.CompactAfter, 2000},
		{"compact_check", cl.CompactCheck.D(), 5 * time.Second},
		{"embedded.name", cl.Embedded.Name, "east"},
		{"embedded.listen", cl.Embedded.Listen, "127.0.0.1:4225"},
		{"embedded.route_listen", cl.Embedded.RouteListen, "127.0.0.1:6225"},
		{"embedded.route_advertise", cl.Embedded.RouteAdvertise, "192.0.2.7:16225"},
		{"embedded.routes", strings.Join(cl.Embedded.Routes, ","), "nats-route://127.0.0.1:6226"},
		{"embedded.store_dir", cl.Embedded.StoreDir, filepath.Join(dir, "js")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestClusterDefaults(t *testing.T) {
	path := writeConfig(t, map[string]string{"smppd.toml": "[storage]\ndir = \"data\"\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Cluster
	if cl.Enabled || cl.Replicas != 3 || cl.JoinTimeout.D() != 30*time.Second || cl.Embedded.Listen != "127.0.0.1:4222" ||
		cl.Embedded.RouteListen != "127.0.0.1:6222" || cl.Embedded.RouteAdvertise != "" || cl.Embedded.Name != "smppd" ||
		cl.CompactAfter != 50000 || cl.CompactCheck.D() != 30*time.Second {
		t.Fatalf("defaults: %+v", cl)
	}
	if want := filepath.Join(filepath.Dir(path), "data", "jetstream"); cl.Embedded.StoreDir != want {
		t.Fatalf("store_dir = %q, want %q", cl.Embedded.StoreDir, want)
	}
}

func TestClusterEmbeddedThreeNodes(t *testing.T) {
	path := writeConfig(t, map[string]string{"smppd.toml": `[cluster]
enabled = true
node_id = 2
[cluster.embedded]
listen = "127.0.0.1:4223"
route_listen = "127.0.0.1:6223"
routes = ["nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223", "nats-route://127.0.0.1:6224"]
`})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Cluster.Enabled || !c.Cluster.EmbeddedServer() || c.Cluster.NodeID != 2 {
		t.Fatalf("cluster: %+v", c.Cluster)
	}
}

func TestClusterRefused(t *testing.T) {
	const emb = "[cluster.embedded]\nroutes = [\"nats-route://127.0.0.1:6223\", \"nats-route://127.0.0.1:6224\"]\n"
	cases := []struct {
		name, body string
		want       []string
	}{
		{"node id 0", "[cluster]\nenabled = true\n" + emb, []string{"smppd.toml:1", "cluster.node_id: 0 is out of range 1..4095"}},
		{"node id high", "[cluster]\nenabled = true\nnode_id = 4096\n" + emb, []string{"cluster.node_id: 4096 is out of range"}},
		{"node id mismatch", "[smpp-server]\nnode_id = 3\n[cluster]\nenabled = true\nnode_id = 2\n" + emb,
			[]string{"smppd.toml:5", "cluster.node_id: 2 differs from smpp-server.node_id 3"}},
		{"neither", "[cluster]\nenabled = true\nnode_id = 1\n", []string{"cluster.enabled: needs nats_urls"}},
		{"both", "[cluster]\nenabled = true\nnode_id = 1\nnats_urls = [\"nats://127.0.0.1:4222\"]\n" + emb, []string{"smppd.toml:4", "cluster.nats_urls: set either"}},
		{"too few peers", "[cluster]\nenabled = true\nnode_id = 1\n[cluster.embedded]\nroutes = [\"nats-route://127.0.0.1:6222\", \"nats-route://127.0.0.1:6223\"]\n",
			[]string{"cluster.replicas: 3 replicas need at least 3 JetStream servers", "name 1 other"}},
		{"replicas", "[cluster]\nreplicas = 6\n", []string{"smppd.toml:2", "cluster.replicas: 6 is out of range 1..5"}},
		{"join timeout", "[cluster]\njoin_timeout = \"0s\"\n", []string{"cluster.join_timeout: 0s is out of range"}},
		{"compact after", "[cluster]\ncompact_after = 99\n", []string{"smppd.toml:2", "cluster.compact_after: 99 is out of range 100..100000000"}},
		{"compact check", "[cluster]\ncompact_check = \"20m\"\n", []string{"smppd.toml:2", "cluster.compact_check: 20m0s is out of range 1s..10m0s"}},
		{"bad url", "[cluster]\nnats_urls = [\"http://x:1\"]\n", []string{"cluster.nats_urls[0]: scheme must be one of"}},
		{"url without port", "[cluster]\nnats_urls = [\"nats://x\"]\n", []string{"cluster.nats_urls[0]: must name a host and a port"}},
		{"listen", "[cluster.embedded]\nlisten = \"4222\"\n", []string{"smppd.toml:2", "cluster.embedded.listen: must be host:port"}},
		{"route listen port", "[cluster.embedded]\nroute_listen = \"127.0.0.1:70000\"\n", []string{"cluster.embedded.route_listen: port \"70000\" is out of range"}},
		{"route advertise", "[cluster.embedded]\nroute_advertise = \"10.0.0.1\"\n", []string{"smppd.toml:2", "cluster.embedded.route_advertise: must be host:port"}},
		{"route advertise port", "[cluster.embedded]\nroute_advertise = \"10.0.0.1:0\"\n", []string{"cluster.embedded.route_advertise: port \"0\" is out of range"}},
		{"route", "[cluster.embedded]\nroutes = [\"nats://127.0.0.1\"]\n", []string{"cluster.embedded.routes[0]: must name a host and a port"}},
		{"name", "[cluster.embedded]\nname = \"a.b\"\n", []string{"cluster.embedded.name: must be a non-empty name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, map[string]string{"smppd.toml": tc.body}))
			wantErr(t, err, tc.want...)
		})
	}
}

// TestClusterExampleConfigs loads configs/cluster's three nodes: the port
// table of docs/CLUSTER.md, one node id each, one shared route list.
func TestClusterExampleConfigs(t *testing.T) {
	for n := 1; n <= 3; n++ {
		c, err := Load(filepath.Join("..", "configs", "cluster", "node"+string(rune('0'+n))+".toml"))
		if err != nil {
			t.Fatal(err)
		}
		i := n - 1
		got := []int{c.Server.Port, c.Server.TLS.Port, c.Admin.Port, c.HTTPAPI.Port, c.Cluster.NodeID}
		want := []int{2775 + 10*i, 3550 + 10*i, 8790 + i, 1401 + i, n}
		for k := range got {
			if got[k] != want[k] {
				t.Errorf("node%d: ports and id %v, want %v", n, got, want)
				break
			}
		}
		e := c.Cluster.Embedded
		if !c.Cluster.Enabled || c.Cluster.Replicas != 3 || e.Listen != "127.0.0.1:"+itoa(4222+i) ||
			e.RouteListen != "127.0.0.1:"+itoa(6222+i) || len(e.Routes) != 3 {
			t.Errorf("node%d: cluster %+v", n, c.Cluster)
		}
		if want := filepath.Join("configs", "cluster", "var", "node"+itoa(n), "jetstream"); !strings.HasSuffix(e.StoreDir, want) {
			t.Errorf("node%d: store_dir %q, want …/%s", n, e.StoreDir, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
