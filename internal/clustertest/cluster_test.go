//go:build linux && !race

// The cluster test runs once per `make cluster-test`, outside the race
// detector: three real smppd processes, one of them killed under load.
package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	loadFor      = 3 * time.Second  // submits per phase
	receiptsWait = 30 * time.Second // for the last receipts after the submits stop
)

// TestCluster starts three nodes from configs/cluster on free ports and
// checks, in order: receipts of submits on node 1 reach a receiver on node
// 3; MO injected on node 2 reaches it too; node 1 killed with SIGKILL
// under load loses no acknowledged message: its transmitters move to node
// 2, the surviving nodes take over its unsent messages and deliver every
// receipt; then it restarts and rejoins.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test: skipped with -short")
	}
	nodes := startCluster(t, nil)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	t.Run("receipts", func(t *testing.T) {
		b := newBook()
		rx := startReceivers(context.Background(), []string{n3.smppAddr()}, []int{3}, 2, b)
		defer rx.stop()
		waitBound(t, rx, 3, 2)
		tx := startTransmitters(context.Background(), []string{n1.smppAddr()}, []int{1}, 2, 50, b)
		time.Sleep(loadFor)
		tx.stop()
		acked, missing, dups := waitReceipts(b, receiptsWait)
		t.Logf("submitted on node 1: %d acknowledged, %d refused %v, %d cut off; receipts on node 3: %d missing, %d duplicates",
			acked, refusedTotal(b), b.refused, b.cut, count(missing), dups)
		if acked == 0 {
			t.Fatal("no submit acknowledged")
		}
		if m := count(missing); m > 0 {
			t.Errorf("%d acknowledged messages without a receipt on node 3, e.g. %v", m, sample(missing))
		}
		// Node 1's journal: JetStream operations (batches) per store write.
		batches, err1 := metric(n1.adminURL(), "smppd_cluster_journal_batches_total")
		entries, err2 := metric(n1.adminURL(), "smppd_cluster_journal_entries_total")
		if err1 != nil || err2 != nil || batches == 0 || entries < float64(acked) {
			t.Errorf("node 1's journal metrics: %v batches (%v), %v entries (%v) for %d submits", batches, err1, entries, err2, acked)
		} else {
			t.Logf("node 1's journal: %.0f batches carried %.0f writes (%.1f writes per JetStream publish, %.3f publishes per acknowledged submit)",
				batches, entries, entries/batches, batches/float64(acked))
		}
	})

	t.Run("mo", func(t *testing.T) {
		b := newBook()
		rx := startReceivers(context.Background(), []string{n3.smppAddr()}, []int{3}, 1, b)
		defer rx.stop()
		waitBound(t, rx, 3, 1)
		const n = 20
		for i := range n {
			if err := postMO(n2.adminURL(), fmt.Sprintf("mo %d via node 2", i)); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(receiptsWait)
		got := 0
		for ; time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got = 0
			for i := range n {
				if b.moCount(fmt.Sprintf("mo %d via node 2", i)) > 0 {
					got++
				}
			}
			if got == n {
				break
			}
		}
		t.Logf("MO injected on node 2: %d of %d reached the receiver on node 3", got, n)
		if got != n {
			t.Errorf("%d of %d MO reached node 3", got, n)
		}
	})

	t.Run("binds", func(t *testing.T) {
		// limited may hold limitedBinds binds: one on node 1, one on node 2,
		// then node 3 refuses a third until one of them unbinds.
		var held []*wire
		defer func() {
			for _, w := range held {
				w.Close()
			}
		}()
		for _, n := range []*node{n1, n2} {
			w, err := dial(n.smppAddr())
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, w)
			if err := w.Bind(codec.BindTransmitterID, limited, limitedPass); err != nil {
				t.Fatalf("bind %d on node %d: %v", len(held), n.c.id, err)
			}
		}
		// One more bind on node 3, closed at once: true when refused.
		refused := func() bool {
			w, err := dial(n3.smppAddr())
			if err != nil {
				return false
			}
			defer w.Close()
			return w.Bind(codec.BindTransmitterID, limited, limitedPass) != nil
		}
		began := time.Now()
		if !waitFor(5*time.Second, refused) {
			t.Fatalf("node 3 still takes a third bind of %s (max_binds %d) 5 s after nodes 1 and 2 bound it", limited, limitedBinds)
		}
		seen := time.Since(began)
		held[0].Close()
		held = held[1:]
		began = time.Now()
		if !waitFor(5*time.Second, func() bool { return !refused() }) {
			t.Fatal("node 3 still refuses the bind 5 s after node 1's unbind")
		}
		t.Logf("max_binds %d cluster-wide: node 3 refused a third bind within %v; took one again %v after node 1's unbind",
			limitedBinds, seen.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	})

	t.Run("credit", func(t *testing.T) { testCredit(t, n1, n2) })
	t.Run("throughput", func(t *testing.T) { testThroughput(t, n1, n2) })

	t.Run("kill", func(t *testing.T) {
		b := newBook()
		rx := startReceivers(context.Background(), []string{n3.smppAddr(), n2.smppAddr()}, []int{3, 2}, 2, b)
		defer rx.stop()
		waitBound(t, rx, 3, 2)
		base := readDupCounts(t, nodes...) // the earlier steps' counts
		baseSum := clusterDupSum(t, n2)
		tx := startTransmitters(context.Background(), []string{n1.smppAddr(), n2.smppAddr()}, []int{1, 2}, 2, 50, b)
		time.Sleep(loadFor)
		// Node 1's counts die with it: read them just before the kill.
		// Uncounted, it can have sent nothing twice: no receiver is bound
		// to it, so it delivers no receipt itself, and what it handed to
		// its simulator is counted by the taker that sends it again.
		before := readDupCounts(t, n1).since(base)
		n1.kill()
		killed := time.Now()
		time.Sleep(loadFor)
		tx.stop()
		if tx.binds[2].Load() == 0 {
			t.Error("no transmitter moved to node 2 after node 1's kill")
		} else if f := tx.first[2].Load(); f != 0 {
			t.Logf("node 2's first acknowledgement %v after the kill", time.Unix(0, f).Sub(killed).Round(time.Millisecond))
		}
		// The surviving nodes deliver everything, node 1's unsent messages
		// once the lowest live node takes them over (after its lease expired
		// and cluster.TakeoverGrace).
		acked, missing, dups := waitReceipts(b, receiptsWait)
		t.Logf("with node 1 down: %d acknowledged (%d by node 1), %d refused %v, %d cut off; %d without a receipt after %v (%d of node 1's), %d duplicate receipts",
			acked, ackedBy(b, 1), refusedTotal(b), b.refused, b.cut, count(missing), time.Since(killed).Round(time.Millisecond), len(missing[1]), dups)
		if m := count(missing); m > 0 {
			t.Errorf("%d acknowledged messages without a receipt from the surviving nodes, e.g. %v", m, sample(missing))
		}
		// Node 2, the lowest live node, takes over node 1's unsent
		// messages once node 1's lease expired and TakeoverGrace passed.
		if !waitFor(20*time.Second, func() bool { return hasTakeover(n2) }) {
			t.Error("node 2 did not take over node 1's messages within 20 s of the kill")
		}
		_, missing, dups = waitReceipts(b, receiptsWait)
		if count(missing) > 0 {
			t.Errorf("%d acknowledged messages without a receipt after the take-over, e.g. %v", count(missing), sample(missing))
		}
		checkDuplicates(t, "with node 1 down", b, dups, readDupCounts(t, n2, n3).since(base).plus(before))
		// The cluster's own total keeps node 1's counts after its death
		// (all but its last 100 ms: none here, it delivers no receipt).
		if sum := clusterDupSum(t, n2) - baseSum; sum < uint64(dups) {
			t.Errorf("with node 1 down: %d duplicate receipts, more than the %d possible duplicates in the cluster's total (GET /v1/cluster)", dups, sum)
		} else {
			t.Logf("with node 1 down: %d possible duplicates in the cluster's total", sum)
		}
		// A node killed with SIGKILL leaves its node_id held until its
		// lease expires: a restart before that is refused at join.
		restartedIn := restart(t, n1, killed)
		time.Sleep(2 * time.Second) // what its own recovery might send again
		acked, missing, dups = waitReceipts(b, receiptsWait)
		t.Logf("node 1 back after %v: %d acknowledged, %d without a receipt, %d duplicate receipts", restartedIn, acked, count(missing), dups)
		if m := count(missing); m > 0 {
			t.Errorf("%d acknowledged messages never got a receipt, e.g. %v", m, sample(missing))
		}
		// Node 1's new run counts from zero what its restart sends again.
		checkDuplicates(t, "node 1 back", b, dups, readDupCounts(t, n2, n3).since(base).plus(before).plus(readDupCounts(t, n1)))
		for _, n := range nodes {
			for _, l := range n.redrives() {
				t.Logf("node %d: %s", n.c.id, l)
			}
		}
	})
}

