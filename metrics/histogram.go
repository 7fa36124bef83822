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
// go to a shard of the scheduler P that makes them, summed at scrape.
// prometheus.Histogram makes four atomic read-modify-writes per observation
// (count, hot index, bucket, and a compare-and-swap loop for the float sum)
// on lines every core shares: each a full barrier, and the two event loops
// observing at once bounce the lines between their cores. Here an
// observation adds to its P's own counts with plain writes while pinned to
// the P (procPin: no other goroutine runs there meanwhile, so each shard has
// one writer at a time, and the scheduler's hand-over of a P orders one
// writer's stores before the next's); a scrape reads the aligned words
// with atomic loads, which see each whole. A P beyond the shards made at
// construction (GOMAXPROCS raised later) adds atomically to the shared
// shard, as every observation does under the race detector, which cannot
// see the pinning, and on 32-bit platforms (plainWrites). Observe does not
// allocate.
type Histogram struct {
	desc   *prometheus.Desc
	labels []string  // values of desc's variable labels
	upper  []float64 // bucket upper bounds, seconds, ascending (a value goes to the first bound >= it)
	shards []histShard
	shared histShard // atomic adds only
}

// plainWrites: observations write their shard without atomics. Not under
// the race detector, and not where a uint64 store is two (32-bit
// platforms: a scrape could read half of one).
const plainWrites = !raceEnabled && ^uintptr(0)>>63 == 1

// maxBuckets bounds the buckets of a Histogram (the +Inf one not counted).
const maxBuckets = 13

// histShard is one P's counts: per bucket (the last is +Inf) and the sum
// (float64 bits), padded to two cache lines so neighbours never share one.
type histShard struct {
	_   [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms too, for their atomic adds
	n   [maxBuckets + 1]uint64
	sum uint64
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
	return &Histogram{desc: desc, labels: labelValues, upper: buckets, shards: make([]histShard, n)}
}

// Observe records one latency in seconds. Safe for concurrent use.
func (h *Histogram) Observe(seconds float64) {
	b := 0
	for b < len(h.upper) && seconds > h.upper[b] {
		b++
	}
	if p := procPin(); p < len(h.shards) && plainWrites {
		sh := &h.shards[p]
		sh.n[b]++
		sh.sum = math.Float64bits(math.Float64frombits(sh.sum) + seconds)
		procUnpin()
		return
	}
	procUnpin()
	sh := &h.shared
	atomic.AddUint64(&sh.n[b], 1)
	for {
		old := atomic.LoadUint64(&sh.sum)
		if atomic.CompareAndSwapUint64(&sh.sum, old, math.Float64bits(math.Float64frombits(old)+seconds)) {
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
	for i := 0; i <= len(h.shards); i++ {
		sh := &h.shared
		if i < len(h.shards) {
			sh = &h.shards[i]
		}
		for b := 0; b <= len(h.upper); b++ {
			per[b] += atomic.LoadUint64(&sh.n[b])
		}
		sum += math.Float64frombits(atomic.LoadUint64(&sh.sum))
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
