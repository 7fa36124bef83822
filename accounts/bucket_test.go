package accounts

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const t0 = int64(1_767_225_600) * int64(time.Second) // 2026-01-01, an arbitrary Unix-nanosecond start

func TestBucketBurstThenRefill(t *testing.T) {
	b := NewBucket(10, 5) // one token per 100ms, five at most
	for i := 0; i < 5; i++ {
		if !b.Take(t0, 1) {
			t.Fatalf("burst take %d refused", i)
		}
	}
	if b.Take(t0, 1) {
		t.Fatal("6th take within the same instant admitted")
	}
	if got := b.Tokens(t0); got != 0 {
		t.Fatalf("Tokens after burst = %d, want 0", got)
	}
	now := t0 + int64(99*time.Millisecond)
	if b.Take(now, 1) {
		t.Fatal("token available before one interval elapsed")
	}
	now = t0 + int64(100*time.Millisecond)
	if !b.Take(now, 1) {
		t.Fatal("token not refilled after one interval")
	}
	if b.Take(now, 1) {
		t.Fatal("second token after one interval")
	}
	// A long idle period refills to burst, never beyond.
	now += int64(time.Hour)
	if got := b.Tokens(now); got != 5 {
		t.Fatalf("Tokens after idle = %d, want 5", got)
	}
	if !b.Take(now, 5) || b.Take(now, 1) {
		t.Fatal("refilled bucket should give exactly 5")
	}
}

func TestBucketMultiPart(t *testing.T) {
	b := NewBucket(2, 4)
	if b.Take(t0, 5) {
		t.Fatal("take above burst admitted")
	}
	if !b.Take(t0, 3) {
		t.Fatal("3 parts of 4 refused")
	}
	if b.Take(t0, 2) {
		t.Fatal("2 parts with 1 left admitted")
	}
	if got := b.Tokens(t0); got != 1 {
		t.Fatalf("a refused take changed the bucket: Tokens = %d, want 1", got)
	}
	// 2/s: one more token after 500ms.
	if !b.Take(t0+int64(500*time.Millisecond), 2) {
		t.Fatal("2 parts after refill refused")
	}
}

func TestBucketReturn(t *testing.T) {
	b := NewBucket(1, 3)
	if !b.Take(t0, 3) {
		t.Fatal("burst refused")
	}
	b.Return(t0, 2)
	if got := b.Tokens(t0); got != 2 {
		t.Fatalf("Tokens after Return(2) = %d, want 2", got)
	}
	b.Return(t0, 10) // cannot overfill
	if got := b.Tokens(t0); got != 3 {
		t.Fatalf("Tokens after over-return = %d, want 3", got)
	}
	b.Return(t0, 1) // already full: no effect
	if !b.Take(t0, 3) || b.Take(t0, 1) {
		t.Fatal("bucket overfilled by Return")
	}
}

func TestBucketDefaultsAndEdges(t *testing.T) {
	for _, rate := range []float64{0, -1, 2e9} {
		b := NewBucket(rate, 0)
		if !b.Unlimited() || !b.Take(t0, 1_000_000) || b.Tokens(t0) != -1 || b.Burst() != 0 {
			t.Fatalf("rate %v: want unlimited", rate)
		}
	}
	var nb *Bucket
	if !nb.Take(t0, 1) {
		t.Fatal("nil bucket refused")
	}
	nb.Return(t0, 1)
	if got := NewBucket(2.5, 0).Burst(); got != 3 {
		t.Fatalf("default burst for 2.5/s = %d, want 3", got)
	}
	if got := NewBucket(0.2, 0).Burst(); got != 1 {
		t.Fatalf("default burst for 0.2/s = %d, want 1", got)
	}
	b := NewBucket(0.5, 1) // one token per 2s
	if !b.Take(t0, 1) || b.Take(t0+int64(1999*time.Millisecond), 1) || !b.Take(t0+int64(2*time.Second), 1) {
		t.Fatal("fractional rate refill wrong")
	}
	if !b.Take(t0, 0) || b.Take(t0, -1) {
		t.Fatal("n == 0 must succeed and n < 0 fail")
	}
	huge := NewBucket(1e-9, 1<<62) // burst cut so state cannot overflow
	if huge.Burst() < 1 || !huge.Take(t0, 1) {
		t.Fatal("huge burst bucket unusable")
	}
	// A clock at zero or below works: the new bucket is full at any time.
	if !NewBucket(1, 1).Take(-5, 1) {
		t.Fatal("new bucket refused at negative time")
	}
}

func TestBucketConcurrentExactBurst(t *testing.T) {
	const n = 100
	b := NewBucket(1, n)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if b.Take(t0, 1) {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := ok.Load(); got != n {
		t.Fatalf("%d takes admitted from a burst of %d", got, n)
	}
}
