package ring

import (
	"math/rand/v2"
	"testing"
)

// A batch is published by its first slot alone (its run); the consumer
// takes the rest of the run over later pops, one at a time or in batches
// that end inside a run, lap after lap, interleaved with single pushes.
// Checked against a model queue over many random steps.
func TestBatchRunsAcrossPops(t *testing.T) {
	q := newQueue(t, 16)
	rng := rand.New(rand.NewPCG(1, 2))
	next, want := 0, 0
	in := make([]int, 0, 24)
	out := make([]int, 0, 24)
	for step := 0; step < 20000; step++ {
		switch rng.IntN(4) {
		case 0:
			if q.TryPush(next) {
				next++
			} else if q.Len() != q.Cap() {
				t.Fatalf("step %d: TryPush refused with Len %d", step, q.Len())
			}
		case 1:
			in = in[:0]
			for k := rng.IntN(20) + 1; k > 0; k-- {
				in = append(in, next+len(in))
			}
			free := q.Cap() - q.Len()
			n := q.TryPushBatch(in)
			if n != min(len(in), free) {
				t.Fatalf("step %d: batch of %d took %d with %d free", step, len(in), n, free)
			}
			next += n
		case 2:
			v, ok := q.TryPop()
			if ok != (want < next) {
				t.Fatalf("step %d: TryPop ok %v with %d waiting", step, ok, next-want)
			}
			if ok {
				if v != want {
					t.Fatalf("step %d: popped %d, want %d", step, v, want)
				}
				want++
			}
		case 3:
			out = q.PopBatch(out[: 0 : rng.IntN(cap(out))+1])
			if len(out) != min(cap(out), next-want) {
				t.Fatalf("step %d: PopBatch gave %d of %d waiting (room %d)", step, len(out), next-want, cap(out))
			}
			checkSeq(t, out, want, len(out))
			want += len(out)
		}
		if q.Len() != next-want {
			t.Fatalf("step %d: Len %d, want %d", step, q.Len(), next-want)
		}
	}
}
