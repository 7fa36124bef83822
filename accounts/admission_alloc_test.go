//go:build !race

package accounts

import "testing"

func TestAdmissionZeroAlloc(t *testing.T) {
	var a Admission
	u := prepared(t, UserLimits{Throughput: 1e6, Burst: 1 << 20, Balance: Micros(1 << 50), Quota: 1 << 40})
	b := NewBucket(1e6, 1<<20)
	c := NewCredit(Micros(1 << 50))
	q := NewQuota(1 << 40)
	now := t0
	cases := map[string]func(){
		"Bucket.Take":   func() { now += 1000; b.Take(now, 1) },
		"Bucket.Return": func() { b.Return(now, 1) },
		"Credit.Charge": func() { c.Charge(10) },
		"Credit.Refund": func() { c.Refund(10) },
		"Quota.Take":    func() { q.Take(1) },
		"Quota.Refund":  func() { q.Refund(1) },
		"Admit+Refund": func() {
			now += 3000
			ch, r := a.Admit(u, 3, 0.01, 1, 0, now)
			if r != Admitted {
				t.Fatalf("refused: %v", r)
			}
			ch.Refund(1)
		},
		"Admit refused": func() { a.Admit(u, 1, 0, 9, 0, now) },
		"Status":        func() { a.Status(RefuseBalance) },
	}
	// A refund written to a ledger: the entry is passed by value.
	led := ledgerStore(t, &bookLedger{entries: make([]LedgerEntry, 0, 4096)},
		ledgerUser(t, "a", Micros(1<<50), 1<<40, 0))
	cases["Admit+Refund to a ledger"] = func() {
		now += 3000
		ch, r := a.Admit(limitsOf(led, "a"), 1, 0.01, 0, 0, now)
		if r != Admitted {
			t.Fatalf("refused: %v", r)
		}
		if err := ch.Refund(1); err != nil {
			t.Fatal(err)
		}
	}
	cases["HeldLimit"] = func() { led.HeldLimit("a") }
	for name, f := range cases {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", name, n)
		}
	}
}
