package delivery

import "testing"

func TestRetryHeapOrder(t *testing.T) {
	var q retryHeap
	for _, d := range []int64{5, 1, 9, 3, 7, 2, 8} {
		q.push(&item{due: d})
	}
	var last int64
	for len(q) > 0 {
		it := q.pop()
		if it.due < last {
			t.Fatalf("popped %d after %d", it.due, last)
		}
		last = it.due
	}
}

func TestSlabRefs(t *testing.T) {
	var s slab
	a := s.get()
	ref := a.d.Ref
	if s.byRef(ref) != a {
		t.Fatal("byRef")
	}
	s.put(a)
	b := s.get() // same slot, new generation
	if b != a || b.d.Ref == ref || s.byRef(ref) != nil {
		t.Fatal("stale Ref still resolves")
	}
	if s.byRef(1<<40|99999) != nil {
		t.Fatal("unknown refs resolve")
	}
	for range 600 {
		s.get()
	}
	if s.inUse() != 601 {
		t.Fatalf("in use %d", s.inUse())
	}
}
