package accounts

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func prepared(t testing.TB, u UserLimits) *UserLimits {
	t.Helper()
	if err := u.Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return &u
}

func pri(p uint8) *uint8 { return &p }

func TestPrepareRejects(t *testing.T) {
	for i, u := range []UserLimits{
		{Throughput: -1}, {Burst: -1}, {Quota: -1}, {MaxValidity: -time.Second}, {MaxPriority: pri(4)},
	} {
		if err := u.Prepare(); err != ErrLimits {
			t.Fatalf("case %d: Prepare = %v, want ErrLimits", i, err)
		}
	}
}

func TestAdmitStatusTable(t *testing.T) {
	native, jasmin := &Admission{}, &Admission{JasminCompat: true}
	want := []struct {
		r              Refusal
		native, jasmin uint32
		name           string
	}{
		{Admitted, 0x00, 0x00, "admitted"},
		{RefuseThrottled, 0x58, 0x58, "throttled"},
		{RefuseBalance, 0x45, 0x08, "insufficient balance"},
		{RefuseQuota, 0x45, 0x08, "quota exhausted"},
		{RefusePriority, 0x06, 0x06, "priority above max_priority"},
		{RefusePriorityOff, 0x06, 0x0F, "priority not allowed"},
		{RefuseValidity, 0x62, 0x62, "validity above max_validity"},
		{RefuseInternal, 0x08, 0x08, "internal error"},
		{Refusal(200), 0x08, 0x08, "refusal(200)"},
	}
	for _, w := range want {
		if native.Status(w.r) != w.native || jasmin.Status(w.r) != w.jasmin || w.r.String() != w.name {
			t.Fatalf("%v: native %#x jasmin %#x name %q; want %#x %#x %q", w.r, native.Status(w.r),
				jasmin.Status(w.r), w.r.String(), w.native, w.jasmin, w.name)
		}
	}
}

func TestAdmitRefusals(t *testing.T) {
	var a Admission
	u := prepared(t, UserLimits{MaxPriority: pri(1), MaxValidity: time.Hour})
	cases := []struct {
		parts    int
		rate     float64
		priority uint8
		validity time.Duration
		want     Refusal
	}{
		{1, 0, 1, time.Hour, Admitted},
		{1, 0, 2, 0, RefusePriority},
		{1, 0, 4, 0, RefusePriority},
		{1, 0, 0, time.Hour + 1, RefuseValidity},
		{1, 0, 0, -1, RefuseValidity},
		{0, 0, 0, 0, RefuseInternal},
		{1, -1, 0, 0, RefuseInternal},
	}
	for i, c := range cases {
		if _, r := a.Admit(u, c.parts, c.rate, c.priority, c.validity, t0); r != c.want {
			t.Fatalf("case %d: %v, want %v", i, r, c.want)
		}
	}
	off := prepared(t, UserLimits{MaxPriority: pri(0)})
	if _, r := a.Admit(off, 1, 0, 1, 0, t0); r != RefusePriorityOff {
		t.Fatalf("priority with max 0: %v", r)
	}
	if _, r := a.Admit(off, 1, 0, 9, 0, t0); r != RefusePriority {
		t.Fatalf("invalid priority 9 with max 0: %v", r)
	}
	if _, r := a.Admit(&UserLimits{}, 1, 0, 0, 0, t0); r != RefuseInternal {
		t.Fatalf("unprepared limits: %v", r)
	}
	if _, r := a.Admit(nil, 1, 0, 0, 0, t0); r != RefuseInternal {
		t.Fatalf("nil limits: %v", r)
	}
	big := prepared(t, UserLimits{Balance: Micros(1)})
	if _, r := a.Admit(big, 1<<40, 1e9, 0, 0, t0); r != RefuseInternal {
		t.Fatalf("overflowing cost: %v", r)
	}
}

func TestAdmitChargesPerPartAndRefunds(t *testing.T) {
	var a Admission
	u := prepared(t, UserLimits{Balance: Micros(1_000_000), Quota: 10})
	ch, r := a.Admit(u, 3, 0.1, 0, 0, t0)
	if r != Admitted || ch.Micros() != 300_000 || ch.Parts() != 3 {
		t.Fatalf("Admit = %v micros %d parts %d", r, ch.Micros(), ch.Parts())
	}
	if got := u.Credit().Balance().Micros(); got != 700_000 {
		t.Fatalf("balance %d, want 700000", got)
	}
	if left, _ := u.QuotaCounter().Left(); left != 7 {
		t.Fatalf("quota left %d, want 7", left)
	}
	ch.Refund(1)
	ch.Refund(1) // cleared: second call is a no-op
	if got := u.Credit().Balance().Micros(); got != 1_000_000 {
		t.Fatalf("balance after refund %d", got)
	}
	if left, _ := u.QuotaCounter().Left(); left != 10 {
		t.Fatalf("quota after refund %d", left)
	}
	// Free route: quota still counted, balance untouched.
	ch, r = a.Admit(u, 2, 0, 0, 0, t0)
	if r != Admitted || ch.Micros() != 0 || ch.Parts() != 2 {
		t.Fatalf("free route: %v %d %d", r, ch.Micros(), ch.Parts())
	}
	// Unlimited everything: nothing recorded.
	un := prepared(t, UserLimits{})
	ch, r = a.Admit(un, 5, 3.5, 3, 365*24*time.Hour, t0)
	if r != Admitted || ch != (Charge{}) {
		t.Fatalf("unlimited: %v %+v", r, ch)
	}
}

