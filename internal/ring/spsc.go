package ring

import "sync/atomic"

// SPSC is a bounded single-producer, single-consumer ring, modelled on the Go
// runtime's per-P run queue (runqput/runqget): the producer writes a slot and
// then publishes the tail; the consumer reads a slot, zeroes it and then
// publishes the head. Each side does one atomic store per item, or one per
// batch. Head and tail live on separate cache lines, each beside its owner's
// cached copy of the other index, so a push or pop reads the other side's
// line only when the cached copy says the ring looks full or empty.
//
// Exactly one goroutine at a time may push and one may pop (see the package
// doc); Len and Cap are safe from anywhere.
type SPSC[T any] struct {
	_ noCopy
	_ [cacheLine]byte

	// Consumer's line.
	head      atomic.Uint64 // next position to pop; stored by the consumer only
	tailCache uint64        // consumer's last seen tail
	_         [cacheLine - 16]byte

	// Producer's line.
	tail      atomic.Uint64 // next position to push; stored by the producer only
	headCache uint64        // producer's last seen head
	_         [cacheLine - 16]byte

	// Read-only after NewSPSC.
	mask uint64
	buf  []T
	_    [cacheLine - 32]byte
}

// NewSPSC returns an empty ring holding at least capacity values: capacity is
// rounded up to a power of two (at least 2). It fails with ErrCapacity when
// capacity is outside [1, MaxCapacity].
func NewSPSC[T any](capacity int) (*SPSC[T], error) {
	size, err := roundCapacity(capacity)
	if err != nil {
		return nil, err
	}
	return &SPSC[T]{mask: size - 1, buf: make([]T, size)}, nil
}

// Cap returns the ring's capacity (a power of two).
func (r *SPSC[T]) Cap() int { return len(r.buf) }

// Len returns the number of values in the ring. From the producer it is an
// upper bound, from the consumer a lower bound, elsewhere a snapshot.
func (r *SPSC[T]) Len() int {
	h := r.head.Load()
	t := r.tail.Load() // loaded after h, so t >= h
	return int(min(t-h, r.mask+1))
}

// TryPush appends v and reports true, or reports false at once when the ring
// is full. Producer only.
func (r *SPSC[T]) TryPush(v T) bool {
	t := r.tail.Load()
	if t-r.headCache > r.mask {
		r.headCache = r.head.Load()
		if t-r.headCache > r.mask {
			return false
		}
	}
	r.buf[t&r.mask] = v
	r.tail.Store(t + 1)
	return true
}

// TryPushBatch appends as many leading values of vs as fit, publishes them
// with one atomic store and returns how many it took (0 when full). The
// caller still owns vs[n:]. Producer only.
func (r *SPSC[T]) TryPushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	t := r.tail.Load()
	size := r.mask + 1
	free := size - (t - r.headCache)
	if free < uint64(len(vs)) {
		r.headCache = r.head.Load()
		free = size - (t - r.headCache)
		if free == 0 {
			return 0
		}
	}
	n := min(uint64(len(vs)), free)
	k := copy(r.buf[t&r.mask:], vs[:n])
	copy(r.buf, vs[k:n]) // the wrapped part, if any
	r.tail.Store(t + n)
	return int(n)
}

// TryPop removes and returns the oldest value, or reports false when the ring
// is empty. Consumer only.
func (r *SPSC[T]) TryPop() (T, bool) {
	var zero T
	h := r.head.Load()
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return zero, false
		}
	}
	i := h & r.mask
	v := r.buf[i]
	r.buf[i] = zero
	r.head.Store(h + 1)
	return v, true
}

// PopBatch removes up to cap(dst)-len(dst) of the oldest values, appends them
// to dst in order and returns the extended slice; it never grows dst, so it
// never allocates, and it pops nothing when len(dst) == cap(dst). The slots
// are zeroed and released with one atomic store. Typical use is
// buf = r.PopBatch(buf[:0]) with a buffer reused by the consumer. Consumer
// only.
func (r *SPSC[T]) PopBatch(dst []T) []T {
	room := uint64(cap(dst) - len(dst))
	if room == 0 {
		return dst
	}
	h := r.head.Load()
	avail := r.tailCache - h
	if avail < room {
		r.tailCache = r.tail.Load()
		avail = r.tailCache - h
		if avail == 0 {
			return dst
		}
	}
	n := min(avail, room)
	i := h & r.mask
	end := min(i+n, r.mask+1)
	dst = append(dst, r.buf[i:end]...)
	clear(r.buf[i:end])
	if rest := n - (end - i); rest > 0 {
		dst = append(dst, r.buf[:rest]...)
		clear(r.buf[:rest])
	}
	r.head.Store(h + n)
	return dst
}
