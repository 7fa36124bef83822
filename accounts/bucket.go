package accounts

import (
	"math"
	"sync/atomic"
)

// maxTau caps how far ahead of now the bucket state may run (about 36 years),
// so now + tau + cost stays far from int64 overflow for any Unix-nanosecond
// clock.
const maxTau = int64(1) << 60

// Bucket is a token bucket of rate tokens per second holding at most burst
// tokens. It is kept in GCRA form: the whole state is one int64, the
// theoretical arrival time (TAT) at which the bucket is full again, so Take
// and Return are a single CAS loop, lock-free and allocation-free. A new
// bucket starts full.
//
// Times are int64 nanoseconds from any clock that does not jump backwards by
// much (time.Now().UnixNano(), or an injected clock in tests); a clock that
// goes backwards only makes the bucket stricter for that long. All methods are
// safe for concurrent use. A nil *Bucket or a zero rate is unlimited.
type Bucket struct {
	tat      atomic.Int64 // time the bucket is full again; MinInt64 = full
	interval int64        // nanoseconds per token; 0 = unlimited
	tau      int64        // burst * interval: how far tat may run ahead of now
	burst    int64
	share    float64 // the part of the configured rate this bucket allows (SplitThroughput); 0 = all of it
}

// NewBucket returns a full bucket. rate <= 0 (or NaN) is unlimited, and so is
// a rate above 1e9/s (under a nanosecond per token). burst <= 0 means one
// second's worth, ceil(rate), and at least 1. A burst so large that it would
// take more than 2^60 ns to refill is cut to that.
func NewBucket(rate float64, burst int) *Bucket {
	b := &Bucket{}
	b.tat.Store(math.MinInt64)
	if !(rate > 0) || math.IsInf(rate, 1) {
		return b
	}
	iv := 1e9 / rate
	if iv < 1 {
		return b
	}
	iv = math.Round(iv)
	if iv > float64(maxTau) {
		iv = float64(maxTau)
	}
	b.interval = int64(iv)
	bu := int64(burst)
	if bu <= 0 {
		bu = int64(math.Ceil(rate))
		if bu < 1 {
			bu = 1
		}
	}
	if bu > maxTau/b.interval {
		bu = maxTau / b.interval
	}
	b.burst = bu
	b.tau = bu * b.interval
	return b
}

// Unlimited reports whether the bucket never refuses.
func (b *Bucket) Unlimited() bool { return b == nil || b.interval == 0 }

// Burst is the most tokens one Take can get; 0 when unlimited.
func (b *Bucket) Burst() int {
	if b.Unlimited() {
		return 0
	}
	return int(b.burst)
}

// Take removes n tokens at time now and reports whether there were enough;
// on false nothing is taken. n == 0 always succeeds, n < 0 and n > Burst()
// always fail on a limited bucket.
func (b *Bucket) Take(now int64, n int) bool {
	if b.Unlimited() {
		return n >= 0
	}
	if n <= 0 {
		return n == 0
	}
	if int64(n) > b.burst {
		return false
	}
	cost := int64(n) * b.interval // <= tau, no overflow
	for {
		old := b.tat.Load()
		t := max(old, now)
		next := t + cost
		if next-now > b.tau {
			return false
		}
		if b.tat.CompareAndSwap(old, next) {
			return true
		}
	}
}

// Return gives back n tokens taken earlier (for a request refused by a later
// check). The bucket never ends up fuller than full.
func (b *Bucket) Return(now int64, n int) {
	if b.Unlimited() || n <= 0 {
		return
	}
	cost := int64(min(int64(n), b.burst)) * b.interval
	for {
		old := b.tat.Load()
		if old <= now {
			return // already full
		}
		next := max(old-cost, now)
		if b.tat.CompareAndSwap(old, next) {
			return
		}
	}
}

// Tokens is the number of whole tokens available at now (-1 when unlimited).
func (b *Bucket) Tokens(now int64) int {
	if b.Unlimited() {
		return -1
	}
	ahead := max(b.tat.Load(), now) - now
	return int((b.tau - ahead) / b.interval)
}
