package metrics

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname procPin, procUnpin

	"github.com/prometheus/client_golang/prometheus"
)

// Histogram is a latency histogram with fixed buckets whose observations
// are spread over shards, one per scheduler P (rounded up to a power of
// two), and summed at scrape. prometheus.Histogram makes four atomic
// read-modify-writes per observation (count, hot index, bucket, and a
// compare-and-swap loop for the float sum) on lines every core shares, so
// the two event loops observing at once bounce them between cores; here an
// observation is an uncontended atomic add and compare-and-swap on its P's
// own lines. Observe does not allocate.
type Histogram struct {
	desc   *prometheus.Desc
	labels []string  // values of desc's variable labels
	upper  []float64 // bucket upper bounds, seconds, ascending (a value goes to the first bound >= it)
	shards []histShard
	mask   int
}

// maxBuckets bounds the buckets of a Histogram (the +Inf one not counted).
const maxBuckets = 13

// histShard is one P's counts: per bucket (the last is +Inf) and the sum
// (float64 bits), padded to two cache lines so neighbours never share one.
type histShard struct {
	n   [maxBuckets + 1]atomic.Uint64
	sum atomic.Uint64
	_   [128 - (maxBuckets+2)*8]byte
}

// procPin pins the calling goroutine to its P and returns the P's id;
// procUnpin undoes it. sync.Pool shards by P the same way; the runtime keeps
// both for linkname users (go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// newHistogram returns a Histogram for desc's series with labelValues,
// buckets in seconds (ascending, at most maxBuckets).
func newHistogram(desc *prometheus.Desc, buckets []float64, labelValues ...string) *Histogram {
	if len(buckets) > maxBuckets {
		panic("BUG: metrics: more histogram buckets than maxBuckets")
	}
	n := 1
	for n < runtime.GOMAXPROCS(0) {
		n <<= 1
	}
	h := &Histogram{desc: desc, labels: labelValues, upper: buckets, shards: make([]histShard, n), mask: n - 1}
	return h
}

// Observe records one latency in seconds. Safe for concurrent use.
func (h *Histogram) Observe(seconds float64) {
	b := 0
	for b < len(h.upper) && seconds > h.upper[b] {
		b++
	}
	sh := &h.shards[procPin()&h.mask]
	procUnpin() // the shard only spreads the writes; a move to another P is harmless
	sh.n[b].Add(1)
	for {
		old := sh.sum.Load()
		if sh.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+seconds)) {
			return
		}
	}
}

// snapshot returns the total count, the sum in seconds and the cumulative
// bucket counts (keyed by upper bound) over every shard. Observations in
// progress are counted or not, each whole in its bucket; count is the sum of
// the buckets, so a scrape is never inconsistent with itself.
func (h *Histogram) snapshot() (count uint64, sum float64, cum map[float64]uint64) {
	var per [maxBuckets + 1]uint64
	for i := range h.shards {
		sh := &h.shards[i]
		for b := 0; b <= len(h.upper); b++ {
			per[b] += sh.n[b].Load()
		}
		sum += math.Float64frombits(sh.sum.Load())
	}
	cum = make(map[float64]uint64, len(h.upper))
	for b, up := range h.upper {
		count += per[b]
		cum[up] = count
	}
	count += per[len(h.upper)]
	return count, sum, cum
}

func (h *Histogram) metric() prometheus.Metric {
	count, sum, cum := h.snapshot()
	return prometheus.MustNewConstHistogram(h.desc, count, sum, cum, h.labels...)
}

// Describe and Collect make a Histogram a prometheus.Collector.
func (h *Histogram) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }
func (h *Histogram) Collect(ch chan<- prometheus.Metric) { ch <- h.metric() }

// HistogramVec is a family of Histograms told apart by one label (the
// connector). With resolves a child once; the hot path keeps the child.
type HistogramVec struct {
	desc    *prometheus.Desc
	buckets []float64
	mu      sync.Mutex
	kids    map[string]*Histogram
}

func newHistogramVec(name, help, label string, buckets []float64) *HistogramVec {
	return &HistogramVec{
		desc:    prometheus.NewDesc(name, help, []string{label}, nil),
		buckets: buckets,
		kids:    make(map[string]*Histogram),
	}
}

// With returns the child for value, creating it on first use.
func (v *HistogramVec) With(value string) *Histogram {
	v.mu.Lock()
	defer v.mu.Unlock()
	h := v.kids[value]
	if h == nil {
		h = newHistogram(v.desc, v.buckets, value)
		v.kids[value] = h
	}
	return h
}

// Delete drops value's child: its series leaves the scrape.
func (v *HistogramVec) Delete(value string) {
	v.mu.Lock()
	delete(v.kids, value)
	v.mu.Unlock()
}

func (v *HistogramVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

func (v *HistogramVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	kids := make([]*Histogram, 0, len(v.kids))
	for _, h := range v.kids {
		kids = append(kids, h)
	}
	v.mu.Unlock()
	for _, h := range kids {
		ch <- h.metric()
	}
}
