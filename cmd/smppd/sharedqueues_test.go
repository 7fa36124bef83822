package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// gate is a loopback TCP forwarder to an upstream that the test opens and
// closes: while closed it drops every connection at once (an upstream
// this node cannot reach).
type gate struct {
	ln   net.Listener
	to   string
	open atomic.Bool
	mu   sync.Mutex
	cs   []net.Conn
}

func newGate(t *testing.T, to string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	g := &gate{ln: ln, to: to}
	go g.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		g.mu.Lock()
		for _, c := range g.cs {
			_ = c.Close()
		}
		g.mu.Unlock()
	})
	return g
}

func (g *gate) port() int { return g.ln.Addr().(*net.TCPAddr).Port }

func (g *gate) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		if !g.open.Load() {
			_ = c.Close()
			continue
		}
		u, err := net.Dial("tcp", g.to)
		if err != nil {
			_ = c.Close()
			continue
		}
		g.mu.Lock()
		g.cs = append(g.cs, c, u)
		g.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
		go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
	}
}

// clusterNodeConfig writes node id's config in dir: one smpp connector
// "up" to port, the cluster users, JetStream embedded on natsPort (node 1)
// or reached there (node 2), replicas 1.
func clusterNodeConfig(t *testing.T, dir string, id, natsPort, upPort int) string {
	t.Helper()
	users, err := os.ReadFile("../../configs/cluster/users.toml")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "users.toml"), users, 0o600))
	js := fmt.Sprintf("[cluster.embedded]\nname = \"t\"\nlisten = \"127.0.0.1:%d\"\nroute_listen = \"127.0.0.1:%d\"\n", natsPort, freePort(t))
	if id != 1 {
		js = fmt.Sprintf("nats_urls = [\"nats://127.0.0.1:%d\"]\n", natsPort)
	}
	conf := fmt.Sprintf(`[smpp-server]
id = "smppd"
bind = "127.0.0.1"
port = %d
users_file = "users.toml"

[storage]
dir = %q

[admin]
enabled = false

[http-api]
enabled = false

[cluster]
enabled = true
node_id = %d
replicas = 1
join_timeout = "20s"
%s
[[connector]]
name = "up"
type = "smpp"
queue = 1024

[connector.smpp]
host = "127.0.0.1"
port = %d
system_id = "acct"
password = "pw"
reconnect_min = "50ms"
reconnect_max = "200ms"

[[mt_route]]
name = "default"
kind = "default"
connectors = ["up"]
`, freePort(t), filepath.Join(dir, "var"), id, js, upPort)
	p := filepath.Join(dir, "smppd.toml")
	must(t, os.WriteFile(p, []byte(conf), 0o600))
	return p
}

// Issue 19's shared connector queues, two nodes on one JetStream: the
// upstream is reachable from node 2 only. Submits accepted on node 1 go
// to the connector's shared queue and node 2 sends them; every receipt
// reaches the ESME on node 1, exactly once, and the upstream sees each
// message once. Then node 1 reaches the upstream too: it sends its own
// again and spills nothing more.
func TestSharedQueueAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream, two daemons")
	}
	up, err := smsctest.Start(smsctest.Options{SystemID: "acct", Password: "pw",
		Default: smsctest.Action{Receipt: smsctest.Receipt{Send: true, Delay: 20 * time.Millisecond}}})
	must(t, err)
	defer up.Close()
	g := newGate(t, up.Addr()) // node 1's way to the upstream: closed for now
	natsPort := freePort(t)
	d1, _, _ := runConfig(t, clusterNodeConfig(t, t.TempDir(), 1, natsPort, g.port()))
	d2, _, _ := runConfig(t, clusterNodeConfig(t, t.TempDir(), 2, natsPort, up.Port()))

	c, err := smpptest.Dial(d1.srv.Addr().String())
	must(t, err)
	defer c.Close()
	if h, _, err := c.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind on node 1: %v %v", h.Status, err)
	}
	e := &liveESME{t: t, c: c, acked: map[string]string{}, receipts: map[string][]msg.State{}}
	// Node 1 spills once it has read node 2's status (a heartbeat): before,
	// its connector is down with nowhere to go, and what it accepts waits
	// in its own queue as on a single node.
	for end := time.Now().Add(15 * time.Second); !d1.hub.Spilling(0); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("node 1 never spilled")
		}
	}
	for i := range 200 {
		e.submit(fmt.Sprintf("4915%06d", i))
	}
	e.drain()
	if n := e.exactlyOnce("4915", msg.StateDelivered); n != 200 {
		t.Fatalf("%d acknowledged, want 200", n)
	}
	if got := up.SubmitCount(); got != 200 {
		t.Fatalf("the upstream saw %d submit_sm for 200 messages", got)
	}
	s1, s2 := d1.hub.SharedStats(), d2.hub.SharedStats()
	if s1.Spilled != 200 || s2.Pulled != 200 || s2.PossibleDuplicates != 0 {
		t.Fatalf("node 1 spilled %d, node 2 pulled %d (possible duplicates %d); want 200 and 200", s1.Spilled, s2.Pulled, s2.PossibleDuplicates)
	}
	if a := d1.hub.Connectors()[0].Stats.Accepted; a != 0 {
		t.Fatalf("node 1's own connector sent %d", a)
	}
	spillMsgs := func() uint64 {
		st, err := d1.store.(clusterStore).node.JetStream().Stream(t.Context(), cluster.SpillStream)
		must(t, err)
		info, err := st.Info(t.Context())
		must(t, err)
		return info.State.LastSeq
	}
	// One submit at a time (each answered after its commit): a batch
	// holds what the 5 ms linger caught, never more than one message each.
	batches := spillMsgs()
	t.Logf("200 spilled messages in %d JetStream messages", batches)
	if batches == 0 || batches > 200 {
		t.Fatalf("200 spilled messages in %d JetStream messages", batches)
	}

	// Node 1 reaches the upstream: it binds, stops spilling, and its own
	// messages go through its own connector.
	g.open.Store(true)
	for end := time.Now().Add(15 * time.Second); !d1.hub.CanPull(0); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("node 1's connector never came up")
		}
	}
	for i := range 100 {
		e.submit(fmt.Sprintf("4916%06d", i))
	}
	e.drain()
	if n := e.exactlyOnce("", msg.StateDelivered); n != 300 {
		t.Fatalf("%d acknowledged in all, want 300", n)
	}
	if s := d1.hub.SharedStats(); s.Spilled != 200 {
		t.Fatalf("node 1 spilled %d after its connector came up (200 before)", s.Spilled-200)
	}
	if a := d1.hub.Connectors()[0].Stats.Accepted; a != 100 {
		t.Fatalf("node 1's connector sent %d of its 100", a)
	}
	if got := up.SubmitCount(); got != 300 {
		t.Fatalf("the upstream saw %d submit_sm for 300 messages", got)
	}
	if n := spillMsgs(); n != batches {
		t.Fatalf("the normal path wrote %d messages to the shared queue", n-batches)
	}
}
