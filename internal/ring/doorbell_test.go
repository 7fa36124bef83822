package ring

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestDoorbellSingleWinner(t *testing.T) {
	var d Doorbell
	if d.Pending() {
		t.Fatal("zero Doorbell pending")
	}
	if !d.Ring() || d.Ring() || !d.Pending() {
		t.Fatal("first Ring must win, second must lose")
	}
	d.Clear()
	if d.Pending() || !d.Ring() {
		t.Fatal("Ring after Clear must win")
	}

	// Many concurrent ringers per round: exactly one winner between Clears.
	const ringers = 8
	for round := range 300 {
		d.Clear()
		var winners atomic.Int32
		var wg sync.WaitGroup
		for range ringers {
			wg.Go(func() {
				if d.Ring() {
					winners.Add(1)
				}
			})
		}
		wg.Wait()
		if w := winners.Load(); w != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, w)
		}
	}
}

// TestDoorbellNoLostWakeup runs the protocol as the engine will: producers
// push and ring, the winner wakes the consumer through a task channel (a
// stand-in for EventLoop.Execute), and the consumer clears, drains with a
// budget and reschedules itself when over it. It checks that at most one wake
// is ever in flight, and that when the consumer stops (stop closed and no wake
// queued, both seen after every producer finished) every value has been
// taken. A lost wake-up would leave values in the ring at that point, so the
// test fails instead of hanging. Many short rounds give the races room.
func TestDoorbellNoLostWakeup(t *testing.T) {
	const (
		rounds    = 2000
		producers = 3
		perProd   = 12
		budget    = 7 // values per wake before the consumer yields
	)
	for round := range rounds {
		r, _ := NewMPSC[int](16)
		var bell Doorbell
		tasks := make(chan struct{}, 2) // room for a second wake, so a breach is seen, not blocked on
		var inflight atomic.Int32
		wake := func() {
			if inflight.Add(1) > 1 {
				t.Errorf("round %d: two wakes in flight", round)
			}
			tasks <- struct{}{}
		}
		stop := make(chan struct{})
		got := make(chan [2]int, 1)

		go func() { // the "event loop"
			taken := 0
			buf := make([]int, 0, budget)
			for {
				select {
				case <-tasks:
				case <-stop:
					select {
					case <-tasks:
					default:
						got <- [2]int{taken, r.Len()}
						return
					}
				}
				inflight.Add(-1)
				bell.Clear()
				buf = r.PopBatch(buf[:0])
				taken += len(buf)
				runtime.Gosched() // "handle" the batch: lets producers run meanwhile
				// A short batch means the ring was seen empty after Clear: done.
				// A full one is the budget: yield to other work, but reschedule.
				if len(buf) == budget && bell.Ring() {
					wake()
				}
			}
		}()

		var wg sync.WaitGroup
		var refused atomic.Int64
		for range producers {
			wg.Go(func() {
				for i := range perProd {
					if !pushOrRefuse(r, i) {
						refused.Add(1)
						continue
					}
					if bell.Ring() {
						wake()
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		res := <-got
		if want := producers*perProd - int(refused.Load()); res[0] != want || res[1] != 0 {
			t.Fatalf("round %d: consumer stopped with %d of %d taken, %d left in ring: lost wake-up",
				round, res[0], want, res[1])
		}
	}
}

// TestNotifyNoLostWakeup is the same property through Notify.Wait, the
// connector workers' form.
func TestNotifyNoLostWakeup(t *testing.T) {
	const (
		rounds    = 2000
		producers = 3
		perProd   = 12
	)
	for round := range rounds {
		r, _ := NewMPSC[int](16)
		n := NewNotify()
		stop := make(chan struct{})
		got := make(chan [2]int, 1)
		go func() {
			taken := 0
			buf := make([]int, 0, 5)
			for n.Wait(stop) {
				for buf = r.PopBatch(buf[:0]); len(buf) > 0; buf = r.PopBatch(buf[:0]) {
					taken += len(buf)
				}
			}
			got <- [2]int{taken, r.Len()}
		}()
		var wg sync.WaitGroup
		var refused atomic.Int64
		for range producers {
			wg.Go(func() {
				for i := range perProd {
					if !pushOrRefuse(r, i) {
						refused.Add(1)
						continue
					}
					n.Ring()
				}
			})
		}
		wg.Wait()
		close(stop)
		res := <-got
		if want := producers*perProd - int(refused.Load()); res[0] != want || res[1] != 0 {
			t.Fatalf("round %d: consumer stopped with %d of %d taken, %d left: lost wake-up",
				round, res[0], want, res[1])
		}
	}
}

func TestNotifyWait(t *testing.T) {
	n := NewNotify()
	stop := make(chan struct{})
	if !n.Ring() || n.Ring() {
		t.Fatal("first Ring must send, second must coalesce")
	}
	close(stop)
	// A wake queued before stop is still delivered.
	if !n.Wait(stop) {
		t.Fatal("Wait dropped a queued wake because stop was closed")
	}
	if n.Pending() {
		t.Fatal("Wait did not clear the pending mark")
	}
	if n.Wait(stop) {
		t.Fatal("Wait returned true with stop closed and nothing queued")
	}
	// C + Clear path.
	n.Ring()
	<-n.C()
	n.Clear()
	if n.Pending() || !n.Ring() {
		t.Fatal("Ring after C+Clear must send")
	}
}

// pushOrRefuse retries a full ring a bounded number of times, then refuses
// the value as the engine would (ESME_RMSGQFUL). Bounded, so a lost wake-up
// (which leaves the ring full with nobody draining) fails the test instead of
// hanging it.
func pushOrRefuse(r *MPSC[int], v int) bool {
	for range 64 {
		if r.TryPush(v) {
			return true
		}
		runtime.Gosched()
	}
	return false
}
