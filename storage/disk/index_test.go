package disk

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// TestIndexMatchesMap runs random sets and deletes on the shards'
// indexes (each id on the shard the store picks) and a map side by side:
// generator ids of two nodes and two runs, and odd ids outside the
// generator's pattern, and checks every lookup, the count and that
// emptied pages are freed.
func TestIndexMatchesMap(t *testing.T) {
	g1, err := msg.NewIDGen(3)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := msg.NewIDGenAbove(900, uint64(g1.Next())+uint64(time.Hour.Milliseconds())<<23)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []msg.ID
	for range 20000 {
		switch rng.IntN(10) {
		case 0:
			ids = append(ids, msg.ID(rng.Uint64()))
		case 1, 2, 3:
			ids = append(ids, g2.Next())
		default:
			ids = append(ids, g1.Next())
		}
	}
	s := &Store{}
	for i := range s.recs {
		s.recs[i].ix.init()
	}
	ix := func(id msg.ID) *idIndex { return &s.recs[(uint64(id)>>idNodeBits)&(nShards-1)].ix }
	count := func() (n, pages int) {
		for i := range s.recs {
			n += s.recs[i].ix.len()
			pages += len(s.recs[i].ix.pages)
		}
		return n, pages
	}
	model := map[msg.ID]int32{}
	for round := range 3 {
		for i, id := range ids {
			if _, ok := model[id]; ok {
				if rng.IntN(2) == 0 {
					ix(id).del(id)
					delete(model, id)
				}
				continue
			}
			if round < 2 || rng.IntN(3) == 0 {
				ix(id).set(id, int32(i))
				model[id] = int32(i)
			}
		}
		for _, id := range ids {
			got, ok := ix(id).get(id)
			want, wok := model[id]
			if ok != wok || got != want {
				t.Fatalf("round %d: get(%x) = %d, %v; want %d, %v", round, uint64(id), got, ok, want, wok)
			}
		}
		if n, _ := count(); n != len(model) {
			t.Fatalf("round %d: len %d, want %d", round, n, len(model))
		}
	}
	for id := range model {
		ix(id).del(id)
	}
	if n, pages := count(); n != 0 || pages != 0 {
		t.Fatalf("after deleting every id: len %d, %d pages left", n, pages)
	}
	// A page freed is taken again, cleared.
	x := ix(ids[0])
	x.set(ids[0], 5)
	if got, ok := x.get(ids[0]); !ok || got != 5 || x.len() != 1 {
		t.Fatalf("after the pages were freed: get = %d, %v, len %d", got, ok, x.len())
	}
}

// TestIndexDense checks that one generator's ids, spread over the shards
// as the store spreads them, fill each shard's pages densely: the pages a
// shard allocates are about its ids / ixPageSize.
func TestIndexDense(t *testing.T) {
	g, err := msg.NewIDGen(1)
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{}
	for i := range s.recs {
		s.recs[i].ix.init()
	}
	const n = 64 * ixPageSize * 4
	for i := range n {
		id := g.Next()
		s.recShard(id).ix.set(id, int32(i))
	}
	for i := range s.recs {
		x := &s.recs[i].ix
		if x.len() < n/nShards/2 || len(x.pages) > x.len()/ixPageSize+2 {
			t.Fatalf("shard %d: %d ids on %d pages", i, x.len(), len(x.pages))
		}
	}
}

// TestIndexDoesNotAllocate: lookups, and sets and deletes within a page
// that exists, take no memory.
func TestIndexDoesNotAllocate(t *testing.T) {
	var x idIndex
	x.init()
	id := msg.ID(5<<(idNodeBits+shardBits)) | 7
	x.set(id+1<<(idNodeBits+shardBits), 1) // keeps the page when id goes
	n := testing.AllocsPerRun(1000, func() {
		x.set(id, 9)
		if _, ok := x.get(id); !ok {
			t.Fatal("lost")
		}
		x.del(id)
	})
	if n != 0 {
		t.Fatalf("%v allocations per set+get+del", n)
	}
}

// TestSlabSlotsNeverMove: a slot's address stays the same while the slab
// grows past several chunks, and each new slot starts zero.
func TestSlabSlotsNeverMove(t *testing.T) {
	var s slab
	first := s.at(s.grow())
	first.id = 42
	var ptrs []*recSlot
	for range 3*slabChunk + 5 {
		i := s.grow()
		r := s.at(i)
		if *r != (recSlot{}) {
			t.Fatalf("slot %d not zero", i)
		}
		r.id = msg.ID(i)
		ptrs = append(ptrs, r)
	}
	if s.at(0) != first || first.id != 42 {
		t.Fatal("slot 0 moved")
	}
	for k, r := range ptrs {
		if s.at(int32(k+1)) != r || r.id != msg.ID(k+1) {
			t.Fatalf("slot %d moved", k+1)
		}
	}
	if s.len() != 3*slabChunk+6 || len(s.chunks) != 4 {
		t.Fatalf("len %d in %d chunks", s.len(), len(s.chunks))
	}
}