func TestAdmitRefusalTakesNothing(t *testing.T) {
	var a Admission
	// Balance for 2 parts, quota 5, burst 4.
	u := prepared(t, UserLimits{Throughput: 1, Burst: 4, Balance: Micros(2_000), Quota: 5})
	if _, r := a.Admit(u, 3, 0.001, 0, 0, t0); r != RefuseBalance {
		t.Fatalf("3 parts on a 2-part balance: %v", r)
	}
	if left, _ := u.QuotaCounter().Left(); left != 5 {
		t.Fatalf("balance refusal kept quota: %d left", left)
	}
	if got := u.Bucket().Tokens(t0); got != 4 {
		t.Fatalf("balance refusal kept tokens: %d left", got)
	}
	if _, r := a.Admit(u, 2, 0.001, 0, 0, t0); r != Admitted {
		t.Fatalf("2 parts: %v", r)
	}
	if _, r := a.Admit(u, 2, 0, 0, 0, t0); r != Admitted {
		t.Fatalf("2 free parts: %v", r)
	}
	// Bucket now empty: throttled before quota or balance are looked at.
	if _, r := a.Admit(u, 1, 0, 0, 0, t0); r != RefuseThrottled {
		t.Fatalf("empty bucket: %v", r)
	}
	now := t0 + int64(2*time.Second)
	if _, r := a.Admit(u, 2, 0, 0, 0, now); r != RefuseQuota {
		t.Fatalf("quota 1 left, 2 parts: %v", r)
	}
	if got := u.Bucket().Tokens(now); got != 2 {
		t.Fatalf("quota refusal kept tokens: %d", got)
	}
	if _, r := a.Admit(u, 1, 0, 0, 0, now); r != Admitted {
		t.Fatalf("last quota part: %v", r)
	}
	if _, r := a.Admit(u, 1, 0, 0, 0, now); r != RefuseQuota {
		t.Fatalf("quota used up: %v", r)
	}
}

func TestAdmitConcurrentExactBalance(t *testing.T) {
	const n = 200 // balance covers exactly n parts
	var a Admission
	u := prepared(t, UserLimits{Balance: Micros(n * 25_000), Quota: n + 50})
	var ok, refused atomic.Int64
	charges := make(chan Charge, n)
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				ch, r := a.Admit(u, 1, 0.025, 0, 0, t0)
				switch r {
				case Admitted:
					ok.Add(1)
					charges <- ch
				case RefuseBalance:
					refused.Add(1)
				default:
					t.Errorf("unexpected refusal %v", r)
				}
			}
		}()
	}
	wg.Wait()
	close(charges)
	if ok.Load() != n || refused.Load() != 320-n {
		t.Fatalf("admitted %d refused %d, want %d and %d", ok.Load(), refused.Load(), n, 320-n)
	}
	if b := u.Credit().Balance().Micros(); b != 0 {
		t.Fatalf("balance left %d", b)
	}
	if left, _ := u.QuotaCounter().Left(); left != 50 {
		t.Fatalf("quota left %d, want 50 (refused submits must give quota back)", left)
	}
	// Upstream refuses everything: concurrent refunds restore the exact balance.
	var rw sync.WaitGroup
	for ch := range charges {
		rw.Add(1)
		go func(ch Charge) { defer rw.Done(); ch.Refund(1) }(ch)
	}
	rw.Wait()
	if b := u.Credit().Balance().Micros(); b != n*25_000 {
		t.Fatalf("balance after refunds %d, want %d", b, n*25_000)
	}
	if left, _ := u.QuotaCounter().Left(); left != n+50 {
		t.Fatalf("quota after refunds %d", left)
	}
}

func TestAdmitConcurrentThrottle(t *testing.T) {
	var a Admission
	u := prepared(t, UserLimits{Throughput: 50, Burst: 64})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, r := a.Admit(u, 2, 0, 0, 0, t0); r == Admitted {
					ok.Add(1)
				} else if r != RefuseThrottled {
					t.Errorf("unexpected %v", r)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 32 { // 64 tokens, 2 parts each
		t.Fatalf("admitted %d two-part messages, want 32", ok.Load())
	}
}

func TestPrepareSharesLiveCounters(t *testing.T) {
	u := prepared(t, UserLimits{Quota: 1})
	cp := *u
	var a Admission
	if _, r := a.Admit(&cp, 1, 0, 0, 0, t0); r != Admitted {
		t.Fatal(r)
	}
	if _, r := a.Admit(u, 1, 0, 0, 0, t0); r != RefuseQuota {
		t.Fatalf("copy did not share the quota: %v", r)
	}
}
