package ring

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// Small rings, batches up to and past the ring's size (a batch filling the
// whole ring publishes its last slot apart), producers racing the consumer
// across every wrap: every value once, each producer's in order.
func TestMPSCWholeRingBatchesConcurrent(t *testing.T) {
	for _, size := range []int{2, 4, 8} {
		for round := 0; round < 3; round++ {
			stressRing(t, size, uint64(round))
		}
	}
}

func stressRing(t *testing.T, size int, seed uint64) {
	const producers, perProd = 3, 5_000
	r, err := NewMPSC[uint64](size)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range uint64(producers) {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, p))
			batch := make([]uint64, 0, 2*size)
			for seq := uint64(0); seq < perProd; {
				if rng.IntN(3) == 0 {
					if r.TryPush(p<<32 | seq) {
						seq++
						continue
					}
				} else {
					batch = batch[:0]
					for s := seq; s < perProd && len(batch) < rng.IntN(2*size)+1; s++ {
						batch = append(batch, p<<32|s)
					}
					if k := r.TryPushBatch(batch); k > 0 {
						seq += uint64(k)
						continue
					}
				}
				runtime.Gosched()
			}
		})
	}
	var next [producers]uint64
	total := 0
	rng := rand.New(rand.NewPCG(seed, 99))
	back := make([]uint64, 0, 2*size+1)
	var buf []uint64
	for total < producers*perProd {
		got := 0
		if rng.IntN(2) == 0 {
			if v, ok := r.TryPop(); ok {
				buf = append(back[:0], v)
				got = 1
			}
		} else {
			buf = r.PopBatch(back[: 0 : rng.IntN(2*size)+1])
			got = len(buf)
		}
		if got == 0 {
			runtime.Gosched()
			continue
		}
		for _, v := range buf[:got] {
			p, s := v>>32, v&(1<<32-1)
			if p >= producers || s != next[p] {
				t.Fatalf("size %d: got producer %d seq %d, want %d", size, p, s, next[min(p, producers-1)])
			}
			next[p]++
			total++
		}
	}
	wg.Wait()
	if _, ok := r.TryPop(); ok || r.Len() != 0 {
		t.Fatalf("size %d: ring not empty", size)
	}
}
