package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/smppout"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// An upstream's bind limit holds cluster-wide: cluster_binds = 4 with
// binds = 3 per node. Node 1 alone binds 3; node 2 joins and the two
// settle at 2 + 2 without the upstream ever seeing more than 4; node 2
// leaves and node 1 binds 3 again. Two cluster nodes on one embedded
// JetStream server, each with the connector built as cmd/smppd builds it.
func TestClusterBindsAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream")
	}
	up, err := smsctest.Start(smsctest.Options{SystemID: "acct", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	// Closed last: the connectors and nodes close first, by t.Cleanup,
	// even when the test fails.
	t.Cleanup(func() { _ = up.Close() })
	var most atomic.Int32 // the most binds the upstream held at once
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if n := int32(up.Bound()); n > most.Load() {
				most.Store(n)
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stopWatch); <-watched }()

	join := func(id int, urls []string) (*cluster.Node, func()) {
		o := cluster.Options{NodeID: id, Replicas: 1, JoinTimeout: 20 * time.Second, Heartbeat: 200 * time.Millisecond,
			Logger: zerolog.Nop(), URLs: urls}
		if urls == nil {
			o.Embedded = cluster.Embedded{Name: "t", Listen: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
				RouteListen: "127.0.0.1:0", StoreDir: t.TempDir()}
		}
		n, err := cluster.Join(o)
		if err != nil {
			t.Fatal(err)
		}
		leave := sync.OnceFunc(func() { _ = n.Close() }) // Close twice panics
		t.Cleanup(leave)
		return n, leave
	}
	stop := func(c connector.Connector) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	}
	connect := func(n *cluster.Node) connector.Connector {
		s := smppout.DefaultSettings()
		s.Host, s.Port, s.SystemID, s.Password = up.Host(), up.Port(), "acct", "pw"
		s.Binds, s.ClusterBinds = 3, 4
		s.EnquireLink = connector.Duration(200 * time.Millisecond)
		s.ReconnectMin, s.ReconnectMax = connector.Duration(10*time.Millisecond), connector.Duration(50*time.Millisecond)
		ids := storeIDs{bindShare: n.BindShare}
		b := connector.Build{Name: "up", Queue: 8, IDMap: mapIDs{}}
		share, name := ids.bindShare, "up"
		b.BindShare = func(limit, perBind int) int { return share(name, limit, perBind) }
		c, err := smppout.Kind.Build(&s, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(nopSink{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(c) }) // Stop is idempotent
		n.SetStatus(func() cluster.NodeStatus {
			return cluster.NodeStatus{Connectors: []cluster.ConnectorStatus{{Name: "up", Up: c.Up(), Binds: c.Stats().Binds}}}
		})
		return c
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(15 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s: upstream holds %d binds", what, up.Bound())
			}
		}
	}

	n1, _ := join(1, nil)
	c1 := connect(n1)
	wait("node 1 alone binds its 3", func() bool { return up.Bound() == 3 && c1.Stats().Binds == 3 })

	n2, leave2 := join(2, []string{n1.Conn().ConnectedUrl()})
	c2 := connect(n2)
	wait("2 + 2", func() bool { return c1.Stats().Binds == 2 && c2.Stats().Binds == 2 && up.Bound() == 4 })
	time.Sleep(time.Second) // settled: five heartbeats change nothing
	if b1, b2 := c1.Stats().Binds, c2.Stats().Binds; b1 != 2 || b2 != 2 || most.Load() > 4 {
		t.Fatalf("binds %d + %d, the upstream saw up to %d (limit 4)", b1, b2, most.Load())
	}

	stop(c2)
	leave2()
	wait("node 1 alone again", func() bool { return up.Bound() == 3 && c1.Stats().Binds == 3 })
	if m := most.Load(); m > 4 {
		t.Fatalf("the upstream held %d binds at once (limit 4)", m)
	}
}

// nopSink takes what a connector reports (nothing here).
type nopSink struct{}

func (nopSink) Accepted(*msg.Message, []byte)          {}
func (nopSink) Failed(*msg.Message, uint32, msg.State) {}
func (nopSink) Receipt(*msg.Receipt) error             { return nil }
func (nopSink) MO(*msg.Inbound) error                  { return nil }
func (nopSink) Sync() error                            { return nil }
