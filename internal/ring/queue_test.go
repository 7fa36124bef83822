package ring

import "testing"

// newQueue returns an empty MPSC ring of at least capacity ints for the
// single-goroutine tests below.
func newQueue(t *testing.T, capacity int) *MPSC[int] {
	t.Helper()
	q, err := NewMPSC[int](capacity)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestFullEmptyWraparound(t *testing.T) {
	q := newQueue(t, 4)
	if v, ok := q.TryPop(); ok {
		t.Fatalf("pop from new ring = %d, true", v)
	}
	next, want := 0, 0
	// 10 laps, with the ring filled to the brim and drained each lap
	// at a different phase, so every slot index wraps many times.
	for lap := range 10 {
		for q.Len() < q.Cap() {
			if !q.TryPush(next) {
				t.Fatalf("lap %d: push %d refused at Len %d", lap, next, q.Len())
			}
			next++
		}
		if q.TryPush(-1) {
			t.Fatalf("lap %d: push onto full ring accepted", lap)
		}
		if q.Len() != q.Cap() {
			t.Fatalf("lap %d: full Len %d, want %d", lap, q.Len(), q.Cap())
		}
		drain := 1 + lap%q.Cap()
		for range drain {
			v, ok := q.TryPop()
			if !ok || v != want {
				t.Fatalf("lap %d: pop = %d, %v; want %d", lap, v, ok, want)
			}
			want++
		}
	}
	for {
		v, ok := q.TryPop()
		if !ok {
			break
		}
		if v != want {
			t.Fatalf("final drain: pop %d, want %d", v, want)
		}
		want++
	}
	if want != next || q.Len() != 0 {
		t.Fatalf("popped up to %d, pushed %d, Len %d", want, next, q.Len())
	}
}

func TestBatchPartial(t *testing.T) {
	q := newQueue(t, 8)
	in := []int{0, 1, 2, 3, 4, 5}
	if n := q.TryPushBatch(in); n != 6 {
		t.Fatalf("first batch took %d, want 6", n)
	}
	if n := q.TryPushBatch(nil); n != 0 {
		t.Fatalf("empty batch took %d", n)
	}
	// Pop 5 so the next batch wraps past the end of the buffer.
	buf := make([]int, 0, 5)
	buf = q.PopBatch(buf)
	checkSeq(t, buf, 0, 5)
	// 7 free slots; offer 10: 7 taken, wrapping at index 8.
	more := []int{6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if n := q.TryPushBatch(more); n != 7 {
		t.Fatalf("wrapping batch took %d, want 7", n)
	}
	if n := q.TryPushBatch(more[7:]); n != 0 {
		t.Fatalf("batch onto full ring took %d", n)
	}
	if q.Len() != 8 {
		t.Fatalf("Len %d, want 8", q.Len())
	}
	// dst with existing content and room for 3: content kept, 3 appended.
	dst := make([]int, 2, 5)
	dst[0], dst[1] = -7, -8
	dst = q.PopBatch(dst)
	if len(dst) != 5 || dst[0] != -7 || dst[1] != -8 {
		t.Fatalf("PopBatch into prefilled dst = %v", dst)
	}
	checkSeq(t, dst[2:], 5, 3)
	// No room: nothing popped.
	if got := q.PopBatch(dst); len(got) != 5 || q.Len() != 5 {
		t.Fatalf("PopBatch with no room popped: len %d, ring Len %d", len(got), q.Len())
	}
	// More room than values: takes what is there (wraps in the buffer).
	buf = q.PopBatch(make([]int, 0, 64))
	checkSeq(t, buf, 8, 5)
	if got := q.PopBatch(buf[:0]); len(got) != 0 {
		t.Fatalf("PopBatch on empty ring = %v", got)
	}
	if q.Len() != 0 {
		t.Fatalf("Len %d after drain", q.Len())
	}
	// A batch larger than the ring takes exactly Cap.
	big := make([]int, 20)
	if n := q.TryPushBatch(big); n != q.Cap() {
		t.Fatalf("oversized batch took %d, want %d", n, q.Cap())
	}
}

func checkSeq(t *testing.T, got []int, from, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d values %v, want %d from %d", len(got), got, n, from)
	}
	for i, v := range got {
		if v != from+i {
			t.Fatalf("got %v, want %d values from %d", got, n, from)
		}
	}
}

// Popped slots must be zeroed so a ring of pointers does not pin garbage.
func TestPoppedSlotsZeroed(t *testing.T) {
	m, _ := NewMPSC[*int](4)
	vals := make([]*int, 4)
	for i := range vals {
		vals[i] = new(int)
	}
	m.TryPushBatch(vals)
	m.TryPop()
	m.PopBatch(make([]*int, 0, 2))
	// Three slots popped, one still held.
	for i := range m.slots {
		if (m.slots[i].val != nil) != (i == 3) {
			t.Fatalf("slot %d = %v after popping 3 of 4", i, m.slots[i].val)
		}
	}
	m.PopBatch(make([]*int, 0, 8))
	for i := range m.slots {
		if m.slots[i].val != nil {
			t.Fatalf("slot %d not zeroed after full drain", i)
		}
	}
}
