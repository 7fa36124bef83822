package policy

import (
	"testing"
	"time"
)

// takeAll takes single parts from sender s until refused and says how
// many passed.
func takeAll(l *Limits, s string, now int64) int {
	n := 0
	for ; n < 1000 && l.Take([]byte(s), "", 1, now) == NoLimit; n++ {
	}
	return n
}

// A cluster node's share scales each bucket's rate and burst; a new share
// grants no fresh burst, keeps the refusal counts, and applies to buckets
// a later Apply makes.
func TestLimitsShare(t *testing.T) {
	l := NewLimits()
	if err := l.Apply([]LimitConfig{{Sender: "BANK", Rate: 10, Burst: 10}, {Sender: "SHOP", Rate: 4}}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0).UnixNano()
	for range 8 {
		if h := l.Take([]byte("BANK"), "", 1, now); h != NoLimit {
			t.Fatal(h)
		}
	}
	l.SetShare(0.5, now) // two nodes
	if n := takeAll(l, "BANK", now); n != 2 {
		t.Fatalf("after the share: %d tokens, want the 2 left (no fresh burst)", n)
	}
	later := now + int64(10*time.Second)
	if n := takeAll(l, "BANK", later); n != 5 {
		t.Fatalf("refilled at half: burst %d, want 5", n)
	}
	if n := takeAll(l, "BANK", later+int64(time.Second)); n != 5 {
		t.Fatalf("one second at half the rate: %d, want 5", n)
	}
	if n := takeAll(l, "SHOP", later); n != 2 {
		t.Fatalf("default burst (one second of 4) at half: %d, want 2", n)
	}
	refused := func() uint64 {
		for _, s := range l.Stats() {
			if s.Name == "BANK" {
				return s.Refused
			}
		}
		return 0
	}
	before := refused()
	if before == 0 {
		t.Fatal("no refusal counted")
	}
	l.SetShare(1.0/3, later)
	if refused() != before {
		t.Fatalf("a new share reset the count: %d, want %d", refused(), before)
	}
	// A reload's new bucket takes the share in force.
	if err := l.Apply([]LimitConfig{{Sender: "NEW", Rate: 30, Burst: 30}}); err != nil {
		t.Fatal(err)
	}
	if n := takeAll(l, "NEW", later); n != 10 {
		t.Fatalf("a bucket applied at a third: %d, want 10", n)
	}
	// Out of range is all of it; a tiny change keeps the buckets.
	l.SetShare(0, later)
	if n := takeAll(l, "NEW", later+int64(time.Minute)); n != 30 {
		t.Fatalf("share 0 (= 1): %d, want 30", n)
	}
	tb := l.t.Load()
	l.SetShare(0.995, later)
	if l.t.Load() != tb {
		t.Fatal("a share within 0.01 rebuilt the buckets")
	}
	var nl *Limits
	nl.SetShare(0.5, now) // nil: nothing to do
}
