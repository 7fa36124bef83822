//go:build linux && !race

package clustertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/proctest"
)

// BenchmarkCrossNodeReceipts measures the delivery marker's cost (kTried:
// storage/jetstream holds.mark journals it and waits for its
// acknowledgement before a node delivers a held item it claimed) on
// receipts delivered on another node than their producer's, at
// replicas = 3. Two clusters of three nodes from configs/cluster run side
// by side: "on" built as shipped, "off" built with -tags
// nodeliverymarker. Each of b.N rounds runs both, in alternating order:
// two receivers on node 3, then two transmitters (window 50, receipts
// requested) on node 1 for crossLoad; node 1 has no receiver of the user,
// so every receipt is held there and leased, claimed and delivered by
// node 3. Per cluster and round: receipts/s (receipts over the time from
// the first submit to the last receipt) and the three nodes' CPU (utime +
// stime from /proc) per receipt over that time. Reported: the medians,
// and off ÷ on as the median of the rounds' ratios. With CROSS_A and
// CROSS_B set to two smppd binaries, it compares those instead ("A" for
// on, "B" for off: B ÷ A). With CROSS_PROFILE set to a directory, each
// node serves pprof and a CPU profile of each node is taken over each of
// its rounds, saved there as <kind>-round<r>-node<n>.pprof. Run:
//
//	go test ./internal/clustertest -run '^$' -bench CrossNodeReceipts -benchtime 6x -timeout 30m
func BenchmarkCrossNodeReceipts(b *testing.B) {
	const crossLoad = 3 * time.Second
	kinds := []string{"on", "off"}
	binA, binB := os.Getenv("CROSS_A"), os.Getenv("CROSS_B")
	if binA == "" || binB == "" {
		binA, binB = buildSMPPD(b), buildSMPPD(b, "nodeliverymarker")
	} else {
		kinds = []string{"A", "B"}
	}
	profDir := os.Getenv("CROSS_PROFILE")
	var tweak func(int, map[string]any)
	if profDir != "" {
		tweak = func(_ int, conf map[string]any) { proctest.Table(conf, "admin")["pprof"] = true }
	}
	clusters := map[string][]*node{
		kinds[0]: startClusterOf(b, binA, tweak),
		kinds[1]: startClusterOf(b, binB, tweak),
	}
	type round struct{ rate, cpu, batches, entries float64 }
	got := map[string][]round{}
	b.Logf("load average at start: %s", loadAvg())
	r := 0
	for b.Loop() {
		for k := range kinds {
			kind := kinds[(k+r)%len(kinds)]
			ns := clusters[kind]
			var prof *profiles
			if profDir != "" {
				prof = startProfiles(ns, crossLoad+4*time.Second, fmt.Sprintf("%s/%s-round%d", profDir, kind, r+1))
			}
			x, err := crossNodeRound(ns, crossLoad)
			if err != nil {
				b.Fatalf("round %d, %s: %v", r+1, kind, err)
			}
			if err := prof.wait(); err != nil {
				b.Fatalf("round %d, %s: profile: %v", r+1, kind, err)
			}
			got[kind] = append(got[kind], round{x.rate, x.cpu, x.batches, x.entries})
			b.Logf("round %d, %-3s: %6d acknowledged, %8.0f receipts/s, %6.2f µs CPU per receipt, "+
				"%.3f journal publishes and %.2f journal writes per receipt, %.2f claims in %.3f claim batches per receipt (the three nodes)",
				r+1, kind, x.acked, x.rate, x.cpu, x.batches, x.entries, x.claims, x.claimBatches)
		}
		r++
	}
	b.Logf("load average at end: %s", loadAvg())
	for _, kind := range kinds {
		var rates, cpus, batches, entries []float64
		for _, x := range got[kind] {
			rates, cpus = append(rates, x.rate), append(cpus, x.cpu)
			batches, entries = append(batches, x.batches), append(entries, x.entries)
		}
		b.ReportMetric(median(rates), "receipts/s-"+kind)
		b.ReportMetric(median(cpus), "µs-CPU/receipt-"+kind)
		b.ReportMetric(median(batches), "publishes/receipt-"+kind)
		b.ReportMetric(median(entries), "writes/receipt-"+kind)
	}
	var rr, cr []float64
	for i := range got[kinds[0]] {
		on, off := got[kinds[0]][i], got[kinds[1]][i]
		rr, cr = append(rr, off.rate/on.rate), append(cr, off.cpu/on.cpu)
	}
	b.ReportMetric(median(rr), "rate-"+kinds[1]+"/"+kinds[0])
	b.ReportMetric(median(cr), "CPU-"+kinds[1]+"/"+kinds[0])
}

