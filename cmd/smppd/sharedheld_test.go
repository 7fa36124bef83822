package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// cut closes g and every connection through it: the upstream lost to the
// node behind it.
func (g *gate) cut() {
	g.open.Store(false)
	g.mu.Lock()
	for _, c := range g.cs {
		_ = c.Close()
	}
	g.cs = nil
	g.mu.Unlock()
}

// heldAfter sets [cluster] spill_held_after in a clusterNodeConfig file.
func heldAfter(t *testing.T, path, d string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	s := strings.Replace(string(b), "replicas = 1\n", "replicas = 1\nspill_held_after = \""+d+"\"\n", 1)
	must(t, os.WriteFile(path, []byte(s), 0o600))
	return path
}

// Issue 19: messages node 1's connector already held when its upstream
// went down go to the shared queue once another node has that connector
// up and node 1's has been down for spill_held_after; node 2 sends each
// once, and each receipt reaches the ESME on node 1 once.
func TestSharedQueueHeldWhenUpstreamDrops(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream, two daemons")
	}
	up, err := smsctest.Start(smsctest.Options{SystemID: "acct", Password: "pw",
		Default: smsctest.Action{Receipt: smsctest.Receipt{Send: true, Delay: 20 * time.Millisecond}}})
	must(t, err)
	defer up.Close()
	g1, g2 := newGate(t, up.Addr()), newGate(t, up.Addr()) // each node's way to the upstream
	g1.open.Store(true)
	natsPort := freePort(t)
	d1, _, _ := runConfig(t, heldAfter(t, clusterNodeConfig(t, t.TempDir(), 1, natsPort, g1.port()), "1s"))
	d2, _, _ := runConfig(t, heldAfter(t, clusterNodeConfig(t, t.TempDir(), 2, natsPort, g2.port()), "1s"))
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitUntil("node 1's connector up", func() bool { return d1.hub.Connectors()[0].Up })

	// Node 1 loses its upstream while node 2 has none either: what it
	// accepts waits in its own connector, as on a single node.
	g1.cut()
	waitUntil("node 1's connector down", func() bool { return !d1.hub.Connectors()[0].Up })
	c, err := smpptest.Dial(d1.srv.Addr().String())
	must(t, err)
	defer c.Close()
	if h, _, err := c.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind on node 1: %v %v", h.Status, err)
	}
	e := &liveESME{t: t, c: c, acked: map[string]string{}, receipts: map[string][]msg.State{}}
	const total = 200
	for i := range total {
		e.submit(fmt.Sprintf("4917%06d", i))
	}
	if len(e.acked) != total {
		t.Fatalf("%d of %d acknowledged", len(e.acked), total)
	}
	// Queued is the connector's ring plus what its worker took: one read
	// while the worker moves a message from one to the other is one short.
	waitUntil("node 1's connector holding every message", func() bool { return d1.hub.Connectors()[0].Stats.Queued == total })
	if d1.hub.Spilling(0) {
		t.Fatal("node 1 spills while no node has the connector up")
	}

	// Node 2 reaches the upstream: node 1 spills, and after the grace
	// hands what its connector held to the shared queue.
	g2.open.Store(true)
	e.drain()
	if n := e.exactlyOnce("4917", msg.StateDelivered); n != total {
		t.Fatalf("%d acknowledged, want %d", n, total)
	}
	if got := up.SubmitCount(); got != total {
		t.Fatalf("the upstream saw %d submit_sm for %d messages", got, total)
	}
	s1, s2 := d1.hub.SharedStats(), d2.hub.SharedStats()
	if s1.HeldSpilled != total || s1.Spilled != total || s2.Pulled != total || s2.PossibleDuplicates != 0 {
		t.Fatalf("node 1 spilled %d (held %d), node 2 pulled %d (possible duplicates %d); want %d each, none",
			s1.Spilled, s1.HeldSpilled, s2.Pulled, s2.PossibleDuplicates, total)
	}
	st := d1.hub.Connectors()[0].Stats
	if st.HandedBack != total || st.Accepted != 0 || st.Queued != 0 {
		t.Fatalf("node 1's connector: handed back %d, sent %d, holds %d", st.HandedBack, st.Accepted, st.Queued)
	}
	waitUntil("the shared queue empty", func() bool {
		q := sharedDepth(d2.store, 0)
		return q.Messages == 0 && q.Batches == 0
	})
}
