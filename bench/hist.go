package bench

import (
	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs resolution floor is too coarse for loopback
// round trips, so values are nanoseconds from 100 ns to 5 minutes with
// 3 significant digits (0.1 % error), about 150 KiB per histogram.
const (
	histLow  = 100
	histHigh = int64(300e9)
	histSig  = 3
)

// latencyHist is one session's histogram. record never allocates: values
// are clamped into range so hdr's (allocating) error path is never taken.
type latencyHist struct{ h *hdr.Histogram }

func newLatencyHist() latencyHist { return latencyHist{h: hdr.New(histLow, histHigh, histSig)} }

func (l latencyHist) record(ns int64) {
	if ns < 0 {
		ns = 0
	} else if ns > histHigh {
		ns = histHigh
	}
	_ = l.h.RecordValue(ns)
}

// merge adds o into l.
func (l latencyHist) merge(o latencyHist) { l.h.Merge(o.h) }

// summary converts l to microseconds.
func (l latencyHist) summary() Latency {
	if l.h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(v int64) float64 { return float64(v) / 1e3 }
	return Latency{
		Count: l.h.TotalCount(),
		Mean:  l.h.Mean() / 1e3,
		P50:   us(l.h.ValueAtQuantile(50)),
		P90:   us(l.h.ValueAtQuantile(90)),
		P99:   us(l.h.ValueAtQuantile(99)),
		P999:  us(l.h.ValueAtQuantile(99.9)),
		Max:   us(l.h.Max()),
	}
}
