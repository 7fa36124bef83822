package routing

import (
	"math"
	"testing"
)

func oneRoute(t *testing.T, rc MTRouteConfig) *Table {
	t.Helper()
	if rc.Name == "" {
		rc.Name = "r"
	}
	return mustCompile(t, Config{MT: []MTRouteConfig{rc}})
}

func TestStatic(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "static", Connectors: []string{"smsc1"}, Rate: 0.05})
	m := &MT{}
	d, ok := tb.RouteMT(m, nil)
	if !ok || connName(tb, d) != "smsc1" || d.AllDown || d.Rate != 0.05 || d.Failover != nil || d.Reason != ReasonRouted {
		t.Errorf("up: %+v", d)
	}
	// Down: still that connector, flagged, so the caller holds the message.
	d, ok = tb.RouteMT(m, downIDs(t, tb, "smsc1"))
	if !ok || connName(tb, d) != "smsc1" || !d.AllDown || d.Reason != ReasonAllDown {
		t.Errorf("down: %+v %v", d, ok)
	}
}

func TestDefault(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{st("fr", "a", fr), {Name: "def", Kind: "default", Connectors: []string{"b"}, Rate: 1.5}}})
	for _, dst := range []string{"", "44", "anything"} {
		d, ok := tb.RouteMT(&MT{Dest: []byte(dst), User: "x", DataCoding: 8}, nil)
		if !ok || d.Route.Name != "def" || d.Route.Kind != KindDefault || connName(tb, d) != "b" || d.Rate != 1.5 {
			t.Errorf("%q: %+v", dst, d)
		}
	}
	d, _ := tb.RouteMT(&MT{}, downIDs(t, tb, "b"))
	if !d.AllDown || connName(tb, d) != "b" {
		t.Errorf("default down: %+v", d)
	}
}

func TestFailover(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "failover", Connectors: []string{"a", "b", "c"}})
	cases := []struct {
		down     []string
		want     string
		failover []string
		allDown  bool
	}{
		{nil, "a", []string{"b", "c"}, false},
		{[]string{"a"}, "b", []string{"c"}, false},
		{[]string{"a", "b"}, "c", []string{}, false},
		{[]string{"b"}, "a", []string{"b", "c"}, false},
		{[]string{"a", "b", "c"}, "a", []string{"b", "c"}, true},
	}
	for _, tc := range cases {
		d, ok := tb.RouteMT(&MT{}, downIDs(t, tb, tc.down...))
		if !ok || connName(tb, d) != tc.want || !eqStrings(names(tb, d.Failover), tc.failover) || d.AllDown != tc.allDown {
			t.Errorf("down %v: got %s failover %v allDown %v", tc.down, connName(tb, d), names(tb, d.Failover), d.AllDown)
		}
	}
}

func TestRoundRobinExact(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "roundrobin", Connectors: []string{"a", "b", "c"}})
	counts := map[string]int{}
	var seq []string
	for range 300 {
		d, _ := tb.RouteMT(&MT{}, nil)
		counts[connName(tb, d)]++
		if len(seq) < 4 {
			seq = append(seq, connName(tb, d))
			// Failover is the rotation after the pick.
			if len(d.Failover) != 2 || d.Failover[0] == d.Connector || d.Failover[1] == d.Connector || d.Failover[0] == d.Failover[1] {
				t.Errorf("failover %v for %d", d.Failover, d.Connector)
			}
		}
	}
	if counts["a"] != 100 || counts["b"] != 100 || counts["c"] != 100 {
		t.Errorf("counts %v", counts)
	}
	if !eqStrings(seq, []string{"a", "b", "c", "a"}) {
		t.Errorf("order %v", seq)
	}
	tb.RouteMT(&MT{}, nil)         // call 301: a
	d, _ := tb.RouteMT(&MT{}, nil) // call 302: b, then c and a to fail over to
	if connName(tb, d) != "b" || !eqStrings(names(tb, d.Failover), []string{"c", "a"}) {
		t.Errorf("rotation: %s %v", connName(tb, d), names(tb, d.Failover))
	}
}

func TestRoundRobinSkipsDown(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "roundrobin", Connectors: []string{"a", "b", "c", "d"}})
	up := downIDs(t, tb, "b")
	counts := map[string]int{}
	for range 400 {
		d, ok := tb.RouteMT(&MT{}, up)
		if !ok || d.AllDown {
			t.Fatalf("%+v", d)
		}
		counts[connName(tb, d)]++
	}
	// b's turns go to c, the next one up.
	if counts["a"] != 100 || counts["b"] != 0 || counts["c"] != 200 || counts["d"] != 100 {
		t.Errorf("counts %v", counts)
	}
	all := downIDs(t, tb, "a", "b", "c", "d")
	d, ok := tb.RouteMT(&MT{}, all)
	if !ok || !d.AllDown || d.Reason != ReasonAllDown || len(d.Failover) != 3 {
		t.Errorf("all down: %+v", d)
	}
}

