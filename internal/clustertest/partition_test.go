//go:build linux && !race

package clustertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/proctest"
)

const (
	// The partition lasts past the journal's 2 s stall (node 3 refuses)
	// until node 1 acknowledges a submit sent in it: at once when node 1
	// and 2 lead the streams, after JetStream's election (up to about 9
	// s) when node 3 led one; cutMax bounds the wait.
	cutMin    = 4 * time.Second
	cutMax    = 20 * time.Second
	paceEvery = 20 * time.Millisecond // one submit per node every 20 ms
	healLimit = 20 * time.Second      // for node 3's first acknowledgement after the heal
)

// TestClusterPartition starts three nodes whose NATS routes pass through
// proxies in the test (each node's route_advertise is its proxy, which
// every peer lists in its routes: no route goes around them) and cuts
// node 3's routes twice under a steady load on nodes 1 and 3, first with
// every stream's leader on node 1, then on node 3. From the ESMEs' side:
// node 3 refuses new submits (ESME_RMSGQFUL, the journal's backlog
// refusal) and acknowledges none of the partition's until the heal,
// while node 1 acknowledges again within the cut (after JetStream's
// election when node 3 led); healed, node 3 acknowledges again, every
// submit gets its answer and every acknowledged message its receipt, on
// receivers bound to node 1 and node 3, and no more receipts come twice
// than the nodes' possible-duplicate counters (dupCounters) account for.
func TestClusterPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test: skipped with -short")
	}
	var proxies [3]*routeProxy
	for i := range proxies {
		p, err := newRouteProxy(i + 1)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = p
		t.Cleanup(p.close)
	}
	nodes := startCluster(t, func(id int, conf map[string]any) {
		emb := proctest.Table(proctest.Table(conf, "cluster"), "embedded")
		proxies[id-1].setTarget(emb["route_listen"].(string))
		emb["route_advertise"] = proxies[id-1].addr()
		var routes []string
		for _, p := range proxies {
			if p.node != id {
				routes = append(routes, "nats-route://"+p.addr())
			}
		}
		emb["routes"] = routes
	})
	n1, n3 := nodes[0], nodes[2]

	b := newBook()
	rx1 := startReceivers(context.Background(), []string{n1.smppAddr()}, []int{1}, 1, b)
	defer rx1.stop()
	rx3 := startReceivers(context.Background(), []string{n3.smppAddr()}, []int{3}, 1, b)
	defer rx3.stop()
	waitBound(t, rx1, 1, 1)
	waitBound(t, rx3, 3, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	p1, err := startPacer(ctx, n1, b)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := startPacer(ctx, n3, b)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)

	pids := map[int]int{}
	for _, n := range nodes {
		pids[n.c.id] = n.p.PID()
	}
	// Two cuts: node 3 a follower of every stream, then their leader (the
	// majority refuses too until JetStream elects another).
	var cuts [2]struct{ cutAt, healAt time.Time }
	for i, leader := range []string{"smppd-1", "smppd-3"} {
		placed, err := placeLeaders(n1.c.natsPort, leader)
		t.Logf("cut %d: stream leaders %v", i+1, placed)
		if err != nil {
			t.Errorf("cut %d: %v", i+1, err)
		}
		time.Sleep(time.Second) // the moves' own elections
		cutAt := time.Now()
		for _, p := range proxies {
			p.cut(3, pids)
		}
		grace := cutAt.Add(500 * time.Millisecond)
		time.Sleep(cutMin)
		waitFor(cutMax-cutMin, func() bool { return p1.firstOK(grace) != 0 })
		healAt := time.Now()
		for _, p := range proxies {
			p.heal()
		}
		cuts[i].cutAt, cuts[i].healAt = cutAt, healAt
		if !waitFor(healLimit, func() bool { return p3.firstOK(healAt) != 0 }) {
			t.Errorf("cut %d: node 3 acknowledged no submit sent after the heal within %v", i+1, healLimit)
		} else {
			t.Logf("cut %d: node 3's first acknowledgement of a submit sent after the heal %v after it", i+1,
				time.Duration(p3.firstOK(healAt)-healAt.UnixNano()).Round(time.Millisecond))
		}
		if f := p1.firstOK(grace); f == 0 {
			t.Errorf("cut %d: node 1 acknowledged nothing in %v of the cut: the majority must go on", i+1, cutMax)
		} else {
			t.Logf("cut %d: node 1's first acknowledgement of a submit sent in the cut %v after the cut", i+1,
				time.Duration(f-cutAt.UnixNano()).Round(time.Millisecond))
		}
		time.Sleep(2 * time.Second)
	}
	stop()
	p1.wait()
	p3.wait()
	for _, p := range proxies {
		refused, unknown := p.counts()
		t.Logf("node %d's route proxy: %d connections dropped or refused in the cuts, %d of no node's process", p.node, refused, unknown)
	}

	// Node 3 in a cut: refusals once its journal stalled, no submit of
	// the partition acknowledged before the heal.
	for i, c := range cuts {
		c1, c3 := p1.phase(c.cutAt, c.healAt), p3.phase(c.cutAt, c.healAt)
		d := c.healAt.Sub(c.cutAt).Round(time.Millisecond)
		t.Logf("cut %d (%v): node 1 sent %d, acknowledged %d during it, refused %v; node 3 sent %d, refused %v (first %v after the cut), %d acknowledged after the heal, %d during the cut",
			i+1, d, c1.sent, c1.okIn, c1.refused, c3.sent, c3.refused, c3.firstRefusal.Round(time.Millisecond), c3.okAfter, c3.okIn)
		if c3.refusals() == 0 {
			t.Errorf("cut %d: node 3 cut off for %v refused no submit", i+1, d)
		}
		for st := range c3.refused {
			if st != codec.StatusMsgQFul && st != codec.StatusSysErr {
				t.Errorf("cut %d: node 3 answered %v: want ESME_RMSGQFUL (or ESME_RSYSERR)", i+1, st)
			}
		}
		if c3.okIn > 0 {
			t.Errorf("cut %d: node 3 acknowledged %d submits of the partition before the heal: writes it could not replicate", i+1, c3.okIn)
		}
	}
	for _, p := range []*pacer{p1, p3} {
		if n := p.unanswered(); n > 0 {
			t.Errorf("node %d left %d submits unanswered after the heal", p.node, n)
		}
	}

	healAt := cuts[1].healAt
	acked, missing, dups := waitReceipts(b, receiptsWait)
	for _, n := range nodes {
		for _, l := range append(n.events("node_departed"), n.events("takeover")...) {
			t.Logf("node %d: %s", n.c.id, l)
		}
		for _, l := range append(n.events("held_claim_lost"), n.events("held_retaken")...) {
			t.Logf("node %d: %s", n.c.id, l)
		}
	}
	t.Logf("%d acknowledged (%d by node 3); %d without a receipt %v after the heal; receivers bound %d times on node 1, %d on node 3",
		acked, ackedBy(b, 3), count(missing), time.Since(healAt).Round(time.Millisecond), rx1.bound[1].Load(), rx3.bound[3].Load())
	if count(missing) > 0 {
		t.Errorf("%d acknowledged messages without a receipt after the heal, e.g. %v", count(missing), sample(missing))
	}
	checkDuplicates(t, "after the heals", b, dups, readDupCounts(t, nodes...))
}

