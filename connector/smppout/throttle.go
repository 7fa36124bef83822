package smppout

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// bucket is the connector-wide throughput limit: a token bucket in its
// GCRA form (a "theoretical arrival time" tat moved one interval per
// submit), so taking a token is one CAS and no refill loop. A submit at
// time now is allowed when tat - now <= tolerance, where tolerance is
// (burst-1) intervals; it then moves tat to max(tat, now) + interval. Over
// any span of T nanoseconds at most burst + T/interval submits pass.
type bucket struct {
	interval  int64 // ns per token; 0 = unlimited
	tolerance int64
	tat       atomic.Int64
}

func (b *bucket) init(perSecond float64, burst int) {
	if perSecond <= 0 {
		return
	}
	b.interval = max(int64(float64(time.Second)/perSecond), 1)
	b.tolerance = int64(max(burst, 1)-1) * b.interval
}

// take takes a token at time now (ns) and returns 0, or returns how long
// to wait before asking again. Any goroutine; never blocks.
func (b *bucket) take(now int64) int64 {
	if b.interval == 0 {
		return 0
	}
	for {
		tat := b.tat.Load()
		t := max(tat, now)
		if d := t - now - b.tolerance; d > 0 {
			return d
		}
		if b.tat.CompareAndSwap(tat, t+b.interval) {
			return 0
		}
	}
}

// backoff returns the n-th (from 0) delay of an exponential backoff from
// lo to hi with equal jitter: half the step fixed, half random, so
// sessions that failed together do not retry together.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}
