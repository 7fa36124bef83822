package accounts

import (
	"sync/atomic"
	"testing"
)

func BenchmarkBucketTake(b *testing.B) {
	bk := NewBucket(1e9/2, 1<<20)
	b.ReportAllocs()
	now := t0
	for b.Loop() {
		now += 2
		bk.Take(now, 1)
	}
}

// BenchmarkBucketTakeParallel is the contended case: every goroutine on one
// user's bucket (one hot account spread over many binds).
func BenchmarkBucketTakeParallel(b *testing.B) {
	bk := NewBucket(1e8, 1<<20)
	var clock atomic.Int64
	clock.Store(t0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bk.Take(clock.Add(10), 1)
		}
	})
}

func BenchmarkCreditChargeRefund(b *testing.B) {
	c := NewCredit(Micros(1 << 50))
	b.ReportAllocs()
	for b.Loop() {
		c.Charge(25_000)
		c.Refund(25_000)
	}
}

func BenchmarkAdmit(b *testing.B) {
	var a Admission
	u := prepared(b, UserLimits{Throughput: 1e8, Burst: 1 << 20, Balance: Micros(1 << 60), Quota: 1 << 60})
	b.ReportAllocs()
	now := t0
	for b.Loop() {
		now += 20
		if _, r := a.Admit(u, 1, 0.025, 0, 0, now); r != Admitted {
			b.Fatal(r)
		}
	}
}

func BenchmarkAdmitUnlimited(b *testing.B) {
	var a Admission
	u := prepared(b, UserLimits{})
	b.ReportAllocs()
	for b.Loop() {
		a.Admit(u, 1, 0.025, 0, 0, t0)
	}
}

func BenchmarkAdmitParallel(b *testing.B) {
	var a Admission
	u := prepared(b, UserLimits{Throughput: 1e8, Burst: 1 << 20, Balance: Micros(1 << 60), Quota: 1 << 60})
	var clock atomic.Int64
	clock.Store(t0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Admit(u, 1, 0.025, 0, 0, clock.Add(10))
		}
	})
}
