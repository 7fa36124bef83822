package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// rulesState is the last table one node's apply function was handed.
type rulesState struct {
	mu   sync.Mutex
	last RulesEdit
}

func (s *rulesState) apply(e RulesEdit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = e
}

func (s *rulesState) get() RulesEdit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// The first Seed creates the table and a second leaves it; a table
// published on one node reaches the others with its revision; a node that
// starts later gets the newest table before Start returns.
func TestPolicyRulesShared(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prs := make([]*PolicyRules, len(nodes))
	for i, n := range nodes {
		pr, err := n.OpenPolicyRules()
		if err != nil {
			t.Fatal(err)
		}
		prs[i] = pr
		defer pr.Close()
	}
	rev1, created, err := prs[0].Seed(ctx, []byte("# one\n"))
	if err != nil || !created || rev1 == 0 {
		t.Fatalf("first seed: rev %d created %v %v", rev1, created, err)
	}
	if rev, created, err := prs[1].Seed(ctx, []byte("# two\n")); err != nil || created || rev != 0 {
		t.Fatalf("second seed: rev %d created %v %v", rev, created, err)
	}
	states := []*rulesState{{}, {}, {}}
	for i := range 2 {
		if err := prs[i].Start(states[i].apply); err != nil {
			t.Fatal(err)
		}
		if got := states[i].get(); string(got.Text) != "# one\n" || got.Revision != rev1 {
			t.Fatalf("node %d at start: %+v", i+1, got)
		}
	}
	rev2, err := prs[1].Publish(ctx, []byte("# three\n"))
	if err != nil || rev2 <= rev1 {
		t.Fatalf("publish: rev %d (after %d) %v", rev2, rev1, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a, b := states[0].get(), states[1].get()
		if a.Revision == rev2 && b.Revision == rev2 && string(a.Text) == "# three\n" && string(b.Text) == "# three\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not everywhere within 10s: %+v %+v", a, b)
		}
	}
	if err := prs[2].Start(states[2].apply); err != nil {
		t.Fatal(err)
	}
	if got := states[2].get(); string(got.Text) != "# three\n" || got.Revision != rev2 {
		t.Fatalf("late node at start: %+v", got)
	}
}

// An edit made from a revision the bucket no longer holds is refused
// (ErrRulesChanged) and leaves the table as it is; one made from the
// newest is put; from no table (0) only while there is none.
func TestPolicyRulesPublishOver(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := nodes[0].OpenPolicyRules()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := nodes[1].OpenPolicyRules()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rev1, err := a.PublishOver(ctx, []byte("# one\n"), 0)
	if err != nil || rev1 == 0 {
		t.Fatalf("first table: rev %d %v", rev1, err)
	}
	if _, err := b.PublishOver(ctx, []byte("# from none\n"), 0); !errors.Is(err, ErrRulesChanged) {
		t.Fatalf("an edit from no table over one: %v, want ErrRulesChanged", err)
	}
	rev2, err := b.PublishOver(ctx, []byte("# two\n"), rev1)
	if err != nil || rev2 <= rev1 {
		t.Fatalf("an edit from the newest: rev %d (after %d) %v", rev2, rev1, err)
	}
	if _, err := a.PublishOver(ctx, []byte("# stale\n"), rev1); !errors.Is(err, ErrRulesChanged) {
		t.Fatalf("an edit from revision %d after %d: %v, want ErrRulesChanged", rev1, rev2, err)
	}
	e, err := a.kv.Get(ctx, rulesKey)
	if err != nil || string(e.Value()) != "# two\n" || e.Revision() != rev2 {
		t.Fatalf("the bucket after a refused edit: %v", err)
	}
}
