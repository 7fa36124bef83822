package cluster

import (
	"context"
	"sync"
	"testing"
	"time"
)

// listState is what one node's apply function has seen: list/entry -> on.
type listState struct {
	mu    sync.Mutex
	on    map[string]bool
	calls int
}

func (s *listState) apply(edits []ListEdit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, e := range edits {
		s.on[e.List+"|"+e.Entry] = e.Add
	}
}

func (s *listState) get(k string) (on, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	on, known = s.on[k]
	return on, known
}

// An edit published on one node reaches every node's apply, its own
// included; the last edit of an entry wins; a node that starts later gets
// the bucket's current edits in one call before Start returns.
func TestPolicyListsShared(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	states := make([]*listState, len(nodes))
	pls := make([]*PolicyLists, len(nodes))
	for i, n := range nodes[:2] {
		pl, err := n.OpenPolicyLists()
		if err != nil {
			t.Fatal(err)
		}
		states[i] = &listState{on: map[string]bool{}}
		if err := pl.Start(states[i].apply); err != nil {
			t.Fatal(err)
		}
		pls[i] = pl
		defer pl.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const list = "premium:ranges" // ':' is no key character
	if err := pls[0].Publish(ctx, ListEdit{List: list, Entry: "+4919*", Add: true}); err != nil {
		t.Fatal(err)
	}
	if err := pls[0].Publish(ctx, ListEdit{List: list, Entry: "SpamCo", Add: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		eventually(t, "the adds on node "+string(rune('1'+i)), func() bool {
			a, _ := states[i].get(list + "|+4919*")
			b, _ := states[i].get(list + "|SpamCo")
			return a && b
		})
	}
	if err := pls[1].Publish(ctx, ListEdit{List: list, Entry: "SpamCo"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2's removal on node 1", func() bool {
		on, known := states[0].get(list + "|SpamCo")
		return known && !on
	})

	// Node 3 starts after the edits: they come in Start's first call.
	pl, err := nodes[2].OpenPolicyLists()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	states[2] = &listState{on: map[string]bool{}}
	if err := pl.Start(states[2].apply); err != nil {
		t.Fatal(err)
	}
	a, _ := states[2].get(list + "|+4919*")
	on, known := states[2].get(list + "|SpamCo")
	if states[2].calls != 1 || !a || !known || on {
		t.Fatalf("a late node's first call: %d calls, %v", states[2].calls, states[2].on)
	}
}

func TestParseListEdit(t *testing.T) {
	k := listEditKey("a.b:c", "4917*")
	if e, ok := parseListEdit(k, []byte("add")); !ok || e != (ListEdit{List: "a.b:c", Entry: "4917*", Add: true}) {
		t.Fatalf("%q: %+v %v", k, e, ok)
	}
	for _, c := range []struct{ key, val string }{{k, "maybe"}, {"nodot", "add"}, {"!!.x", "add"}, {"." + k, "add"}} {
		if e, ok := parseListEdit(c.key, []byte(c.val)); ok {
			t.Errorf("%q=%q parsed: %+v", c.key, c.val, e)
		}
	}
}