func TestWeightedExact(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "weighted", Connectors: []string{"a", "b", "c"}, Weights: []int{50, 30, 20}})
	r := tb.MTRoutes()[0]
	if len(r.sched) != 10 { // reduced by the gcd, 10
		t.Errorf("schedule length %d", len(r.sched))
	}
	counts := map[string]int{}
	var seq []string
	for range 1000 {
		d, _ := tb.RouteMT(&MT{}, nil)
		counts[connName(tb, d)]++
		if len(seq) < 10 {
			seq = append(seq, connName(tb, d))
		}
	}
	if counts["a"] != 500 || counts["b"] != 300 || counts["c"] != 200 {
		t.Errorf("counts %v", counts)
	}
	// Smooth WRR interleaves: never three of a in a row.
	want := []string{"a", "b", "c", "a", "a", "b", "a", "c", "b", "a"}
	if !eqStrings(seq, want) {
		t.Errorf("period %v, want %v", seq, want)
	}
}

func TestSmoothSchedule(t *testing.T) {
	// nginx's documented example: weights 5,1,1 give a a b a c a a.
	got := smoothSchedule([]int{5, 1, 1})
	want := []uint8{0, 0, 1, 0, 2, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("schedule %v, want %v", got, want)
		}
	}
}

func TestWeightedWithDownWithinTolerance(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "weighted", Connectors: []string{"a", "b", "c", "d"}, Weights: []int{60, 25, 10, 5}})
	up := downIDs(t, tb, "a")
	const n = 40000
	counts := map[string]int{}
	for range n {
		d, ok := tb.RouteMT(&MT{}, up)
		if !ok || d.AllDown {
			t.Fatalf("%+v", d)
		}
		counts[connName(tb, d)]++
	}
	// Without a (60), b, c and d share 25:10:5 of the traffic. Routing is
	// deterministic (a fresh table's counter starts at 0), so these counts are
	// stable; the tolerance only absorbs the hash's unevenness.
	if counts["a"] != 0 {
		t.Errorf("down connector got %d", counts["a"])
	}
	for name, share := range map[string]float64{"b": 25.0 / 40, "c": 10.0 / 40, "d": 5.0 / 40} {
		got := float64(counts[name]) / n
		if math.Abs(got-share) > 0.01 {
			t.Errorf("%s: share %.4f, want %.4f ± 0.01 (counts %v)", name, got, share, counts)
		}
	}
	d, _ := tb.RouteMT(&MT{}, downIDs(t, tb, "a", "b", "c", "d"))
	if !d.AllDown || d.Reason != ReasonAllDown {
		t.Errorf("all down: %+v", d)
	}
}

// flapping: a (id 0) is down, b (id 1) is up only the first time it is
// asked, c (id 2) is up: b goes down between weightedAmongUp's two passes.
type flapping struct{ calls map[int]int }

func (f *flapping) Up(id int) bool {
	f.calls[id]++
	return id == 2 || id == 1 && f.calls[id] == 1
}

func TestWeightedStateChangesMidDecision(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "weighted", Connectors: []string{"a", "b", "c"}, Weights: []int{3, 1, 1}})
	d, ok := tb.RouteMT(&MT{}, &flapping{calls: map[int]int{}}) // a is scheduled first
	if !ok || d.AllDown || connName(tb, d) != "c" {
		t.Errorf("got %s %+v", connName(tb, d), d)
	}
	// Everything goes down between the passes: the decision says so.
	tb = oneRoute(t, MTRouteConfig{Kind: "weighted", Connectors: []string{"a", "b"}, Weights: []int{3, 1}})
	d, ok = tb.RouteMT(&MT{}, &flapping{calls: map[int]int{}})
	if !ok || !d.AllDown || connName(tb, d) != "a" {
		t.Errorf("got %s %+v", connName(tb, d), d)
	}
}

func TestUpFunc(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "failover", Connectors: []string{"a", "b"}})
	d, _ := tb.RouteMT(&MT{}, UpFunc(func(id int) bool { return id == 1 }))
	if connName(tb, d) != "b" {
		t.Errorf("got %s", connName(tb, d))
	}
}
