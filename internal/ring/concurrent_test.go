package ring

import (
	"runtime"
	"sync"
	"testing"
)

// The concurrent tests park the consumer on a Notify rather than spinning, so
// they also exercise the wake protocol; producers yield when the ring is full.

func TestMPSCConcurrent(t *testing.T) {
	const (
		producers = 4
		perProd   = 50_000
	)
	r, err := NewMPSC[uint64](32)
	if err != nil {
		t.Fatal(err)
	}
	n := NewNotify()
	var wg sync.WaitGroup
	for p := range uint64(producers) {
		wg.Go(func() {
			batch := make([]uint64, 0, 6)
			for seq := uint64(0); seq < perProd; {
				if (seq+p)%2 == 0 {
					if r.TryPush(p<<32 | seq) {
						seq++
						n.Ring()
						continue
					}
				} else {
					batch = batch[:0]
					for s := seq; s < perProd && len(batch) < cap(batch); s++ {
						batch = append(batch, p<<32|s)
					}
					if k := r.TryPushBatch(batch); k > 0 {
						seq += uint64(k)
						n.Ring()
						continue
					}
				}
				runtime.Gosched() // full
			}
		})
	}

	// Consumer on this goroutine: every value exactly once, per-producer FIFO.
	var next [producers]uint64
	total := 0
	check := func(v uint64) {
		p, seq := v>>32, v&(1<<32-1)
		if p >= producers || seq != next[p] {
			t.Fatalf("got producer %d seq %d, want seq %d", p, seq, next[min(p, producers-1)])
		}
		next[p]++
		total++
	}
	buf := make([]uint64, 0, 9)
	for total < producers*perProd && n.Wait(nil) {
		for {
			if total%2 == 0 {
				v, ok := r.TryPop()
				if !ok {
					break
				}
				check(v)
				continue
			}
			buf = r.PopBatch(buf[:0])
			if len(buf) == 0 {
				break
			}
			for _, v := range buf {
				check(v)
			}
		}
	}
	wg.Wait()
	for p, got := range next {
		if got != perProd {
			t.Fatalf("producer %d: %d values arrived, want %d", p, got, perProd)
		}
	}
	if v, ok := r.TryPop(); ok || r.Len() != 0 {
		t.Fatalf("ring not empty after all values: pop %d %v, Len %d", v, ok, r.Len())
	}
}

// Several rings fanned into one consumer behind one shared Notify: one wake
// must cover every ring the consumer drains, whichever producer rang it.
func TestNotifyFanIn(t *testing.T) {
	const (
		producers = 3
		perProd   = 30_000
	)
	var rings [producers]*MPSC[uint64]
	for i := range rings {
		var err error
		if rings[i], err = NewMPSC[uint64](8); err != nil {
			t.Fatal(err)
		}
	}
	n := NewNotify()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for seq := uint64(0); seq < perProd; {
				if rings[p].TryPush(seq) {
					seq++
					n.Ring()
				} else {
					runtime.Gosched()
				}
			}
		})
	}
	var next [producers]uint64
	total := 0
	buf := make([]uint64, 0, 4)
	for total < producers*perProd && n.Wait(nil) {
		for more := true; more; {
			more = false
			for p, r := range rings {
				buf = r.PopBatch(buf[:0])
				for _, v := range buf {
					if v != next[p] {
						t.Fatalf("ring %d: got %d, want %d", p, v, next[p])
					}
					next[p]++
					total++
				}
				more = more || len(buf) > 0
			}
		}
	}
	wg.Wait()
	if total != producers*perProd {
		t.Fatalf("got %d values, want %d", total, producers*perProd)
	}
}