// pacer submits one message every paceEvery on one node, whatever the
// answers, and notes each submit's send time, answer time and status: a
// submit the store holds unacknowledged does not stop the next one.
type pacer struct {
	node int
	b    *book
	w    *wire
	done chan struct{} // the sender and reader ended

	mu      sync.Mutex
	pending map[uint32]int64 // sequence -> send time, Unix ns
	answers []answer
}

type answer struct {
	sent, at int64
	status   codec.Status
}

func startPacer(ctx context.Context, n *node, b *book) (*pacer, error) {
	w, err := dial(n.smppAddr())
	if err != nil {
		return nil, err
	}
	if err := w.Bind(codec.BindTransmitterID, user, password); err != nil {
		w.Close()
		return nil, fmt.Errorf("bind on node %d: %v", n.c.id, err)
	}
	p := &pacer{node: n.c.id, b: b, w: w, done: make(chan struct{}), pending: map[uint32]int64{}}
	read := make(chan struct{})
	go func() { defer close(read); p.read() }()
	go func() {
		p.send(ctx, read)
		// Stopped: the partition's submits are answered after the heal.
		proctest.Drain(w, read, p.unanswered, healLimit)
		w.Close()
		<-read
		close(p.done)
	}()
	return p, nil
}

func (p *pacer) wait() { <-p.done }

func (p *pacer) send(ctx context.Context, read <-chan struct{}) {
	tick := time.NewTicker(paceEvery)
	defer tick.Stop()
	sm := codec.SM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(source), DestAddrTON: 1, DestAddrNPI: 1,
		RegisteredDelivery: codec.RegisteredDeliveryReceipt}
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-read:
			return
		case <-tick.C:
		}
		sm.DestinationAddr = fmt.Appendf(sm.DestinationAddr[:0], "4915%d%06d", p.node, k)
		sm.ShortMessage = fmt.Appendf(sm.ShortMessage[:0], "partition %d/%d", p.node, k)
		if _, err := p.w.Send(codec.SubmitSMID, sm.Append, func(seq uint32) {
			p.mu.Lock()
			p.pending[seq] = time.Now().UnixNano()
			p.mu.Unlock()
		}); err != nil {
			return
		}
	}
}