// crossRound is one round's figures on one cluster.
type crossRound struct {
	acked            int
	rate, cpu        float64 // receipts/s, CPU µs per receipt
	batches, entries float64 // journal publishes and writes per receipt
	claimBatches     float64 // claim batches per receipt
	claims           float64 // claims won per receipt
}

// journalCounters are the nodes' journal publishes and writes, summed,
// and claim counters (0 from a build without claim batches).
var journalCounters = []string{"smppd_cluster_journal_batches_total", "smppd_cluster_journal_entries_total"}
var claimCounters = []string{"smppd_cluster_held_claim_batches_total", "smppd_cluster_held_claims_won_total"}

func readJournal(ns []*node) ([4]float64, error) {
	var sum [4]float64
	for _, n := range ns {
		vs, err := metrics(n.adminURL(), journalCounters...)
		if err != nil {
			return sum, err
		}
		for i, name := range journalCounters {
			sum[i] += vs[name]
		}
		if vs, err := metrics(n.adminURL(), claimCounters...); err == nil {
			for i, name := range claimCounters {
				sum[2+i] += vs[name]
			}
		}
	}
	return sum, nil
}

// crossNodeRound runs one round on a cluster; an error when a receipt is
// missing.
func crossNodeRound(ns []*node, load time.Duration) (x crossRound, err error) {
	b := newBook()
	rx := startReceivers(context.Background(), []string{ns[2].smppAddr()}, []int{3}, 2, b)
	defer rx.stop()
	for deadline := time.Now().Add(10 * time.Second); rx.bound[3].Load() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return x, fmt.Errorf("receivers did not bind to node 3")
		}
	}
	j0, err := readJournal(ns)
	if err != nil {
		return x, err
	}
	cpu0, err := cpuTicks(ns)
	if err != nil {
		return x, err
	}
	began := time.Now()
	tx := startTransmitters(context.Background(), []string{ns[0].smppAddr()}, []int{1}, 2, 50, b)
	time.Sleep(load)
	tx.stop()
	acked, missing, _ := waitReceipts(b, receiptsWait)
	cpu1, err := cpuTicks(ns)
	if err != nil {
		return x, err
	}
	j1, err := readJournal(ns)
	if err != nil {
		return x, err
	}
	if m := count(missing); m > 0 || acked == 0 {
		return x, fmt.Errorf("%d acknowledged, %d without a receipt after %v", acked, m, receiptsWait)
	}
	var last time.Time
	receipts := 0 // a duplicate delivered costs its CPU too
	b.mu.Lock()
	for _, as := range b.via {
		receipts += len(as)
		for _, a := range as {
			if a.at.After(last) {
				last = a.at
			}
		}
	}
	b.mu.Unlock()
	n := float64(receipts)
	x.acked = acked
	x.rate = n / last.Sub(began).Seconds()
	x.cpu = float64(cpu1-cpu0) / clockTicks * 1e6 / n
	x.batches, x.entries = (j1[0]-j0[0])/n, (j1[1]-j0[1])/n
	x.claimBatches, x.claims = (j1[2]-j0[2])/n, (j1[3]-j0[3])/n
	return x, nil
}

// clockTicks is /proc's unit of CPU time (USER_HZ: 100 on Linux).
const clockTicks = 100

// cpuTicks adds up the utime and stime of the nodes' processes.
func cpuTicks(ns []*node) (uint64, error) {
	var sum uint64
	for _, n := range ns {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.p.PID()))
		if err != nil {
			return 0, err
		}
		// The fields after the command's closing parenthesis: state is
		// the first, utime and stime the 12th and 13th.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		for _, v := range f[11:13] {
			t, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, err
			}
			sum += t
		}
	}
	return sum, nil
}

func loadAvg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// profiles are CPU profiles being taken of a cluster's nodes.
type profiles struct {
	errs chan error
	n    int
}

// startProfiles takes a CPU profile of each node over d (the admin API's
// /debug/pprof/profile), written to <prefix>-node<n>.pprof.
func startProfiles(ns []*node, d time.Duration, prefix string) *profiles {
	p := &profiles{errs: make(chan error, len(ns)), n: len(ns)}
	for i, n := range ns {
		url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", n.adminURL(), int(d.Seconds()))
		path := fmt.Sprintf("%s-node%d.pprof", prefix, i+1)
		go func() { p.errs <- fetchTo(url, path) }()
	}
	return p
}

// wait waits for the profiles (none on a nil p) and returns the first error.
func (p *profiles) wait() error {
	if p == nil {
		return nil
	}
	var first error
	for range p.n {
		if err := <-p.errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func fetchTo(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
