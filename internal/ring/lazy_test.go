package ring

import "testing"

// A new ring writes none of its slots, so a large one's pages stay
// untouched until positions reach them; each slot holds its seq less its
// index, the lap's first position (0 free and 1 published on lap 0,
// size and size+1 on lap 1).
func TestNewMPSCWritesNoSlot(t *testing.T) {
	r, err := NewMPSC[[64]byte](1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.slots {
		if s := &r.slots[i]; s.seq.Load() != 0 {
			t.Fatalf("slot %d written by NewMPSC: seq %d", i, s.seq.Load())
		}
	}

	q, err := NewMPSC[int](4)
	if err != nil {
		t.Fatal(err)
	}
	want := func(i int, seq uint64) {
		t.Helper()
		if got := q.slots[i].seq.Load(); got != seq {
			t.Fatalf("slot %d holds %d, want %d", i, got, seq)
		}
	}
	q.TryPush(10)
	want(0, 1) // published, lap 0
	if v, ok := q.TryPop(); !ok || v != 10 {
		t.Fatalf("TryPop = %d, %v", v, ok)
	}
	want(0, 4) // free for lap 1
	if n := q.TryPushBatch([]int{11, 12, 13, 14}); n != 4 {
		t.Fatalf("TryPushBatch took %d of 4", n)
	}
	// A batch filling the ring: its first slot (position 1, lap 0) carries
	// a run of 3, the ring's size less one, and its last (position 4, lap
	// 1) is published by itself. A shorter batch stores only its first
	// slot's seq (TestBatchPublishesOnlyItsFirstSlot).
	want(1, 3)
	want(0, 5)
	if q.TryPush(15) {
		t.Fatal("TryPush into a full ring succeeded")
	}
	got := q.PopBatch(make([]int, 0, 8))
	if len(got) != 4 || got[0] != 11 || got[3] != 14 {
		t.Fatalf("PopBatch = %v, want [11 12 13 14]", got)
	}
	want(0, 8) // free for lap 2
	want(1, 4)
}

// A batch shorter than the ring stores its first slot's seq alone: the
// lap's first position plus its length; the other slots keep their free
// value until popped.
func TestBatchPublishesOnlyItsFirstSlot(t *testing.T) {
	q, err := NewMPSC[int](8)
	if err != nil {
		t.Fatal(err)
	}
	if n := q.TryPushBatch([]int{1, 2, 3, 4, 5}); n != 5 {
		t.Fatalf("TryPushBatch took %d of 5", n)
	}
	for i, want := range []uint64{5, 0, 0, 0, 0, 0, 0, 0} {
		if got := q.slots[i].seq.Load(); got != want {
			t.Fatalf("slot %d holds %d, want %d", i, got, want)
		}
	}
	if got := q.PopBatch(make([]int, 0, 2)); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("PopBatch = %v, want [1 2]", got)
	}
	if v, ok := q.TryPop(); !ok || v != 3 {
		t.Fatalf("TryPop = %d, %v, want 3 (inside the run)", v, ok)
	}
	// The whole ring in one batch, across the wrap: 3 free slots of lap 0
	// and 5 of lap 1 once the run's last two are popped.
	if got := q.PopBatch(make([]int, 0, 8)); len(got) != 2 || got[1] != 5 {
		t.Fatalf("PopBatch = %v, want [4 5]", got)
	}
	in := []int{10, 11, 12, 13, 14, 15, 16, 17, 18}
	if n := q.TryPushBatch(in); n != 8 {
		t.Fatalf("TryPushBatch into an empty ring of 8 took %d", n)
	}
	if q.TryPush(99) {
		t.Fatal("TryPush into a full ring succeeded")
	}
	got := q.PopBatch(make([]int, 0, 16))
	if len(got) != 8 || got[0] != 10 || got[7] != 17 {
		t.Fatalf("PopBatch = %v, want 10..17", got)
	}
	if q.Len() != 0 || !q.TryPush(18) {
		t.Fatalf("ring not empty and free after the full batch: Len %d", q.Len())
	}
}