// startCluster builds smppd and starts three nodes from configs/cluster
// (tweak edits each node's configuration, see writeConfigs) in a scratch
// folder kept when the test fails; each is stopped at the test's end.
func startCluster(t *testing.T, tweak func(id int, conf map[string]any)) []*node {
	t.Helper()
	return startClusterOf(t, buildSMPPD(t), tweak)
}

// startClusterOf is startCluster with the binary bin.
func startClusterOf(t testing.TB, bin string, tweak func(id int, conf map[string]any)) []*node {
	t.Helper()
	work, err := os.MkdirTemp("", "clustertest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scratch folder kept (configs, stores, logs): %s", work)
			return
		}
		_ = os.RemoveAll(work)
	})
	confs, err := writeConfigs(filepath.Join("..", "..", "configs", "cluster"), work, tweak)
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*node, len(confs))
	for i, c := range confs {
		if nodes[i], err = newNode(bin, c); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nodes[i].close)
		if err := nodes[i].launch(); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	for _, n := range nodes {
		if err := n.waitReady(); err != nil {
			t.Fatalf("node %d: %v", n.c.id, err)
		}
	}
	t.Logf("three nodes ready in %v", time.Since(began).Round(time.Millisecond))
	return nodes
}

// restart launches n again until it is ready (a join is refused while its
// killed run's node lease lives), and returns how long after the kill.
func restart(t *testing.T, n *node, killed time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(startLimit)
	for {
		if err := n.launch(); err != nil {
			t.Fatal(err)
		}
		err := n.waitReady()
		if err == nil {
			return time.Since(killed).Round(time.Millisecond)
		}
		n.kill()
		if time.Now().After(deadline) {
			t.Fatalf("node %d did not rejoin: %v", n.c.id, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func hasTakeover(n *node) bool {
	for _, l := range n.redrives() {
		if strings.Contains(l, `"event":"takeover"`) {
			return true
		}
	}
	return false
}

func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func waitBound(t *testing.T, rx *receivers, node int, want int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); rx.bound[node].Load() < want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("receivers did not bind to node %d", node)
		}
	}
}

// waitReceipts waits up to d for a final receipt of every acknowledged id.
func waitReceipts(b *book, d time.Duration) (int, map[int][]string, int) {
	deadline := time.Now().Add(d)
	for {
		acked, missing, dups := b.missing()
		if count(missing) == 0 || time.Now().After(deadline) {
			return acked, missing, dups
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func count(m map[int][]string) int {
	n := 0
	for _, ids := range m {
		n += len(ids)
	}
	return n
}

func sample(m map[int][]string) map[int][]string {
	s := map[int][]string{}
	for node, ids := range m {
		s[node] = ids[:min(len(ids), 3)]
	}
	return s
}

func refusedTotal(b *book) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.refused {
		n += c
	}
	return n
}

func ackedBy(b *book, node int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, by := range b.acks {
		if by == node {
			n++
		}
	}
	return n
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// postMO injects one MO through the admin API; the demo's MO route sends
// it to user.
func postMO(adminURL, text string) error {
	body, _ := json.Marshal(map[string]string{"source_addr": "4917123", "destination_addr": "999", "short_message": text})
	resp, err := httpClient.Post(adminURL+"/v1/mo", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/mo: %s", resp.Status)
	}
	return nil
}

// metric reads one unlabelled sample from GET /metrics.
func metric(adminURL, name string) (float64, error) {
	v, err := metrics(adminURL, name)
	if err != nil {
		return 0, err
	}
	return v[name], nil
}

// metrics reads the unlabelled samples of names from one GET /metrics.
func metrics(adminURL string, names ...string) (map[string]float64, error) {
	resp, err := httpClient.Get(adminURL + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	got := make(map[string]float64, len(names))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if got[name], err = strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := got[n]; !ok {
			return nil, fmt.Errorf("%s not in /metrics", n)
		}
	}
	return got, nil
}

func buildSMPPD(t testing.TB, tags ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "smppd")
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	if out, err := exec.Command(goTool, append(args, "github.com/smppd/smppd/cmd/smppd")...).CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/smppd: %v\n%s", err, out)
	}
	return bin
}
