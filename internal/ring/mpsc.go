package ring

import "sync/atomic"

// MPSC is a bounded multi-producer, single-consumer ring: Dmitry Vyukov's
// bounded MPMC queue (1024cores.net, "Bounded MPMC queue") with the consumer
// side reduced to one goroutine, so popping needs no CAS.
//
// Every slot carries a sequence number. For the position p that maps to a
// slot, seq == p means the slot is free for p; a producer claims p by CAS on
// the tail, writes the value and stores seq = p+1 (published). The consumer
// pops p when seq == p+1, zeroes the value and stores seq = p+size (free for
// the next lap). A producer that finds seq < p knows the ring is full.
//
// A slot keeps its seq less its own index (p&^mask for the p above: the
// lap's first position), so a new ring's slots all hold 0 and NewMPSC
// writes none of them: a large ring's pages stay untouched, not resident,
// until positions reach them (the CDR queue's 65,536 slots were 6.5 MiB
// resident from the start; BENCHMARKS.md, issue 17's resident memory).
//
// A batch is published with one store: its first slot's seq is the lap's
// first position plus the batch's length (its run; 1 for a single value)
// and only that slot's seq is stored; the consumer, having seen it, takes
// the run's other slots without reading their seq (each still holds its
// free value for this lap, so no producer can claim it: the tail is past
// it). On amd64 an atomic store is an xchg, a full barrier, and a store
// per slot waited each time for that slot's line, which the consumer's
// core last wrote. A run is at most size-1 (size would read as the next
// lap's free value): a batch filling the whole ring publishes its last
// slot by itself. The run lives in seq, not in a word of its own, because
// a large ring's slots are resident once it has gone round (the CDR
// queue: 65,536 slots, 8 bytes each for a separate run).
//
// TryPush never blocks and never waits for another producer; it retries only
// when another producer won the CAS. A producer descheduled between its claim
// and its publish hides the values behind its slot: TryPop reports empty
// until it publishes (and rings the doorbell), so no value is lost or
// reordered.
//
// Any goroutine may push; one goroutine at a time may pop (see the package
// doc); Len and Cap are safe from anywhere.
type MPSC[T any] struct {
	_ noCopy
	_ [cacheLine]byte

	tail atomic.Uint64 // next position to claim; CAS by producers
	_    [cacheLine - 8]byte

	head atomic.Uint64 // next position to pop; stored by the consumer only
	// avail: positions before it are published (a batch's run seen at
	// its first slot). Consumer only; written before head's store, which
	// orders it for the next consumer.
	avail uint64
	_     [cacheLine - 16]byte

	// Read-only after NewMPSC.
	mask  uint64
	slots []mpscSlot[T]
	_     [cacheLine - 32]byte
}

type mpscSlot[T any] struct {
	seq atomic.Uint64
	val T
}

// NewMPSC returns an empty ring holding at least capacity values: capacity is
// rounded up to a power of two (at least 2). It fails with ErrCapacity when
// capacity is outside [1, MaxCapacity].
func NewMPSC[T any](capacity int) (*MPSC[T], error) {
	size, err := roundCapacity(capacity)
	if err != nil {
		return nil, err
	}
	r := &MPSC[T]{mask: size - 1, slots: make([]mpscSlot[T], size)}
	return r, nil
}

// Cap returns the ring's capacity (a power of two).
func (r *MPSC[T]) Cap() int { return len(r.slots) }

// Len returns the number of positions claimed by producers and not yet
// popped, including values still being written: a snapshot, exact only when
// producers are idle.
func (r *MPSC[T]) Len() int {
	h := r.head.Load()
	t := r.tail.Load() // loaded after h, so t >= h
	return int(min(t-h, r.mask+1))
}

// TryPush appends v and reports true, or reports false at once when the ring
// is full. Any goroutine.
func (r *MPSC[T]) TryPush(v T) bool {
	pos := r.tail.Load()
	for {
		s := &r.slots[pos&r.mask]
		switch dif := int64(s.seq.Load() - pos&^r.mask); {
		case dif == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				s.val = v
				s.seq.Store(pos&^r.mask + 1) // a run of 1
				return true
			}
			pos = r.tail.Load()
		case dif < 0:
			return false // the slot still holds the value from the previous lap
		default:
			pos = r.tail.Load() // another producer claimed pos
		}
	}
}

// TryPushBatch appends as many leading values of vs as there are free slots,
// claiming them with one CAS, and returns how many it took (0 when full). The
// values of one batch are contiguous in the ring. The caller still owns
// vs[n:]. Any goroutine.
func (r *MPSC[T]) TryPushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	want := uint64(len(vs))
	pos := r.tail.Load()
	for {
		// A slot seen free for its position stays free until that position is
		// claimed, and nobody can claim it unless our CAS fails; so counting
		// first and claiming after is sound.
		n := uint64(0)
		for n < want && r.slots[(pos+n)&r.mask].seq.Load() == (pos+n)&^r.mask {
			n++
		}
		if n == 0 {
			if int64(r.slots[pos&r.mask].seq.Load()-pos&^r.mask) < 0 {
				return 0
			}
			pos = r.tail.Load()
			continue
		}
		if !r.tail.CompareAndSwap(pos, pos+n) {
			pos = r.tail.Load()
			continue
		}
		for i := uint64(1); i < n; i++ {
			r.slots[(pos+i)&r.mask].val = vs[i]
		}
		run := n
		if run > r.mask { // the whole ring: its last slot goes first, by itself
			last := pos + n - 1
			r.slots[last&r.mask].seq.Store(last&^r.mask + 1)
			run = r.mask
		}
		s := &r.slots[pos&r.mask]
		s.val = vs[0]
		s.seq.Store(pos&^r.mask + run) // publishes the run: everything above happens before the pop
		return int(n)
	}
}

// published reports whether position p, the consumer's next, is published,
// noting a batch's run when p starts one. Consumer only.
func (r *MPSC[T]) published(p uint64, s *mpscSlot[T]) bool {
	if p < r.avail {
		return true
	}
	// The slot of the consumer's next position holds this lap's free
	// value (unpublished) or that plus a run of 1..size-1.
	run := s.seq.Load() - p&^r.mask
	if run == 0 {
		return false
	}
	r.avail = p + run
	return true
}

// TryPop removes and returns the oldest published value, or reports false
// when there is none. Consumer only.
func (r *MPSC[T]) TryPop() (T, bool) {
	var zero T
	h := r.head.Load()
	s := &r.slots[h&r.mask]
	if !r.published(h, s) {
		return zero, false
	}
	v := s.val
	s.val = zero
	s.seq.Store(h&^r.mask + r.mask + 1)
	r.head.Store(h + 1)
	return v, true
}

// PopBatch removes up to cap(dst)-len(dst) of the oldest published values,
// appends them to dst in order and returns the extended slice; it never grows
// dst, so it never allocates, and it pops nothing when len(dst) == cap(dst).
// It stops at the first slot not yet published. Each slot is zeroed and
// released as it is read; the head is stored once. Typical use is
// buf = r.PopBatch(buf[:0]). Consumer only.
func (r *MPSC[T]) PopBatch(dst []T) []T {
	room := uint64(cap(dst) - len(dst))
	if room == 0 {
		return dst
	}
	var zero T
	h := r.head.Load()
	n := uint64(0)
	for ; n < room; n++ {
		p := h + n
		s := &r.slots[p&r.mask]
		if !r.published(p, s) {
			break
		}
		dst = append(dst, s.val)
		s.val = zero
		s.seq.Store(p&^r.mask + r.mask + 1)
	}
	if n > 0 {
		r.head.Store(h + n)
	}
	return dst
}
