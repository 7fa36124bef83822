package accounts

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestParseAmount(t *testing.T) {
	good := []struct {
		in        string
		micros    int64
		unlimited bool
		str       string
	}{
		{"", 0, true, "unlimited"},
		{"unlimited", 0, true, "unlimited"},
		{" UNLIMITED ", 0, true, "unlimited"},
		{"0", 0, false, "0"},
		{"12", 12_000_000, false, "12"},
		{"+0.25", 250_000, false, "0.25"},
		{"12.500000", 12_500_000, false, "12.5"}, // how the TOML decoder formats a float 12.5
		{".000001", 1, false, "0.000001"},
		{"3.", 3_000_000, false, "3"},
		{"999999999999.999999", MaxMicros, false, "999999999999.999999"},
	}
	for _, c := range good {
		a, err := ParseAmount(c.in)
		if err != nil {
			t.Fatalf("ParseAmount(%q): %v", c.in, err)
		}
		if a.IsUnlimited() != c.unlimited || a.Micros() != c.micros || a.String() != c.str {
			t.Fatalf("ParseAmount(%q) = %v/%d/%q, want %v/%d/%q", c.in, a.IsUnlimited(), a.Micros(), a.String(),
				c.unlimited, c.micros, c.str)
		}
		var back Amount
		text, _ := a.MarshalText()
		if err := back.UnmarshalText(text); err != nil || back != a {
			t.Fatalf("round trip of %q via %q = %v, %v", c.in, text, back, err)
		}
	}
	for _, in := range []string{"-1", "1.2345678", ".", "abc", "1e3", "1.2.3", "1000000000000", "9223372036854", "0x10", "+", "1 2"} {
		var a Amount
		if err := a.UnmarshalText([]byte(in)); !errors.Is(err, ErrAmount) {
			t.Fatalf("UnmarshalText(%q) = %v, want ErrAmount", in, err)
		}
	}
}

func TestRateMicros(t *testing.T) {
	for rate, want := range map[float64]int64{0: 0, 0.1: 100_000, 0.0000004: 0, 0.0000005: 1, 1.5: 1_500_000} {
		if got, ok := RateMicros(rate); !ok || got != want {
			t.Fatalf("RateMicros(%v) = %d, %v; want %d", rate, got, ok, want)
		}
	}
	for _, rate := range []float64{-0.1, 2e12} {
		if _, ok := RateMicros(rate); ok {
			t.Fatalf("RateMicros(%v) accepted", rate)
		}
	}
}

func TestCreditChargeRefund(t *testing.T) {
	c := NewCredit(Micros(1_000_000))
	if !c.Charge(400_000) || !c.Charge(600_000) {
		t.Fatal("charges within balance refused")
	}
	if c.Charge(1) {
		t.Fatal("charge on empty balance admitted")
	}
	c.Refund(600_000)
	if got := c.Balance(); got != Micros(600_000) {
		t.Fatalf("balance after refund = %v, want 0.6", got)
	}
	if c.Charge(-1) || !c.Charge(0) {
		t.Fatal("negative charge must fail, zero succeed")
	}
	if !c.Adjust(400_000) || c.Adjust(-1_000_001) || !c.Adjust(-1_000_000) {
		t.Fatal("Adjust wrong")
	}
	if got := c.Balance().Micros(); got != 0 {
		t.Fatalf("balance = %d, want 0", got)
	}
	const top = int64(1<<63 - 6)
	full := NewCredit(Micros(top))
	if full.Adjust(10) || full.Balance().Micros() != top {
		t.Fatal("Adjust overflowed")
	}
	u := NewCredit(Unlimited)
	if !u.Charge(1<<62) || !u.Balance().IsUnlimited() {
		t.Fatal("unlimited credit refused or counted")
	}
	var nilc *Credit
	if !nilc.Charge(5) || !nilc.Balance().IsUnlimited() {
		t.Fatal("nil credit is not unlimited")
	}
	nilc.Refund(5)
}

func TestCreditConcurrentExact(t *testing.T) {
	const parts, per = 500, 15_000 // 500 parts at 0.015
	c := NewCredit(Micros(parts * per))
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if c.Charge(per) {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := ok.Load(); got != parts {
		t.Fatalf("%d charges succeeded, want exactly %d", got, parts)
	}
	if got := c.Balance().Micros(); got != 0 {
		t.Fatalf("balance left %d, want 0", got)
	}
}

func TestQuota(t *testing.T) {
	q := NewQuota(3)
	if !q.Take(2) || q.Take(2) || !q.Take(1) || q.Take(1) {
		t.Fatal("quota exhaustion wrong")
	}
	q.Refund(2)
	if n, lim := q.Left(); !lim || n != 2 {
		t.Fatalf("Left = %d, %v; want 2, true", n, lim)
	}
	if q.Take(-1) {
		t.Fatal("negative take admitted")
	}
	u := NewQuota(0)
	if !u.Take(1 << 40) {
		t.Fatal("unlimited quota refused")
	}
	if _, lim := u.Left(); lim {
		t.Fatal("quota 0 should be unlimited")
	}
}

func TestQuotaConcurrentExhaustion(t *testing.T) {
	const n = 300
	q := NewQuota(n)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if q.Take(1) {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if left, _ := q.Left(); ok.Load() != n || left != 0 {
		t.Fatalf("%d takes succeeded, %d left; want %d and 0", ok.Load(), left, n)
	}
}
