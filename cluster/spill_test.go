package cluster

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// oneNode joins a one-server cluster (replicas 1) on a free loopback port.
func oneNode(t *testing.T) *Node {
	t.Helper()
	ports := freePorts(t, 1)
	n, err := Join(Options{NodeID: 1, Replicas: 1, JoinTimeout: 20 * time.Second, Logger: testLogger(),
		Embedded: Embedded{Name: "t", Listen: "127.0.0.1:" + strconv.Itoa(ports[0]), RouteListen: "127.0.0.1:0",
			StoreDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// puller is a test side of QueuesOptions: what it was handed, and how it
// settles each item.
type puller struct {
	ready  atomic.Bool
	mu     sync.Mutex
	got    map[uint64]int // item -> times handed over
	redo   func(item uint64, redelivered bool) bool
	hold   bool // keep every batch unsettled (a puller that dies)
	stored atomic.Int64
}

func newPuller() *puller { return &puller{got: map[uint64]int{}} }

func (p *puller) options(conns int) QueuesOptions {
	return QueuesOptions{Connectors: conns, Ready: func(int) bool { return p.ready.Load() },
		Pulled: func(_ int, item []byte, b *Batch, redelivered bool) {
			v := binary.BigEndian.Uint64(item)
			p.mu.Lock()
			p.got[v]++
			hold := p.hold
			p.mu.Unlock()
			if hold {
				return
			}
			b.Done(p.redo != nil && p.redo(v, redelivered))
		},
		Stored:  func(_ int, items [][]byte) { p.stored.Add(int64(len(items))) },
		AckWait: 2 * time.Second, Logger: testLogger()}
}

func (p *puller) count() (distinct, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.got {
		total += n
	}
	return len(p.got), total
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func item(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// TestSharedQueueSpillAndPull: a node that cannot send spills 1,000 items
// of connector 1 in batches (not one JetStream message each); another
// node whose connector is ready pulls every one exactly once and
// acknowledges them, and the queue is left empty. Connector 0's queue is
// untouched.
func TestSharedQueueSpillAndPull(t *testing.T) {
	n := oneNode(t)
	spiller, taker := newPuller(), newPuller()
	q1, err := n.StartQueues(spiller.options(2))
	if err != nil {
		t.Fatal(err)
	}
	defer q1.Close()
	const total = 1000
	for i := range total {
		if !q1.Spill(1, item(uint64(i))) {
			t.Fatalf("spill %d refused", i)
		}
	}
	waitFor(t, 10*time.Second, "the spilled items stored", func() bool { return spiller.stored.Load() == total })
	q2, err := n.StartQueues(taker.options(2))
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	taker.ready.Store(true)
	waitFor(t, 10*time.Second, "every item pulled", func() bool { d, _ := taker.count(); return d == total })
	waitFor(t, 5*time.Second, "the queue empty", func() bool {
		s := q2.Stats(1)
		return s.Waiting == 0 && s.InFlight == 0 && s.Pulled == total
	})
	if d, all := taker.count(); d != total || all != total {
		t.Fatalf("pulled %d distinct, %d in all, want %d once each", d, all, total)
	}
	if d, _ := spiller.count(); d != 0 {
		t.Fatalf("the spilling node (not ready) pulled %d", d)
	}
	s1 := q1.Stats(1)
	if s1.Spilled != total {
		t.Fatalf("spilled %d, want %d", s1.Spilled, total)
	}
	st, err := n.js.Stream(t.Context(), SpillStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Work-queue retention: acknowledged batches are gone.
	if info.State.Msgs != 0 {
		t.Fatalf("%d messages left on the stream", info.State.Msgs)
	}
	// Batches: at most ceil(1000/256) + a few partial ones from the linger, far from 1,000.
	if info.State.LastSeq > 20 {
		t.Fatalf("%d JetStream messages for %d items: not batched", info.State.LastSeq, total)
	}
	t.Logf("%d items in %d JetStream messages", total, info.State.LastSeq)
	if s := q2.Stats(0); s.Pulled != 0 || s.Spilled != 0 {
		t.Fatalf("connector 0: %+v", s)
	}
}

// TestSharedQueueGiveBackAndDeadPuller: a batch given back (Done(true):
// its node stopped holding an item) comes again, marked redelivered; a
// batch whose puller holds it without settling (dead) goes to another
// node after the ack wait.
func TestSharedQueueGiveBackAndDeadPuller(t *testing.T) {
	n := oneNode(t)
	a := newPuller()
	first := map[uint64]bool{}
	var mu sync.Mutex
	a.redo = func(v uint64, redelivered bool) bool {
		mu.Lock()
		defer mu.Unlock()
		if !first[v] {
			first[v] = true
			return !redelivered && v == 3 // give item 3 back once
		}
		return false
	}
	q, err := n.StartQueues(a.options(1))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for i := range 10 {
		q.Spill(0, item(uint64(i)))
	}
	waitFor(t, 10*time.Second, "stored", func() bool { return a.stored.Load() == 10 })
	a.ready.Store(true)
	waitFor(t, 10*time.Second, "the given-back batch again", func() bool { return q.Stats(0).Redelivered > 0 })
	waitFor(t, 5*time.Second, "the queue empty", func() bool { s := q.Stats(0); return s.Waiting == 0 && s.InFlight == 0 })
	a.mu.Lock()
	if a.got[3] != 2 || a.got[4] != 2 {
		t.Fatalf("item 3 handed %d times, 4 %d times: want the whole batch twice", a.got[3], a.got[4])
	}
	a.mu.Unlock()

	// A dead puller: it takes the next batch and never settles it.
	dead, live := newPuller(), newPuller()
	dead.hold = true
	qd, err := n.StartQueues(dead.options(1))
	if err != nil {
		t.Fatal(err)
	}
	defer qd.Close()
	q.StopPulling()
	for i := 100; i < 110; i++ {
		q.Spill(0, item(uint64(i)))
	}
	dead.ready.Store(true)
	waitFor(t, 10*time.Second, "the dead puller's batch", func() bool { d, _ := dead.count(); return d == 10 })
	t0 := time.Now() // the ack wait (2 s) runs from its delivery, at most 20 ms before
	dead.ready.Store(false)
	qd.StopPulling()
	ql, err := n.StartQueues(live.options(1))
	if err != nil {
		t.Fatal(err)
	}
	defer ql.Close()
	live.ready.Store(true)
	waitFor(t, 15*time.Second, "the batch on the live puller", func() bool { d, _ := live.count(); return d == 10 })
	if waited := time.Since(t0); waited < 1900*time.Millisecond {
		t.Fatalf("redelivered after %v, before the ack wait", waited)
	}
	if ql.Stats(0).Redelivered != 10 {
		t.Fatalf("redelivered %d, want 10", ql.Stats(0).Redelivered)
	}
}

// TestUpElsewhere: a connector counts as up elsewhere only when another
// live node's status says so.
func TestUpElsewhere(t *testing.T) {
	n := &Node{o: Options{NodeID: 1}}
	if n.UpElsewhere("a") {
		t.Fatal("up with no members read")
	}
	n.seen.note([]Member{
		{Node: 1, Status: &NodeStatus{Connectors: []ConnectorStatus{{Name: "a", Up: true}}}},
		{Node: 2, Status: &NodeStatus{Connectors: []ConnectorStatus{{Name: "a", Up: false}, {Name: "b", Up: true}}}},
	})
	if n.UpElsewhere("a") {
		t.Fatal("a: up only on this node")
	}
	if !n.UpElsewhere("b") {
		t.Fatal("b: up on node 2")
	}
	if n.UpElsewhere("c") {
		t.Fatal("c: nowhere")
	}
}

// TestTotalsShared: a connector's shared queue is one queue that every
// node reads: the totals show the largest reading, not a sum.
func TestTotalsShared(t *testing.T) {
	tt := totals([]Member{
		{Node: 1, Status: &NodeStatus{Connectors: []ConnectorStatus{{Name: "a", Queued: 2, Shared: 3, SharedBatches: 1}}}},
		{Node: 2, Status: &NodeStatus{Connectors: []ConnectorStatus{{Name: "a", Queued: 4, Shared: 5, SharedBatches: 2}}}},
	})
	if len(tt.Connectors) != 1 || tt.Connectors[0].Queued != 6 || tt.Connectors[0].Shared != 5 ||
		tt.Connectors[0].SharedBatches != 2 {
		t.Fatalf("totals %+v", tt.Connectors)
	}
}

// TestSharedQueueDepthInMessages: the depth counts the messages in the
// queue's batches, not the batches, whichever node spilled them (each
// reads the one stream), and falls to 0 once they are pulled.
func TestSharedQueueDepthInMessages(t *testing.T) {
	n := oneNode(t)
	a, b := newPuller(), newPuller()
	qa, err := n.StartQueues(a.options(2))
	if err != nil {
		t.Fatal(err)
	}
	defer qa.Close()
	qb, err := n.StartQueues(b.options(2))
	if err != nil {
		t.Fatal(err)
	}
	defer qb.Close()
	for i := range 600 {
		qa.Spill(1, item(uint64(i)))
	}
	for i := range 7 {
		qb.Spill(1, item(uint64(1000+i)))
	}
	qb.Spill(0, item(2000))
	waitFor(t, 10*time.Second, "the spilled items stored", func() bool { return a.stored.Load() == 600 && b.stored.Load() == 8 })
	for _, q := range []*Queues{qa, qb} {
		// A depth read stores the stream's counts, then the consumer's:
		// wait for a reading with both.
		waitFor(t, 10*time.Second, "the depth read", func() bool {
			s := q.Stats(1)
			return s.Messages == 607 && s.Waiting == s.Batches && q.Stats(0).Messages == 1
		})
		if s := q.Stats(1); s.Batches < 4 || s.Batches > 40 {
			t.Fatalf("607 messages in %d batches (%d waiting)", s.Batches, s.Waiting)
		}
	}
	a.ready.Store(true)
	waitFor(t, 10*time.Second, "every item pulled", func() bool { d, _ := a.count(); return d == 608 })
	waitFor(t, 5*time.Second, "the depth back to 0", func() bool {
		s, s0 := qb.Stats(1), qb.Stats(0)
		return s.Messages == 0 && s.Batches == 0 && s0.Messages == 0
	})
}

// TestParseSpillSubject: a batch subject names its connector and item
// count; one of an earlier build (no count) counts as one message.
func TestParseSpillSubject(t *testing.T) {
	for subj, want := range map[string][3]int{
		spillBatchSubject(3, 256): {3, 256, 1}, spillBatchSubject(0, 1): {0, 1, 1}, SpillSubject(12): {12, 1, 1},
		"smppd.spill.x.2": {}, "smppd.spill.1.0": {}, "smppd.other.1.2": {}, "smppd.spill.-1.2": {},
	} {
		c, n, ok := parseSpillSubject(subj)
		if got := [3]int{c, n, map[bool]int{true: 1}[ok]}; got != want {
			t.Errorf("%s: %v, want %v", subj, got, want)
		}
	}
}

// TestSharedQueueFromEarlierBuild: a stream and consumer made by a build
// that published batches under SpillSubject(c) itself are taken over at
// start (the stream's subjects widened, the consumer filtering both), and
// the batch stored then is pulled.
func TestSharedQueueFromEarlierBuild(t *testing.T) {
	n := oneNode(t)
	old := SpillConfig(1)
	old.Subjects = []string{"smppd.spill.*"}
	if _, err := n.js.CreateOrUpdateStream(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	if _, err := n.js.CreateOrUpdateConsumer(t.Context(), SpillStream, jetstream.ConsumerConfig{Durable: spillConsumer(0),
		FilterSubject: SpillSubject(0), AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for i := range 3 {
		data = binary.BigEndian.AppendUint32(data, 8)
		data = append(data, item(uint64(i))...)
	}
	if _, err := n.js.Publish(t.Context(), SpillSubject(0), data); err != nil {
		t.Fatal(err)
	}
	p := newPuller()
	q, err := n.StartQueues(p.options(1))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	q.Spill(0, item(7))
	waitFor(t, 10*time.Second, "stored", func() bool { return p.stored.Load() == 1 })
	// The earlier build's batch counts as one message: its count is not known.
	waitFor(t, 5*time.Second, "the depth read", func() bool { s := q.Stats(0); return s.Batches == 2 && s.Messages == 2 })
	p.ready.Store(true)
	waitFor(t, 10*time.Second, "both batches pulled", func() bool { d, _ := p.count(); return d == 4 })
}
