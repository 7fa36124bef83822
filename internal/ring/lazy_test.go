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
		if s := &r.slots[i]; s.seq.Load() != 0 || s.run != 0 {
			t.Fatalf("slot %d written by NewMPSC: seq %d, run %d", i, s.seq.Load(), s.run)
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
	want(1, 1) // the batch's first slot: position 1, lap 0
	want(0, 4) // the batch's last value, position 4 (lap 1): still free, only the first slot's seq is stored
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
