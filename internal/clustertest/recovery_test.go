//go:build linux && !race

package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/proctest"
)

// compactAfter is the test cluster's [cluster] compact_after: a few
// seconds of its load pass it several times (a node publishes hundreds of
// batches a second), where the default 50,000 would take minutes.
const compactAfter = 500

// TestClusterRecovery starts its own three nodes with a journal
// compaction every compactAfter batches (checked every second) and checks
// what the journal's base and the take-over must keep: a node restarted
// from a compacted journal (SIGKILL, then start) knows every acknowledged
// message with its final state and the balances, and a node killed with
// messages its connector had not sent yet has them sent by its taker,
// every receipt delivered once.
func TestClusterRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test: skipped with -short")
	}
	nodes := startCluster(t, func(_ int, conf map[string]any) {
		cl := proctest.Table(conf, "cluster")
		cl["compact_after"], cl["compact_check"] = compactAfter, "1s"
	})
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	t.Run("compaction", func(t *testing.T) { testCompactionRestart(t, n1, n2, n3) })
	t.Run("takeover", func(t *testing.T) { testTakeoverUnsent(t, n1, n2, n3) })
}

// testCompactionRestart: demo submits on nodes 1 and 3 with receipts to
// node 2 while limited spends its balance on node 3, until node 1 (the
// lowest live node) has compacted the journal. Node 3 is then killed and
// started again: its replay starts from the base (fewer batches than its
// index held), query_sm on it finds every acknowledged id delivered, and
// every node shows limited's balance less exactly what was accepted.
// Node 3's next run holds every message in its simulator for an hour,
// for testTakeoverUnsent.
func testCompactionRestart(t *testing.T, n1, n2, n3 *node) {
	b := newBook()
	rx := startReceivers(context.Background(), []string{n2.smppAddr()}, []int{2}, 2, b)
	defer rx.stop()
	waitBound(t, rx, 2, 2)
	start, err := balanceOf(n1.adminURL(), limited)
	if err != nil {
		t.Fatal(err)
	}
	var charged int
	var wg sync.WaitGroup
	wg.Go(func() { charged, _ = submitFor(t, n3.smppAddr(), limited, limitedPass, loadFor, time.Time{}) })
	tx1 := startTransmitters(context.Background(), []string{n1.smppAddr()}, []int{1}, 1, 50, b)
	tx3 := startTransmitters(context.Background(), []string{n3.smppAddr()}, []int{3}, 1, 50, b)
	time.Sleep(loadFor)
	tx1.stop()
	tx3.stop()
	wg.Wait()
	acked, missing, dups := waitReceipts(b, receiptsWait)
	t.Logf("submitted on nodes 1 and 3: %d acknowledged (%d by node 3), %d refused %v, %d cut off; %d without a receipt, %d duplicates; %s accepted %d",
		acked, ackedBy(b, 3), refusedTotal(b), b.refused, b.cut, count(missing), dups, limited, charged)
	if acked == 0 || charged == 0 {
		t.Fatalf("nothing to check: %d acknowledged, %d charged", acked, charged)
	}
	if count(missing) > 0 {
		t.Fatalf("%d acknowledged messages without a receipt before the restart, e.g. %v", count(missing), sample(missing))
	}
	if !waitFor(30*time.Second, func() bool { return len(n1.events("journal_compacted")) > 0 }) {
		t.Fatalf("node 1 did not compact the journal within 30 s of the load (compact_after %d)", compactAfter)
	}
	compactions := n1.events("journal_compacted")
	t.Logf("node 1 compacted the journal %d times, the last: %s", len(compactions), compactions[len(compactions)-1])
	// Batches after the base, for the restart to replay on top of it.
	tx3 = startTransmitters(context.Background(), []string{n3.smppAddr()}, []int{3}, 1, 50, b)
	time.Sleep(300 * time.Millisecond)
	tx3.stop()
	if acked, missing, _ = waitReceipts(b, receiptsWait); count(missing) > 0 {
		t.Fatalf("%d acknowledged messages without a receipt before the restart, e.g. %v", count(missing), sample(missing))
	}

	want := start - creditRate*float64(charged)
	balances := func() bool { // every node shows the pool plus the slices as last written
		for _, n := range []*node{n1, n2, n3} {
			if got, err := balanceOf(n.adminURL(), limited); err != nil || math.Abs(got-want) > 1e-9 {
				return false
			}
		}
		return true
	}
	if !waitFor(10*time.Second, balances) {
		t.Errorf("%s's balance is not %v (%v less %d parts at %v) on every node before the restart", limited, want, start, charged, creditRate)
	}
	held, err := appliedOf(n1.adminURL(), n3.c.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := n3.c.rewrite(func(conf map[string]any) {
		for _, c := range routeList(conf, "connector") {
			proctest.Table(c, "sim")["latency"] = "1h"
		}
	}); err != nil {
		t.Fatal(err)
	}
	n3.kill()
	back := restart(t, n3, time.Now())
	opened := n3.events("store_opened")
	replayed := jsonField(opened[len(opened)-1], "batches")
	t.Logf("node 3 killed holding the journal up to sequence %d (%d acknowledged), back after %v: replayed %d batches (%s)",
		held, acked, back, replayed, opened[len(opened)-1])
	if replayed == 0 || replayed >= held {
		t.Errorf("node 3's restart replayed %d batches of a journal it held up to %d: not from the compacted base", replayed, held)
	}
	if r := n3.events("journal_rebased"); len(r) > 0 {
		t.Logf("node 3's replay was overtaken by a compaction: %v", r)
	}

	ids := make([]string, 0, acked)
	b.mu.Lock()
	for id := range b.acks {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	states, err := queryStates(n3.smppAddr(), ids)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("query_sm on node 3 after its restart: %d ids, states %v", len(ids), states)
	if states[codec.MessageStateDelivered] != len(ids) {
		t.Errorf("query_sm on the restarted node 3: %v for %d acknowledged ids, want all delivered", states, len(ids))
	}
	if !waitFor(10*time.Second, balances) {
		got, _ := balanceOf(n3.adminURL(), limited)
		t.Errorf("%s's balance after node 3's restart: %v on node 3, want %v on every node", limited, got, want)
	}
	time.Sleep(2 * time.Second) // what the restart might deliver again
	if _, missing, dups := b.missing(); count(missing) > 0 || dups > 0 {
		t.Errorf("after node 3's restart: %d acknowledged messages without a receipt, %d duplicate receipts", count(missing), dups)
	}
}

// testTakeoverUnsent: node 3 (its simulator holding every message for an
// hour) acknowledges messages it has not sent and is killed; node 1, the
// lowest live node, takes it over and sends them through its own
// simulator: every acknowledged id's receipt reaches the receivers once.
// What node 3 put on the connector's shared queue once its queue passed
// spill_high_water (the other nodes' simulators up) is not node 1's to
// re-drive: the other nodes pull and send it, usually before the kill; a
// batch pulled by node 3 itself is redelivered 30 s after its pull (the
// log counts both).
func testTakeoverUnsent(t *testing.T, n1, n2, n3 *node) {
	b := newBook()
	rx := startReceivers(context.Background(), []string{n1.smppAddr(), n2.smppAddr()}, []int{1, 2}, 2, b)
	defer rx.stop()
	waitBound(t, rx, 1, 2)
	tx := startTransmitters(context.Background(), []string{n3.smppAddr()}, []int{3}, 2, 50, b)
	time.Sleep(2 * time.Second)
	tx.stop()
	spilled, pulled := 0, 0
	if v, err := metrics(n3.adminURL(), spilledSim, pulledSim); err == nil {
		spilled, pulled = int(v[spilledSim]), int(v[pulledSim])
	}
	acked, missing, _ := b.missing()
	t.Logf("node 3 acknowledged %d, refused %d %v, %d cut off, %d spilled to the shared queue (%d pulled back by node 3); %d receipts before the kill",
		acked, refusedTotal(b), b.refused, b.cut, spilled, pulled, acked-count(missing))
	if acked == 0 {
		t.Fatal("node 3 acknowledged nothing")
	}
	if got := acked - count(missing); got > spilled {
		t.Errorf("%d receipts for messages node 3's simulator holds for an hour (%d spilled, sent by the other nodes)", got, spilled)
	}
	taken := len(n1.events("takeover"))
	n3.kill()
	killed := time.Now()
	if !waitFor(30*time.Second, func() bool { return len(n1.events("takeover")) > taken }) {
		t.Fatal("node 1 did not take over node 3 within 30 s of the kill")
	}
	line := n1.events("takeover")[taken]
	redriven, dup := jsonField(line, "redriven"), jsonField(line, "possible_duplicates")
	t.Logf("node 1 took node 3 over %v after the kill: %d re-driven, %d possible duplicates", time.Since(killed).Round(time.Millisecond), redriven, dup)
	if redriven+uint64(spilled) < uint64(acked) {
		t.Errorf("node 1 re-drove %d of node 3's %d unsent acknowledged messages (%d spilled)", redriven, acked, spilled)
	}
	acked, missing, dups := waitReceipts(b, receiptsWait)
	redelivered := 0
	for _, n := range []*node{n1, n2} {
		if v, err := metric(n.adminURL(), `smppd_cluster_pull_redelivered_total{connector="sim"}`); err == nil {
			redelivered += int(v)
		}
	}
	t.Logf("after the take-over: %d of %d acknowledged without a receipt %v after the kill, %d duplicate receipts; nodes 1 and 2 took %d of node 3's pulled messages again",
		count(missing), acked, time.Since(killed).Round(time.Millisecond), dups, redelivered)
	if count(missing) > 0 {
		t.Errorf("%d of node 3's acknowledged messages without a receipt after the take-over, e.g. %v", count(missing), sample(missing))
	}
	if dups > 0 {
		t.Errorf("%d duplicate receipts: node 3's simulator sent nothing, each message went out once, from node 1", dups)
	}
}

// The simulator connector's shared-queue counters.
const (
	spilledSim = `smppd_cluster_spilled_total{connector="sim"}`
	pulledSim  = `smppd_cluster_pulled_total{connector="sim"}`
)

// queryStates asks addr the state of every id with query_sm (as user,
// window 50) and counts the answers by message_state; an id not found
// counts as codec.MessageStateUnknown.
func queryStates(addr string, ids []string) (map[codec.MessageState]int, error) {
	w, err := dial(addr)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.Bind(codec.BindTransmitterID, user, password); err != nil {
		return nil, err
	}
	states := map[codec.MessageState]int{}
	slots := make(chan struct{}, 50)
	answered := make(chan error, 1)
	go func() {
		var resp codec.QuerySMResp
		for n := 0; n < len(ids); {
			_ = w.SetReadDeadline(time.Now().Add(ioTimeout))
			h, f, err := w.Read()
			if err != nil {
				answered <- err
				return
			}
			if h.CommandID != codec.QuerySMRespID && h.CommandID != codec.GenericNackID {
				w.Housekeeping(h)
				continue
			}
			n++
			<-slots
			switch {
			case h.Status != codec.StatusOK:
				states[codec.MessageStateUnknown]++
			case resp.Decode(f[codec.HeaderLen:]) != nil:
				answered <- fmt.Errorf("query_sm_resp %d: undecodable", h.Sequence)
				return
			default:
				states[resp.MessageState]++
			}
		}
		answered <- nil
	}()
	q := codec.QuerySM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(source)}
	for _, id := range ids {
		select {
		case slots <- struct{}{}:
		case err := <-answered:
			return nil, fmt.Errorf("query_sm: %v", err)
		}
		q.MessageID = []byte(id)
		if _, err := w.Send(codec.QuerySMID, q.Append, nil); err != nil {
			return nil, err
		}
	}
	if err := <-answered; err != nil {
		return nil, err
	}
	return states, nil
}

// balanceOf reads a user's cluster-wide balance from GET /v1/users/{id}.
func balanceOf(adminURL, id string) (float64, error) {
	code, out := adminDo(adminURL, http.MethodGet, "/v1/users/"+id, "")
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/users/%s: %d %s", id, code, out)
	}
	var u struct {
		Balance string `json:"balance"`
	}
	if err := json.Unmarshal(out, &u); err != nil {
		return 0, err
	}
	return strconv.ParseFloat(u.Balance, 64)
}

// appliedOf reads from GET /v1/cluster the journal sequence node's index
// holds, as node last reported it.
func appliedOf(adminURL string, node int) (uint64, error) {
	code, out := adminDo(adminURL, http.MethodGet, "/v1/cluster", "")
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/cluster: %d %s", code, out)
	}
	var c struct {
		Nodes []struct {
			Node    int    `json:"node"`
			Applied uint64 `json:"applied"`
			Alive   bool   `json:"alive"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return 0, err
	}
	for _, m := range c.Nodes {
		if m.Node == node && m.Alive {
			return m.Applied, nil
		}
	}
	return 0, fmt.Errorf("GET /v1/cluster names no live node %d: %s", node, out)
}

// jsonField is the unsigned number field of a JSON log line, 0 if absent.
func jsonField(line, field string) uint64 {
	var m map[string]any
	if json.Unmarshal([]byte(strings.TrimSpace(line)), &m) != nil {
		return 0
	}
	v, _ := m[field].(float64)
	return uint64(v)
}
