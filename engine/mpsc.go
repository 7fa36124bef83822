package engine

import "sync/atomic"

// cacheLinePad keeps the producer and consumer cursors on separate cache lines.
type cacheLinePad [64]byte

// mpsc is a bounded multi-producer single-consumer ring (D. Vyukov's bounded
// MPMC queue, specialised to one consumer): every slot carries a sequence
// number; a producer claims a slot by CAS on tail and publishes it by storing
// seq = pos+1; the consumer frees it by storing seq = pos+capacity.
// TryPush and TryPop never allocate and never block; a full ring is reported
// to the producer, which decides (back-pressure, never a silent drop).
type mpsc[T any] struct {
	_     cacheLinePad
	tail  atomic.Uint64 // next position to claim (producers)
	_     cacheLinePad
	head  uint64 // next position to read (consumer only)
	_     cacheLinePad
	mask  uint64
	slots []mpscSlot[T]
}

type mpscSlot[T any] struct {
	seq atomic.Uint64
	v   T
}

// newMPSC returns a ring holding at least n items (rounded up to a power of two).
func newMPSC[T any](n int) *mpsc[T] {
	size := uint64(2)
	for size < uint64(n) {
		size <<= 1
	}
	q := &mpsc[T]{mask: size - 1, slots: make([]mpscSlot[T], size)}
	for i := range q.slots {
		q.slots[i].seq.Store(uint64(i))
	}
	return q
}

// TryPush copies *v into the ring. It is safe from any goroutine and reports
// false when the ring is full.
func (q *mpsc[T]) TryPush(v *T) bool {
	for {
		pos := q.tail.Load()
		s := &q.slots[pos&q.mask]
		dif := int64(s.seq.Load()) - int64(pos)
		switch {
		case dif == 0:
			if q.tail.CompareAndSwap(pos, pos+1) {
				s.v = *v
				s.seq.Store(pos + 1)
				return true
			}
		case dif < 0:
			return false
		}
		// Another producer claimed pos first: reload and retry.
	}
}

// TryPop moves the oldest item into *v. Only the owning loop may call it.
func (q *mpsc[T]) TryPop(v *T) bool {
	pos := q.head
	s := &q.slots[pos&q.mask]
	if s.seq.Load() != pos+1 {
		return false
	}
	*v = s.v
	var zero T
	s.v = zero // drop references so the GC can free them
	s.seq.Store(pos + q.mask + 1)
	q.head = pos + 1
	return true
}
