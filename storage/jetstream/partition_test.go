package jetstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/freeport"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// cutProxy forwards loopback TCP connections to a NATS route port until
// cut: then it drops every connection and refuses new ones.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	cutOff bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		off := p.cutOff
		p.mu.Unlock()
		if off {
			_ = c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.cutOff { // cut while this one was dialling
			p.mu.Unlock()
			_ = c.Close()
			_ = u.Close()
			continue
		}
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); _ = u.Close(); _ = c.Close() }()
		go func() { _, _ = io.Copy(c, u); _ = u.Close(); _ = c.Close() }()
	}
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// heal lets connections through again: the servers redial their routes.
func (p *cutProxy) heal() {
	p.mu.Lock()
	p.cutOff = false
	p.mu.Unlock()
}

func (p *cutProxy) url() *url.URL { return &url.URL{Scheme: "nats-route", Host: p.ln.Addr().String()} }

// A node cut off from the other two (every route of its JetStream server
// through a proxy that drops them) refuses new messages (ErrBacklog, which
// the SMPP side answers ESME_RMSGQFUL) instead of taking what it cannot
// replicate; what it took after the cut is not committed; the two others go
// on committing. Healed, node 3 catches up: its writes of the partition
// are acknowledged, it applies what node 1 wrote meanwhile up to the
// stream's last sequence, reads what node 1 put in a replicated bucket
// meanwhile, takes new messages again, and node 1 applies
// each of node 3's writes exactly once (a batch re-published after the
// heal is stored once). Before the acker gave up the batches published in
// the partition together (awaitAck), it waited ackTimeout for each in
// turn, 5 s per batch: 3 of 5 runs at load 15-22 (one under -race) had
// not caught up 60 s after the heal; 5 of 5 did in under 10 s since.
func TestPartitionedNodeRefusesNewMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("three clustered JetStream servers")
	}
	dir := t.TempDir()
	// Route listeners first: each server's routes go through a proxy per
	// peer; each advertises a dead address of its own (a port just
	// closed), so the route gossip cannot open a direct connection around
	// the proxies.
	var deadAddr [3]string
	for i := range deadAddr {
		dead, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		deadAddr[i] = dead.Addr().String()
		_ = dead.Close()
	}
	var routePorts [3]int
	ports, err := freeport.Take(len(routePorts))
	if err != nil {
		t.Fatal(err)
	}
	copy(routePorts[:], ports)
	var proxies [3][3]*cutProxy // [from][to]
	for i := range 3 {
		for j := range 3 {
			if i != j {
				proxies[i][j] = newCutProxy(t, fmt.Sprint("127.0.0.1:", routePorts[j]))
			}
		}
	}
	var srvs [3]*server.Server
	for i := range 3 {
		// A ring (1→2, 2→3, 3→1): each pair has one connection, solicited
		// by one side, so a healed pair redials once instead of two
		// connections racing to replace each other.
		routes := []*url.URL{proxies[i][(i+1)%3].url()}
		srv, err := server.NewServer(&server.Options{ServerName: fmt.Sprint("p", i+1), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprint("js", i+1)), NoSigs: true,
			Cluster: server.ClusterOpts{Name: "part", Host: "127.0.0.1", Port: routePorts[i], NoAdvertise: true, Advertise: deadAddr[i], PoolSize: -1},
			Routes:  routes})
		if err != nil {
			t.Fatal(err)
		}
		go srv.Start()
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats server did not start")
		}
		srvs[i] = srv
	}
	connect := func(i int) natsjs.JetStream {
		nc, err := nats.Connect("", nats.InProcessServer(srvs[i]))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := natsjs.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	js1, js3 := connect(0), connect(2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := retry(ctx, func(c context.Context) error {
		_, err := js1.CreateOrUpdateStream(c, natsjs.StreamConfig{Name: testStream, Subjects: []string{JournalFilter, "smppd.base.*"},
			Storage: natsjs.FileStorage, Replicas: 3, Duplicates: 2 * time.Minute})
		return err
	}); err != nil {
		t.Fatalf("the R3 stream: %v", err)
	}
	open := func(js natsjs.JetStream, node int) *Store {
		s, err := Open(Options{JS: js, Stream: testStream, Subject: fmt.Sprint("smppd.journal.", node), Node: node,
			Dir: filepath.Join(dir, fmt.Sprint("n", node)), TTL: time.Hour, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, c := open(js1, 1), open(js3, 3)
	seq := uint64(0)
	put := func(s *Store, node int) (msg.ID, error) {
		seq++
		id := msg.ID(seq<<12 | uint64(node))
		r := storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
		return id, s.PutMessage(&r, []byte("body"))
	}
	committed := func(s *Store, what string) {
		t.Helper()
		done := make(chan error, 1)
		w := s.Committer().Written()
		go func() { done <- s.Committer().WaitCommitted(w) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: not acknowledged within 60s", what)
		}
	}
	if _, err := put(c, 3); err != nil {
		t.Fatal(err)
	}
	committed(c, "node 3 before the cut")
	// A replicated bucket, as the cluster's users, bind counts and claims
	// are: node 3 must see what the majority wrote while it was cut off.
	var kv natsjs.KeyValue
	if err := retry(ctx, func(c context.Context) error {
		var err error
		kv, err = js1.CreateOrUpdateKeyValue(c, natsjs.KeyValueConfig{Bucket: "partition_kv", Replicas: 3, Storage: natsjs.FileStorage})
		if err == nil {
			_, err = kv.Put(c, "k", []byte("before"))
		}
		return err
	}); err != nil {
		t.Fatalf("the R3 bucket: %v", err)
	}

	for i := range 3 {
		for j := range 3 {
			if i != j && (i == 2 || j == 2) {
				proxies[i][j].cut()
			}
		}
	}
	cutAt := time.Now()
	before := c.Committer().Committed()
	var pending []msg.ID
	var refused error
	for time.Since(cutAt) < 20*time.Second {
		id, err := put(c, 3)
		if err != nil {
			refused = err
			break
		}
		pending = append(pending, id)
		time.Sleep(50 * time.Millisecond)
	}
	if !errors.Is(refused, ErrBacklog) {
		t.Fatalf("node 3 cut off for %v took %d messages and refused none (%v)", time.Since(cutAt), len(pending), refused)
	}
	t.Logf("node 3 cut off: took %d messages in %v (none acknowledged), then refused: %v",
		len(pending), time.Since(cutAt).Round(time.Millisecond), refused)
	if got := c.Committer().Committed(); got != before {
		t.Fatalf("node 3 committed %d → %d while cut off from a quorum", before, got)
	}
	if c.Journal().Refused == 0 {
		t.Fatal("the refusal is not counted")
	}
	// The majority side commits on.
	during, err := put(a, 1)
	if err != nil {
		t.Fatalf("node 1 refused while the other two hold a quorum: %v", err)
	}
	committed(a, "node 1 during the partition")
	if err := retry(ctx, func(c context.Context) error { _, err := kv.Put(c, "k", []byte("during")); return err }); err != nil {
		t.Fatalf("node 1's bucket write during the partition: %v", err)
	}

	for i := range 3 {
		for j := range 3 {
			if i != j && (i == 2 || j == 2) {
				proxies[i][j].heal()
			}
		}
	}
	healedAt := time.Now()
	committed(c, "node 3's writes of the partition after the heal")
	t.Logf("healed: node 3's %d waiting messages acknowledged %v after the heal", len(pending), time.Since(healedAt).Round(time.Millisecond))
	var r storage.Record
	for _, id := range pending {
		if err := a.Get(id, &r); err != nil {
			waitUntil(t, 30*time.Second, fmt.Sprintf("node 1 applies node 3's message %v", id), func() bool { return a.Get(id, &r) == nil })
		}
	}
	waitUntil(t, 30*time.Second, "node 3 applies node 1's message of the partition", func() bool { return c.Get(during, &r) == nil })
	waitUntil(t, 30*time.Second, "node 3 reads the bucket value written during the partition", func() bool {
		gc, gcancel := context.WithTimeout(ctx, time.Second)
		defer gcancel()
		kv3, err := js3.KeyValue(gc, "partition_kv")
		if err != nil {
			return false
		}
		e, err := kv3.Get(gc, "k")
		return err == nil && string(e.Value()) == "during"
	})
	info, err := js3.Stream(ctx, testStream)
	if err != nil {
		t.Fatal(err)
	}
	last := info.CachedInfo().State.LastSeq
	waitUntil(t, 30*time.Second, fmt.Sprintf("node 3 applies the stream up to %d", last), func() bool { return c.Applied() >= last })
	if _, err := put(c, 3); err != nil {
		t.Fatalf("node 3 refuses after the heal: %v", err)
	}
	committed(c, "node 3 after the heal")
	// Every write node 3 journaled reaches node 1 once: none lost, none
	// applied twice.
	want := c.Journal().Entries
	waitUntil(t, 30*time.Second, "node 1 applies node 3's writes", func() bool { return a.Journal().AppliedEntries >= want })
	time.Sleep(500 * time.Millisecond) // a late duplicate would show here
	if got := a.Journal().AppliedEntries; got != want {
		t.Fatalf("node 1 applied %d of node 3's entries, node 3 journaled %d", got, want)
	}
	t.Logf("caught up %v after the heal: node 1 applied node 3's %d entries once, node 3 applied up to sequence %d (%d batches re-published)",
		time.Since(healedAt).Round(time.Millisecond), want, c.Applied(), c.Journal().Retries)
}

// waitUntil polls cond every 20 ms for up to d and fails the test naming
// what did not happen.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}
