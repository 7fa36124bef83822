//go:build !race

package ring

import "testing"

type allocMsg struct{ id uint64 }

func TestAllocations(t *testing.T) {
	msgs := make([]*allocMsg, 8)
	for i := range msgs {
		msgs[i] = &allocMsg{id: uint64(i)}
	}
	buf := make([]*allocMsg, 0, 8)
	m, _ := NewMPSC[*allocMsg](16)
	var d Doorbell
	n := NewNotify()

	f := func(name string, op func()) {
		t.Helper()
		if a := testing.AllocsPerRun(1000, op); a != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, a)
		}
	}
	f("MPSC push/pop", func() {
		m.TryPush(msgs[0])
		m.TryPop()
	})
	f("MPSC batch", func() {
		m.TryPushBatch(msgs)
		buf = m.PopBatch(buf[:0])
	})
	f("Doorbell", func() {
		d.Ring()
		d.Ring()
		d.Clear()
	})
	f("Notify", func() {
		n.Ring()
		n.Ring()
		n.Wait(nil)
	})
	f("full and empty", func() {
		for m.TryPush(msgs[1]) {
		}
		for _, ok := m.TryPop(); ok; _, ok = m.TryPop() {
		}
		for m.TryPushBatch(msgs) > 0 {
		}
		for buf = m.PopBatch(buf[:0]); len(buf) > 0; buf = m.PopBatch(buf[:0]) {
		}
	})
}