func (p *pacer) read() {
	var resp codec.SubmitSMResp
	for {
		h, f, err := p.w.Read()
		if err != nil {
			return
		}
		if h.CommandID != codec.SubmitSMRespID && h.CommandID != codec.GenericNackID {
			if _, end := p.w.Housekeeping(h); end {
				return
			}
			continue
		}
		now := time.Now().UnixNano()
		p.mu.Lock()
		sent, ok := p.pending[h.Sequence]
		delete(p.pending, h.Sequence)
		st := h.Status
		if ok && st == codec.StatusOK && (h.CommandID == codec.GenericNackID || resp.Decode(f[codec.HeaderLen:]) != nil) {
			st = codec.StatusSysErr
		}
		if ok {
			p.answers = append(p.answers, answer{sent: sent, at: now, status: st})
		}
		p.mu.Unlock()
		if ok && st == codec.StatusOK {
			p.b.acked(resp.MessageID, p.node)
		}
	}
}

func (p *pacer) unanswered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// firstOK is the answer time (Unix ns) of the first acknowledged submit
// sent after t, or 0.
func (p *pacer) firstOK(t time.Time) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := int64(0)
	for _, a := range p.answers {
		if a.status == codec.StatusOK && a.sent > t.UnixNano() && (first == 0 || a.at < first) {
			first = a.at
		}
	}
	return first
}

// phase is what a pacer's submits sent in one interval got.
type phase struct {
	sent         int
	okIn         int // acknowledged before the interval's end
	okAfter      int // acknowledged after it
	refused      map[codec.Status]int
	firstRefusal time.Duration // after the interval's start
}

func (ph phase) refusals() int {
	n := 0
	for _, c := range ph.refused {
		n += c
	}
	return n
}

// phase sums the answers to the submits sent in [from, to). The journal
// may still acknowledge a batch in flight when the routes drop: a submit
// sent in the cut's first 500 ms counts only if refused.
func (p *pacer) phase(from, to time.Time) phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph := phase{refused: map[codec.Status]int{}}
	grace := from.Add(500 * time.Millisecond).UnixNano()
	for _, a := range p.answers {
		if a.sent < from.UnixNano() || a.sent >= to.UnixNano() {
			continue
		}
		ph.sent++
		switch {
		case a.status != codec.StatusOK:
			ph.refused[a.status]++
			if d := time.Duration(a.at - from.UnixNano()); ph.firstRefusal == 0 || d < ph.firstRefusal {
				ph.firstRefusal = d
			}
		case a.at >= to.UnixNano():
			ph.okAfter++
		case a.sent >= grace:
			ph.okIn++
		}
	}
	return ph
}

// placeLeaders asks the JetStream server at client port port to move the
// leader of every stream (the journal, the spill queue, the buckets) to
// server, and returns each stream's leader after: JetStream's leader
// step-down with a preferred server, a few tries per stream.
func placeLeaders(port int, server string) (map[string]string, error) {
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Right after a heal the meta leader may still be elected: the listing
	// answers 503 "JetStream system temporarily unavailable" meanwhile.
	var names []string
	for {
		names = names[:0]
		lister := js.StreamNames(ctx)
		for n := range lister.Name() {
			names = append(names, n)
		}
		err := lister.Err()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("listing the streams: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	body := []byte(`{"placement":{"preferred":"` + server + `"}}`)
	placed := map[string]string{}
	var missed []string
	for _, name := range names {
		// A step-down starts an election: while it runs the stream has no
		// leader (""), and asking again would only restart it, so wait.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			if placed[name] = leaderOf(ctx, js, name); placed[name] == server {
				break
			}
			if placed[name] != "" {
				_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+name, body, 5*time.Second)
			}
		}
		if placed[name] = leaderOf(ctx, js, name); placed[name] != server {
			missed = append(missed, name)
		}
	}
	if len(missed) > 0 {
		return placed, fmt.Errorf("leaders of %v not moved to %s", missed, server)
	}
	return placed, nil
}

func leaderOf(ctx context.Context, js jetstream.JetStream, name string) string {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return ""
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil {
		return ""
	}
	return info.Cluster.Leader
}
