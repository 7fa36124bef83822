package webhook

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// scheduler is the service's one goroutine beside the senders: it hands
// callbacks whose retry is due back to their targets, and leases what the
// store still holds (a previous run's) as room frees.
type scheduler struct {
	started atomic.Bool
	more    atomic.Bool // the store may hold callbacks not leased yet

	mu   sync.Mutex
	due  retryHeap
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// idleTick bounds the goroutine's sleep with nothing due.
const idleTick = time.Second

func (sc *scheduler) init() {
	sc.wake = make(chan struct{}, 1)
	sc.quit = make(chan struct{})
	sc.done = make(chan struct{})
}

// poke wakes the goroutine without blocking.
func (sc *scheduler) poke() {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// add schedules e's retry at e.due.
func (sc *scheduler) add(e *entry) {
	sc.mu.Lock()
	sc.due.push(e)
	first := sc.due[0] == e
	sc.mu.Unlock()
	if first {
		sc.poke()
	}
}

// Waiting is the number of callbacks waiting for a retry.
func (sc *scheduler) waiting() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.due)
}

func (sc *scheduler) run(s *Service) {
	defer close(sc.done)
	t := time.NewTimer(idleTick)
	defer t.Stop()
	for {
		select {
		case <-sc.quit:
			return
		case <-sc.wake:
		case <-t.C:
		}
		now := s.now()
		ns := now.UnixNano()
		next := ns + int64(idleTick)
		for {
			sc.mu.Lock()
			if len(sc.due) == 0 || sc.due[0].due > ns {
				if len(sc.due) > 0 {
					next = min(next, sc.due[0].due)
				}
				sc.mu.Unlock()
				break
			}
			e := sc.due.pop()
			sc.mu.Unlock()
			s.ready(e)
		}
		if sc.more.Load() {
			s.takeHeld(now)
		}
		s.adoptQueued(now)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(max(time.Duration(next-ns), time.Millisecond))
	}
}

// stop ends the goroutine, waiting for it as long as ctx allows.
func (sc *scheduler) stop(ctx context.Context) {
	if !sc.started.Load() {
		return
	}
	sc.once.Do(func() { close(sc.quit) })
	select {
	case <-sc.done:
	case <-ctx.Done():
	}
}

// retryHeap orders entries by due time (a binary min-heap).
type retryHeap []*entry

func (q *retryHeap) push(e *entry) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].due <= h[i].due {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (q *retryHeap) pop() *entry {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = nil
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].due < h[m].due {
			m = l
		}
		if r < n && h[r].due < h[m].due {
			m = r
		}
		if m == i {
			break
		}
		h[m], h[i] = h[i], h[m]
		i = m
	}
	*q = h
	return top
}
