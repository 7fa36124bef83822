package policy

import (
	"strings"
	"testing"
	"time"
)

func TestLimitsSenderAndRoute(t *testing.T) {
	l := NewLimits()
	if err := l.Apply([]LimitConfig{
		{Sender: "BANK", Rate: 1, Burst: 2},
		{Sender: "BANK2", Rate: 1, Burst: 1},
		{Route: "premium", Rate: 1, Burst: 3},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0).UnixNano()
	// The sender's two tokens, then refused by the sender.
	for i := range 2 {
		if h := l.Take([]byte("BANK"), "other", 1, now); h != NoLimit {
			t.Fatalf("BANK %d: %v", i, h)
		}
	}
	if h := l.Take([]byte("BANK"), "other", 1, now); h != SenderLimit {
		t.Fatalf("BANK 3: %v, want SenderLimit", h)
	}
	// The route's three tokens (any sender), then refused by the route,
	// which gives back the sender's token it took.
	for i := range 3 {
		if h := l.Take([]byte("SHOP"), "premium", 1, now); h != NoLimit {
			t.Fatalf("premium %d: %v", i, h)
		}
	}
	if h := l.Take([]byte("BANK2"), "premium", 1, now); h != RouteLimit {
		t.Fatalf("BANK2 on premium: %v, want RouteLimit", h)
	}
	if h := l.Take([]byte("BANK2"), "other", 1, now); h != NoLimit {
		t.Fatalf("the sender's token was not given back: %v", h)
	}
	later := now + int64(time.Second)
	// Give puts back what a later refusal did not use.
	if h := l.Take([]byte("X"), "premium", 1, later+int64(time.Second)); h != NoLimit {
		t.Fatalf("after refill: %v", h)
	}
	l.Give([]byte("X"), "premium", 1, later+int64(time.Second))
	if h := l.Take([]byte("X"), "premium", 1, later+int64(time.Second)); h != NoLimit {
		t.Fatalf("after give: %v", h)
	}
	// Unlisted senders and routes are not limited; parts count.
	if h := l.Take([]byte("ANY"), "any", 1000, now); h != NoLimit {
		t.Fatalf("unlisted: %v", h)
	}
	if h := l.Take([]byte("BANK"), "", 3, later+int64(10*time.Second)); h != SenderLimit {
		t.Fatalf("3 parts on a burst of 2: %v", h)
	}
	got := map[string]uint64{}
	for _, s := range l.Stats() {
		got[s.Scope+":"+s.Name] = s.Refused
	}
	if got["sender:BANK"] != 2 || got["route:premium"] != 1 {
		t.Fatalf("stats %v", got)
	}
}

// A reload keeps the state of a bucket whose rate and burst did not change.
func TestLimitsReloadKeepsBuckets(t *testing.T) {
	l := NewLimits()
	cfg := []LimitConfig{{Sender: "BANK", Rate: 1, Burst: 1}, {Route: "r", Rate: 1, Burst: 1}}
	if err := l.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0).UnixNano()
	l.Take([]byte("BANK"), "", 1, now)
	if err := l.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if h := l.Take([]byte("BANK"), "", 1, now); h != SenderLimit {
		t.Fatalf("a same-limit reload refilled the bucket: %v", h)
	}
	if err := l.Apply([]LimitConfig{{Sender: "BANK", Rate: 5}}); err != nil {
		t.Fatal(err)
	}
	if h := l.Take([]byte("BANK"), "", 1, now); h != NoLimit {
		t.Fatalf("a changed limit starts full: %v", h)
	}
	if err := l.Apply([]LimitConfig{{Sender: "BANK", Rate: 5}, {Sender: "BANK", Rate: 1}}); err == nil {
		t.Fatal("a duplicate sender was accepted")
	}
	if h := l.Take([]byte("BANK"), "", 4, now); h == SenderLimit {
		t.Fatal("a refused reload replaced the limits")
	}
}

func TestValidateLimits(t *testing.T) {
	err := ValidateLimits([]LimitConfig{{Sender: "A", Rate: 1}, {Route: "A", Rate: 1}, {Sender: "A", Rate: 2}})
	if err == nil || !strings.Contains(err.Error(), "limit[2].sender") || !strings.Contains(err.Error(), "limit[0]") {
		t.Fatalf("duplicate sender: %v", err)
	}
	if err := ValidateLimits([]LimitConfig{{Sender: "A", Rate: 1}, {Route: "A", Rate: 1}}); err != nil {
		t.Fatalf("a sender and a route of the same name: %v", err)
	}
}

func TestLimitConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  LimitConfig
		want string
	}{
		{LimitConfig{Rate: 1}, "limit[0].sender/route"},
		{LimitConfig{Sender: "A", Route: "r", Rate: 1}, "limit[0].sender/route"},
		{LimitConfig{Sender: strings.Repeat("A", 22), Rate: 1}, "limit[0].sender"},
		{LimitConfig{Route: "a b", Rate: 1}, "limit[0].route"},
		{LimitConfig{Sender: "A"}, "limit[0].rate"},
		{LimitConfig{Sender: "A", Rate: 2e6}, "limit[0].rate"},
		{LimitConfig{Sender: "A", Rate: 1, Burst: -1}, "limit[0].burst"},
	} {
		if err := c.cfg.Validate(0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestLimitsAllocateNothing(t *testing.T) {
	l := NewLimits()
	if err := l.Apply([]LimitConfig{{Sender: "BANK", Rate: 1e6}, {Route: "premium", Rate: 1e6}}); err != nil {
		t.Fatal(err)
	}
	src := []byte("BANK")
	now := time.Now().UnixNano()
	if a := testing.AllocsPerRun(1000, func() {
		l.Take(src, "premium", 1, now)
		l.Give(src, "premium", 1, now)
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
	var none *Limits
	if none.Take(src, "x", 1, now) != NoLimit || none.Active() {
		t.Fatal("a nil Limits limits")
	}
}

func TestRouteCounts(t *testing.T) {
	rc := NewRouteCounts()
	rc.Accepted("a")
	rc.AcceptedOn("a").Inc() // the same count as Accepted's
	rc.Refused("a")
	rc.Refused("")
	rc.Delivered("b")
	for i := range MaxRouteLabels + 3 {
		rc.Accepted("r" + strings.Repeat("x", i%700))
	}
	got := map[string]RouteStat{}
	for _, s := range rc.Stats() {
		got[s.Route] = s
	}
	if s := got["a"]; s.Accepted != 2 || s.Refused != 1 {
		t.Fatalf("a: %+v", s)
	}
	if got[RouteNone].Refused != 1 || got["b"].Delivered != 1 {
		t.Fatalf("none/b: %+v %+v", got[RouteNone], got["b"])
	}
	if len(got) != MaxRouteLabels+2 || got[RouteOther].Accepted == 0 {
		t.Fatalf("%d labels, other %+v: want the bound plus none and other", len(got), got[RouteOther])
	}
	on := rc.AcceptedOn("a")
	if a := testing.AllocsPerRun(1000, func() { rc.Accepted("a"); on.Inc(); rc.Refused(""); rc.Delivered("b") }); a != 0 {
		t.Fatalf("%v allocations per count", a)
	}
	var none *RouteCounts
	none.AcceptedOn("a").Inc() // a nil table counts nothing, and does not panic
}
