package routing

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestRouterSwapConcurrent routes from many goroutines while another swaps
// tables; each decision must be consistent with the table it was made on.
// Run with -race.
func TestRouterSwapConcurrent(t *testing.T) {
	mk := func(conn string) *Table {
		return mustCompile(t, Config{MT: []MTRouteConfig{
			{Name: "fr", Kind: "roundrobin", Connectors: []string{conn + "1", conn + "2"}, FilterConfig: fr},
			{Name: "w", Kind: "weighted", Connectors: []string{conn + "3", conn + "4"}, Weights: []int{2, 1}, FilterConfig: FilterConfig{DestPrefixes: []string{"44"}}},
			def(conn + "9"),
		}, MO: []MORouteConfig{{Name: "m", User: conn}}})
	}
	tables := []*Table{mk("old"), mk("new")}
	r := NewRouter(tables[0])
	var stop atomic.Bool
	var wg sync.WaitGroup
	var routed atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			dests := [][]byte{[]byte("3361"), []byte("4477"), []byte("1")}
			for i := 0; !stop.Load() || i < 500; i++ {
				tb := r.Load()
				d, ok := tb.RouteMT(&MT{Dest: dests[(g+i)%3]}, UpFunc(func(id int) bool { return id%2 == 0 }))
				if !ok {
					t.Error("no route")
					return
				}
				name := tb.ConnectorNames()[d.Connector]
				user, _, _ := tb.RouteMO(&MO{Dest: dests[i%3]})
				if name[:3] != user[:3] {
					t.Errorf("decision %q and MO user %q from different tables", name, user)
					return
				}
				routed.Add(1)
			}
		})
	}
	for i := range 2000 {
		r.Swap(tables[(i+1)%2])
	}
	stop.Store(true)
	wg.Wait()
	if routed.Load() < 8*500 {
		t.Errorf("routed %d", routed.Load())
	}
}

// TestRoundRobinExactConcurrent: every counter value is used exactly once,
// so the split stays exact when many goroutines share a route.
func TestRoundRobinExactConcurrent(t *testing.T) {
	tb := oneRoute(t, MTRouteConfig{Kind: "roundrobin", Connectors: []string{"a", "b", "c", "d"}})
	var counts [4]atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				d, _ := tb.RouteMT(&MT{}, nil)
				counts[d.Connector].Add(1)
			}
		})
	}
	wg.Wait()
	for i := range counts {
		if counts[i].Load() != 2000 {
			t.Errorf("connector %d: %d", i, counts[i].Load())
		}
	}
}

func TestRouterNil(t *testing.T) {
	var r Router
	if r.Load() != nil {
		t.Fatal("zero Router has a table")
	}
	if d, ok := r.Load().RouteMT(&MT{}, nil); ok || d.Reason != ReasonNoRoutes {
		t.Errorf("%+v", d)
	}
	tb := mustCompile(t, Config{})
	if old := r.Swap(tb); old != nil || r.Load() != tb {
		t.Error("Swap")
	}
}
