//go:build linux && !race

package clustertest

import (
	"os"
	"testing"
	"time"
)

// BenchmarkIdleCPU compares the CPU two builds' clusters use with no
// traffic (heartbeats, RAFT, membership reads, timers): two clusters of
// three nodes from configs/cluster side by side, CROSS_A and CROSS_B the
// smppd binaries, each measured over 8 s per round in alternating order
// (utime + stime of its three processes, in % of one core). Reported: the
// medians and B ÷ A as the median of the rounds' ratios. Run:
//
//	CROSS_A=smppd-old CROSS_B=smppd-new go test ./internal/clustertest -run '^$' -bench IdleCPU -benchtime 6x -timeout 6m -v
func BenchmarkIdleCPU(b *testing.B) {
	if os.Getenv("CROSS_A") == "" || os.Getenv("CROSS_B") == "" {
		b.Skip("CROSS_A and CROSS_B name the two smppd binaries")
	}
	cs := [][]*node{startClusterOf(b, os.Getenv("CROSS_A"), nil), startClusterOf(b, os.Getenv("CROSS_B"), nil)}
	time.Sleep(5 * time.Second)
	var got [2][]float64
	r := 0
	for b.Loop() {
		for k := range 2 {
			i := (k + r) % 2
			c0, _ := cpuTicks(cs[i])
			time.Sleep(8 * time.Second)
			c1, _ := cpuTicks(cs[i])
			v := float64(c1-c0) / clockTicks / 8 * 100
			got[i] = append(got[i], v)
			b.Logf("round %d, %c: idle CPU %.1f%% of one core (three nodes), load %s", r+1, 'A'+i, v, loadAvg())
		}
		r++
	}
	var rs []float64
	for i := range got[0] {
		rs = append(rs, got[1][i]/got[0][i])
	}
	b.ReportMetric(median(got[0]), "idle%-A")
	b.ReportMetric(median(got[1]), "idle%-B")
	b.ReportMetric(median(rs), "B/A")
}
