package flow

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/smppd/smppd/msg"
)

// lookup returns id's indexed message, nil when there is none (tests).
func (x *liveIndex) lookup(id msg.ID) *msg.Message {
	var got *msg.Message
	x.with(id, func(m *msg.Message) { got = m })
	return got
}

// message returns a fresh message with id (tests).
func message(id msg.ID) *msg.Message {
	m := new(msg.Message)
	m.ID = id
	return m
}

// The cells are indexed by the issue counter above msg.ID's node bits.
func TestLiveNodeBits(t *testing.T) {
	if msg.MaxNodeID != 1<<liveNodeBits-1 {
		t.Fatalf("msg.MaxNodeID %d: liveNodeBits %d no longer matches msg.ID's layout", msg.MaxNodeID, liveNodeBits)
	}
}

// TestLiveIndexModel compares random adds and removes with a map, with ids
// that crowd the cells (so spill takes some, grows and shrinks) and ids
// far apart that share cells.
func TestLiveIndexModel(t *testing.T) {
	for _, c := range []struct {
		name string
		id   func(r *rand.Rand) msg.ID
	}{
		// Ids shaped like IDGen's (counter above the node bits), few
		// enough that their cells and probe runs collide.
		{"crowded", func(r *rand.Rand) msg.ID { return msg.ID(r.Uint64N(3000)<<liveNodeBits | 3) }},
		// Ids a table apart: one home cell for all.
		{"one home", func(r *rand.Rand) msg.ID { return msg.ID(r.Uint64N(40)*liveCells<<liveNodeBits | 3) }},
		// Ids from anywhere (another node's, a test's): 3000 of them,
		// scattered.
		{"scattered", func(r *rand.Rand) msg.ID { return msg.ID(r.Uint64N(3000) * 0x9e3779b97f4a7c15) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var x liveIndex
			model := map[msg.ID]*msg.Message{}
			rng := rand.New(rand.NewPCG(1, 2))
			for step := range 200_000 {
				id := c.id(rng)
				switch r := rng.IntN(10); {
				case r < 5:
					if _, ok := model[id]; !ok {
						m := message(id)
						x.add(m)
						model[id] = m
					}
				case r < 9:
					if m := model[id]; m != nil {
						x.remove(m)
						delete(model, id)
					} else {
						x.remove(message(id)) // not indexed: nothing happens
					}
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
			for _, m := range model {
				x.remove(m)
			}
			x.shrink()
			if n := x.len(); n != 0 || x.spilled.Load() != 0 {
				t.Fatalf("%d left, %d counted in spill", n, x.spilled.Load())
			}
			for i := range x.spill.shards {
				if n := len(x.spill.shards[i].slots); n > liveMinSlots {
					t.Fatalf("spill shard %d kept %d slots empty", i, n)
				}
			}
		})
	}
}

// An id whose cells are all taken goes to spill and is found there.
func TestLiveIndexSpill(t *testing.T) {
	var x liveIndex
	ms := make([]*msg.Message, liveProbe+2)
	for i := range ms {
		ms[i] = message(msg.ID(uint64(i)*liveCells<<liveNodeBits | 1)) // one home cell
		x.add(ms[i])
	}
	if n := x.spilled.Load(); n != 2 {
		t.Fatalf("%d spilled, want 2", n)
	}
	for _, m := range ms {
		if x.lookup(m.ID) != m {
			t.Fatalf("%v not found", m.ID)
		}
	}
	for _, m := range ms {
		x.remove(m)
		if x.lookup(m.ID) != nil {
			t.Fatalf("%v found after remove", m.ID)
		}
	}
	if x.len() != 0 || x.spilled.Load() != 0 {
		t.Fatalf("len %d, spilled %d", x.len(), x.spilled.Load())
	}
}

// cancel and beginEdit act on the indexed message's phase only while it is
// queued; after remove they find nothing.
func TestLiveIndexPhases(t *testing.T) {
	var x liveIndex
	a, b := message(1<<liveNodeBits), message(2<<liveNodeBits)
	x.add(a)
	x.add(b)
	if m, found := x.beginEdit(a.ID); !found || m != a || a.Phase() != msg.PhaseEditing {
		t.Fatalf("beginEdit: %p %v, phase %v", m, found, a.Phase())
	}
	if x.cancel(a.ID) {
		t.Fatal("cancelled a message being edited")
	}
	a.EndEdit()
	if !b.Claim() {
		t.Fatal("claim")
	}
	if m, found := x.beginEdit(b.ID); !found || m != nil {
		t.Fatalf("beginEdit of a claimed message: %p %v", m, found)
	}
	if x.cancel(b.ID) {
		t.Fatal("cancelled a claimed message")
	}
	if !x.cancel(a.ID) || a.Phase() != msg.PhaseCancelled {
		t.Fatal("cancel of a queued message")
	}
	x.remove(a)
	if m, found := x.beginEdit(a.ID); found || m != nil {
		t.Fatal("a removed message found")
	}
	if x.cancel(a.ID) {
		t.Fatal("a removed message cancelled")
	}
	if m, found := x.beginEdit(3 << liveNodeBits); found || m != nil {
		t.Fatal("an id never indexed found")
	}
}

// Adders, removers and readers on the same cells at once (run with
// -race): every message a reader holds is the one it asked for, and none
// is left behind.
func TestLiveIndexConcurrent(t *testing.T) {
	var x liveIndex
	var wg sync.WaitGroup
	const perWorker = 20_000
	for w := range 4 {
		wg.Go(func() {
			for i := range perWorker {
				// Workers share home cells (ids a table apart), and
				// each id's neighbours belong to the others.
				m := message(msg.ID((uint64(i)*4+uint64(w))<<liveNodeBits | uint64(w&1)*liveCells<<liveNodeBits))
				x.add(m)
				if x.lookup(m.ID) != m {
					t.Errorf("worker %d: %v not found", w, m.ID)
					return
				}
				x.remove(m)
			}
		})
	}
	wg.Go(func() {
		// A reader probing ids others add and remove.
		for i := range perWorker {
			id := msg.ID(uint64(i) * 4 << liveNodeBits)
			if m := x.lookup(id); m != nil && m.ID != id {
				t.Errorf("lookup(%v) held %v", id, m.ID)
				return
			}
		}
	})
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
