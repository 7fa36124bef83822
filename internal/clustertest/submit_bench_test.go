//go:build linux && !race

package clustertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkClusterSubmits compares two builds' three-node clusters (R3,
// sync = "always", from configs/cluster) on submits without receipts:
// each of b.N rounds runs smppbench (SMPPBENCH) against node 1 of each
// cluster in alternating order, 4 sessions × window 100 for 5 s after a
// 1 s warm-up. Per cluster and round: submit_sm/s, the three processes'
// CPU (utime + stime) per accepted message, and the bytes they sent to
// storage per accepted message (write_bytes of /proc/<pid>/io: the
// JetStream servers' stores and anything else the nodes write to disk).
// Reported: the medians, and B ÷ A as the median of the rounds' ratios.
// Run:
//
//	CROSS_A=smppd-old CROSS_B=smppd-new SMPPBENCH=bin/smppbench go test ./internal/clustertest -run '^$' -bench ClusterSubmits -benchtime 6x -timeout 20m -v
func BenchmarkClusterSubmits(b *testing.B) {
	bench := os.Getenv("SMPPBENCH")
	if os.Getenv("CROSS_A") == "" || os.Getenv("CROSS_B") == "" || bench == "" {
		b.Skip("set CROSS_A and CROSS_B to two smppd binaries and SMPPBENCH to smppbench")
	}
	kinds := []string{"A", "B"}
	clusters := map[string][]*node{
		"A": startClusterOf(b, os.Getenv("CROSS_A"), nil),
		"B": startClusterOf(b, os.Getenv("CROSS_B"), nil),
	}
	type round struct{ rate, cpu, stored float64 }
	got := map[string][]round{}
	b.Logf("load average at start: %s", loadAvg())
	r := 0
	for b.Loop() {
		for k := range kinds {
			kind := kinds[(k+r)%len(kinds)]
			x, err := submitRound(clusters[kind], bench)
			if err != nil {
				b.Fatalf("round %d, %s: %v", r+1, kind, err)
			}
			got[kind] = append(got[kind], x)
			b.Logf("round %d, %s: %8.0f submit_sm/s, %6.2f µs CPU and %7.1f bytes to storage per message (the three nodes)",
				r+1, kind, x.rate, x.cpu, x.stored)
		}
		r++
	}
	b.Logf("load average at end: %s", loadAvg())
	for _, kind := range kinds {
		var rates, cpus, stored []float64
		for _, x := range got[kind] {
			rates, cpus, stored = append(rates, x.rate), append(cpus, x.cpu), append(stored, x.stored)
		}
		b.ReportMetric(median(rates), "submit/s-"+kind)
		b.ReportMetric(median(cpus), "µs-CPU/msg-"+kind)
		b.ReportMetric(median(stored), "bytes-stored/msg-"+kind)
	}
	var rr, cr, wr []float64
	for i := range got["A"] {
		a, x := got["A"][i], got["B"][i]
		rr, cr, wr = append(rr, x.rate/a.rate), append(cr, x.cpu/a.cpu), append(wr, x.stored/a.stored)
	}
	b.ReportMetric(median(rr), "rate-B/A")
	b.ReportMetric(median(cr), "CPU-B/A")
	b.ReportMetric(median(wr), "stored-B/A")
}

// submitRound runs one smppbench against ns's node 1 and measures the
// nodes over it.
func submitRound(ns []*node, bench string) (x struct{ rate, cpu, stored float64 }, err error) {
	const accepted = "smppd_messages_accepted_total"
	m0, err := metrics(ns[0].adminURL(), accepted)
	if err != nil {
		return x, err
	}
	cpu0, err := cpuTicks(ns)
	if err != nil {
		return x, err
	}
	w0, err := storedBytes(ns)
	if err != nil {
		return x, err
	}
	began := time.Now()
	out, err := exec.Command("timeout", "-k", "5", "60", bench, "-host", "127.0.0.1", "-port", strconv.Itoa(ns[0].c.smpp),
		"-user", user, "-password", password, "-sessions", "4", "-window", "100", "-duration", "5s", "-warmup", "1s").CombinedOutput()
	if err != nil {
		return x, fmt.Errorf("smppbench: %v\n%s", err, out)
	}
	took := time.Since(began)
	cpu1, err := cpuTicks(ns)
	if err != nil {
		return x, err
	}
	w1, err := storedBytes(ns)
	if err != nil {
		return x, err
	}
	m1, err := metrics(ns[0].adminURL(), accepted)
	if err != nil {
		return x, err
	}
	n := m1[accepted] - m0[accepted]
	if n <= 0 {
		return x, fmt.Errorf("no message accepted\n%s", out)
	}
	x.rate = n / took.Seconds() // warm-up and drain included, as the CPU
	x.cpu = float64(cpu1-cpu0) / clockTicks * 1e6 / n
	x.stored = float64(w1-w0) / n
	return x, nil
}

// storedBytes adds up the bytes the nodes' processes sent to storage
// (write_bytes of /proc/<pid>/io).
func storedBytes(ns []*node) (uint64, error) {
	var sum uint64
	for _, n := range ns {
		f, err := os.Open(fmt.Sprintf("/proc/%d/io", n.p.PID()))
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "write_bytes: "); ok {
				w, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					f.Close()
					return 0, err
				}
				sum += w
			}
		}
		f.Close()
	}
	return sum, nil
}
