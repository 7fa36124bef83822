package delivery

import (
	"testing"
	"unsafe"

	"github.com/smppd/smppd/storage"
)

func TestRetryHeapOrder(t *testing.T) {
	var q retryHeap
	for _, d := range []int64{5, 1, 9, 3, 7, 2, 8} {
		q.push(&item{itemCold: itemCold{due: d}})
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

// TestItemLayout: an item is four cache lines and each starts one, with
// the fields every deliver_sm touches in the first two (deliver.go).
func TestItemLayout(t *testing.T) {
	var it item
	if n := unsafe.Sizeof(it); n != itemSize {
		t.Fatalf("item is %d bytes, want %d", n, itemSize)
	}
	for name, off := range map[string]uintptr{
		"d": unsafe.Offsetof(it.d), "gen": unsafe.Offsetof(it.gen), "systemID": unsafe.Offsetof(it.systemID),
	} {
		if off >= 64 {
			t.Errorf("%s at offset %d: not in the first cache line", name, off)
		}
	}
	for name, off := range map[string]uintptr{
		"key": unsafe.Offsetof(it.key), "kind": unsafe.Offsetof(it.kind), "buf": unsafe.Offsetof(it.buf),
	} {
		if off < 64 || off >= 128 {
			t.Errorf("%s at offset %d: not in the second cache line", name, off)
		}
	}
	if off := unsafe.Offsetof(it.itemCold); off != 128 {
		t.Errorf("itemCold at offset %d, want 128", off)
	}
	var s slab
	s.get()
	if p := uintptr(unsafe.Pointer((*s.chunks.Load())[0])); p%64 != 0 {
		t.Errorf("chunk at %#x: not cache-line aligned", p)
	}
}

// TestSlabCounts: receipts generated and delivered and MO delivered are
// counted by getReceipt, putUnbuilt and putDelivered; put counts nothing,
// and a recycled item comes back cleared.
func TestSlabCounts(t *testing.T) {
	var s slab
	a, b, c := s.getReceipt(), s.getReceipt(), s.get()
	a.kind, b.kind, c.kind = storage.HeldReceipt, storage.HeldReceipt, storage.HeldMO
	a.systemID, a.key, a.attempts, a.buf = "bob", 7, 2, append(a.buf, "pdu"...)
	a.d.Body = a.buf
	s.putDelivered(a)
	s.putUnbuilt(b)
	s.putDelivered(c)
	if made, rd, md := s.counts(); made != 1 || rd != 1 || md != 1 {
		t.Fatalf("counts = %d generated, %d delivered, %d MO delivered; want 1, 1, 1", made, rd, md)
	}
	d := s.get()
	s.put(d)
	if made, rd, md := s.counts(); made != 1 || rd != 1 || md != 1 {
		t.Fatalf("get and put counted: %d, %d, %d", made, rd, md)
	}
	for range 3 {
		it := s.get()
		if it.systemID != "" || it.key != 0 || it.attempts != 0 || it.kind != 0 || len(it.buf) != 0 || it.d.Body != nil || it.next != nil {
			t.Fatalf("recycled item not cleared: %+v", it)
		}
	}
}
