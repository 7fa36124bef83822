package metrics

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// write returns the dto form of c's one metric.
func write(t testing.TB, c prometheus.Collector) *dto.Metric {
	t.Helper()
	ch := make(chan prometheus.Metric, 4)
	c.Collect(ch)
	close(ch)
	var out []*dto.Metric
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, &d)
	}
	if len(out) != 1 {
		t.Fatalf("collected %d metrics, want 1", len(out))
	}
	return out[0]
}

// The sharded histogram exports what prometheus.Histogram exports for the
// same observations: count, sum and every cumulative bucket, values on a
// bound included in that bound's bucket.
func TestHistogramMatchesPrometheus(t *testing.T) {
	buckets := []float64{0.001, 0.01, 0.1, 1}
	ours := newHistogram(prometheus.NewDesc("x_seconds", "x", nil, nil), buckets)
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: buckets})
	for _, v := range []float64{-1, 0, 0.0005, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.5, 1, 2, 1e6} {
		ours.Observe(v)
		ref.Observe(v)
	}
	got, want := write(t, ours).GetHistogram(), write(t, ref).GetHistogram()
	if got.GetSampleCount() != want.GetSampleCount() || got.GetSampleSum() != want.GetSampleSum() {
		t.Fatalf("count %d sum %g, want %d %g", got.GetSampleCount(), got.GetSampleSum(), want.GetSampleCount(), want.GetSampleSum())
	}
	if len(got.GetBucket()) != len(want.GetBucket()) {
		t.Fatalf("%d buckets, want %d", len(got.GetBucket()), len(want.GetBucket()))
	}
	for i, b := range want.GetBucket() {
		g := got.GetBucket()[i]
		if g.GetUpperBound() != b.GetUpperBound() || g.GetCumulativeCount() != b.GetCumulativeCount() {
			t.Errorf("bucket %d: le %g count %d, want le %g count %d", i, g.GetUpperBound(), g.GetCumulativeCount(), b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
}

// Observations from many goroutines at once are all counted (run with -race
// too), also from Ps beyond the shards made at construction (one kept
// here: GOMAXPROCS raised later), which share the atomic shard.
func TestHistogramConcurrent(t *testing.T) {
	for _, keep := range []int{-1, 1} {
		h := newHistogram(prometheus.NewDesc("y_seconds", "y", nil, nil), submitBuckets)
		if keep >= 0 {
			h.shards = h.shards[:keep]
		}
		observeConcurrently(t, h)
	}
}

func observeConcurrently(t *testing.T, h *Histogram) {
	const goroutines, each = 8, 5000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range each {
				h.Observe(float64(i%100) * 1e-5)
			}
		})
	}
	// A scrape while they run sees a count equal to its buckets' total.
	for range 10 {
		m := write(t, h).GetHistogram()
		if b := m.GetBucket(); m.GetSampleCount() < b[len(b)-1].GetCumulativeCount() {
			t.Fatalf("count %d below the last bucket's %d", m.GetSampleCount(), b[len(b)-1].GetCumulativeCount())
		}
	}
	wg.Wait()
	m := write(t, h).GetHistogram()
	if m.GetSampleCount() != goroutines*each {
		t.Fatalf("count %d, want %d", m.GetSampleCount(), goroutines*each)
	}
	const wantSum = goroutines * each / 100 * (99 * 100 / 2) * 1e-5
	if d := m.GetSampleSum() - wantSum; d > 1e-6 || d < -1e-6 {
		t.Fatalf("sum %g, want %g", m.GetSampleSum(), wantSum)
	}
}

// A vec's children are its label values; Delete takes one out of the scrape.
func TestHistogramVecWithDelete(t *testing.T) {
	v := newHistogramVec("z_seconds", "z", "connector", acceptBuckets)
	if a := v.With("a"); v.With("a") != a {
		t.Fatal("With resolved two children for one value")
	}
	v.With("a").Observe(0.002)
	v.With("b").Observe(0.002)
	v.Delete("b")
	m := write(t, v)
	if lp := m.GetLabel(); len(lp) != 1 || lp[0].GetName() != "connector" || lp[0].GetValue() != "a" {
		t.Fatalf("labels %v, want connector=a", lp)
	}
	if m.GetHistogram().GetSampleCount() != 1 {
		t.Fatalf("count %d, want 1", m.GetHistogram().GetSampleCount())
	}
}

func TestHistogramObserveDoesNotAllocate(t *testing.T) {
	h := newHistogram(prometheus.NewDesc("w_seconds", "w", nil, nil), submitBuckets)
	if n := testing.AllocsPerRun(1000, func() { h.Observe(0.0002) }); n != 0 {
		t.Fatalf("Observe allocates %.1f times", n)
	}
}

// BenchmarkObserveParallel: every P observing into one histogram, the
// event loops' pattern (three observations per message).
func BenchmarkObserveParallel(b *testing.B) {
	b.Run("sharded", func(b *testing.B) {
		h := newHistogram(prometheus.NewDesc("b_seconds", "b", nil, nil), submitBuckets)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Observe(0.0002)
			}
		})
	})
	b.Run("prometheus", func(b *testing.B) {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "b_seconds", Help: "b", Buckets: submitBuckets})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Observe(0.0002)
			}
		})
	})
}
