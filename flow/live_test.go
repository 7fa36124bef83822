package flow

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/smppd/smppd/msg"
)

// lookup returns id's indexed message, nil when there is none (tests).
func (x *liveIndex) lookup(id msg.ID) *msg.Message {
	h := liveHash(id)
	sh := x.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.find(h, id); i >= 0 {
		return sh.slots[i].m
	}
	return nil
}

// TestLiveIndexModel compares random adds and removes, across growth,
// deletions inside probe runs and shrinks, with a map.
func TestLiveIndexModel(t *testing.T) {
	var x liveIndex
	model := map[msg.ID]*msg.Message{}
	msgs := make([]*msg.Message, 8)
	for i := range msgs {
		msgs[i] = new(msg.Message)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 200_000 {
		// Ids shaped like IDGen's (counter above the node bits), few
		// enough to collide in probe runs.
		id := msg.ID(rng.Uint64N(3000)<<12 | 3)
		switch r := rng.IntN(10); {
		case r < 5:
			if _, ok := model[id]; !ok {
				m := msgs[rng.IntN(len(msgs))]
				x.add(id, m)
				model[id] = m
			}
		case r < 9:
			x.remove(id)
			delete(model, id)
		default:
			if got := x.lookup(id); got != model[id] {
				t.Fatalf("step %d: lookup(%v) = %p, model %p", step, id, got, model[id])
			}
		}
		if step%20_000 == 0 {
			x.shrink()
		}
	}
	for id, m := range model {
		if x.lookup(id) != m {
			t.Fatalf("lookup(%v) lost", id)
		}
	}
	if x.len() != len(model) {
		t.Fatalf("len %d, model %d", x.len(), len(model))
	}
	for id := range model {
		x.remove(id)
	}
	x.shrink()
	for i := range x.shards {
		if n := len(x.shards[i].slots); n > liveMinSlots {
			t.Fatalf("shard %d kept %d slots empty", i, n)
		}
	}
}

// cancel and beginEdit act on the indexed message's phase only while it is
// queued; after remove they find nothing.
func TestLiveIndexPhases(t *testing.T) {
	var x liveIndex
	a, b := new(msg.Message), new(msg.Message)
	x.add(1, a)
	x.add(2, b)
	if m, found := x.beginEdit(1); !found || m != a || a.Phase() != msg.PhaseEditing {
		t.Fatalf("beginEdit: %p %v, phase %v", m, found, a.Phase())
	}
	if x.cancel(1) {
		t.Fatal("cancelled a message being edited")
	}
	a.EndEdit()
	if !b.Claim() {
		t.Fatal("claim")
	}
	if m, found := x.beginEdit(2); !found || m != nil {
		t.Fatalf("beginEdit of a claimed message: %p %v", m, found)
	}
	if x.cancel(2) {
		t.Fatal("cancelled a claimed message")
	}
	if !x.cancel(1) || a.Phase() != msg.PhaseCancelled {
		t.Fatal("cancel of a queued message")
	}
	x.remove(1)
	if m, found := x.beginEdit(1); found || m != nil {
		t.Fatal("a removed message found")
	}
	if x.cancel(1) {
		t.Fatal("a removed message cancelled")
	}
}

func TestLiveIndexConcurrent(t *testing.T) {
	var x liveIndex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			m := new(msg.Message)
			for i := range 20_000 {
				id := msg.ID(uint64(w)<<40 | uint64(i)<<12)
				x.add(id, m)
				if x.lookup(id) != m {
					t.Errorf("worker %d: %v not found", w, id)
					return
				}
				x.remove(id)
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			x.shrink()
		}
	})
	wg.Wait()
	if n := x.len(); n != 0 {
		t.Fatalf("%d left", n)
	}
}
