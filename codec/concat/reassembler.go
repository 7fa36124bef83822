package concat

import (
	"hash/maphash"
	"time"
)

// Config bounds a Reassembler. Zero fields take the defaults in brackets.
type Config struct {
	// MaxSets is how many incomplete messages may be held at once [1024].
	// Starting one more evicts the oldest (DropEvictedSets).
	MaxSets int
	// MaxBytes bounds the part bodies held across all incomplete messages
	// [4 MiB]. A part that would cross it evicts the oldest other messages
	// (DropEvictedBytes); a message that alone would cross it is dropped
	// (DropTooLarge).
	MaxBytes int
	// Timeout is how long after its first part a message may stay
	// incomplete [60s]. Expire drops late messages; Add also drops one it
	// finds late before adding to it, so the answer does not depend on how
	// often Expire runs.
	Timeout time.Duration
	// MaxRetain is the per-set buffer capacity kept for reuse when a set
	// leaves [2 KiB]; larger buffers go to the GC. Retained memory is thus
	// at most MaxSets·MaxRetain beyond MaxBytes, plus the output scratch
	// (the largest message completed out of order).
	MaxRetain int
}

// DropReason says why a message left the Reassembler incomplete.
type DropReason uint8

const (
	DropExpired      DropReason = iota + 1 // Timeout passed since its first part
	DropEvictedSets                        // oldest, to make room under MaxSets
	DropEvictedBytes                       // oldest, to make room under MaxBytes
	DropTooLarge                           // alone larger than MaxBytes
)

// String returns the reason's short name.
func (d DropReason) String() string {
	switch d {
	case DropExpired:
		return "expired"
	case DropEvictedSets:
		return "evicted-sets"
	case DropEvictedBytes:
		return "evicted-bytes"
	case DropTooLarge:
		return "too-large"
	}
	return "unknown"
}

// Dropped describes an incomplete message as it leaves. It and every slice
// it returns are valid only during the DropFunc call.
type Dropped[K comparable] struct {
	Key      K
	Ref      uint16
	Total    uint8
	Received int // parts held (distinct seqs)
	First    time.Time
	Reason   DropReason
	s        *set[K]
}

// Part returns the body of part seq if it had arrived.
func (d *Dropped[K]) Part(seq uint8) ([]byte, bool) { return d.s.part(seq) }

// DropFunc receives every message that leaves incomplete, so none is lost
// silently. It runs inside the Reassembler call that dropped the message
// and must not call the Reassembler.
type DropFunc[K comparable] func(*Dropped[K])

// Message is a reassembled message. Body is the part bodies concatenated in
// seq order. Body and Part's results are views into Reassembler memory
// valid until the next call on the Reassembler (for a Total 1 segment, Body
// is the body given to Add itself).
type Message[K comparable] struct {
	Key   K
	Ref   uint16
	Total uint8
	First time.Time // arrival of the first part
	Body  []byte
	ends  []uint32 // ends[i] = end of part i+1 in Body
}

// Part returns the body of part seq (1..Total) as a view into Body.
func (m *Message[K]) Part(seq uint8) []byte {
	if seq == 0 || int(seq) > len(m.ends) {
		return nil
	}
	start := uint32(0)
	if seq > 1 {
		start = m.ends[seq-2]
	}
	return m.Body[start:m.ends[seq-1]]
}

// Stats are cumulative counters since New, plus the current occupancy.
type Stats struct {
	Sets, Bytes  int    // incomplete messages and body bytes held now
	Parts        uint64 // parts stored (not counting rejected ones)
	Completed    uint64 // messages handed back whole (Total 1 included)
	Duplicates   uint64 // parts whose seq was already held (first wins)
	Mismatched   uint64 // parts whose total differed from their set's
	Invalid      uint64 // parts failing Segment.Validate
	Expired      uint64 // sets dropped by Timeout
	EvictedSets  uint64 // sets dropped for MaxSets
	EvictedBytes uint64 // sets dropped for MaxBytes
	TooLarge     uint64 // sets dropped for being larger than MaxBytes
	LostParts    uint64 // parts that were held by dropped sets
}

// Reassembler collects the parts of concatenated messages keyed by a
// caller-chosen comparable K (typically the source and destination
// addresses as fixed-size arrays: no strings needed) plus the reference, in
// any order. It is not safe for concurrent use: one owner (an event loop)
// drives it, passing the current time to every call. After warm-up (each
// set slot has seen a message of typical size) Add allocates nothing.
type Reassembler[K comparable] struct {
	_      noCopy
	cfg    Config
	onDrop DropFunc[K]
	seed   maphash.Seed

	slots      []set[K]
	free       []int32 // unused slot indices (stack)
	head, tail int32   // creation-order list of live sets, oldest first
	index      []int32 // open addressing: slot+1, 0 = empty
	mask       uint64
	bytes      int

	out   []byte   // concatenation scratch for out-of-order messages
	ends  []uint32 // Message.ends scratch
	drop  Dropped[K]
	stats Stats
}

type set[K comparable] struct {
	key        K
	ref        uint16
	total, got uint8
	inOrder    bool // every part so far arrived as seq got+1
	hash       uint64
	first      time.Time
	deadline   time.Time
	have       [4]uint64 // bit seq-1 set when part seq is held
	spans      []span    // by seq-1, valid where have says so
	buf        []byte    // part bodies in arrival order
	prev, next int32
}

type span struct{ off, end uint32 }

type setKey[K comparable] struct {
	k   K
	ref uint16
}

// New returns a Reassembler with cfg's bounds (defaults for zero fields)
// that reports every incomplete message it drops to onDrop (may be nil;
// drops are counted in Stats either way). All slot and index memory is
// allocated here.
func New[K comparable](cfg Config, onDrop DropFunc[K]) *Reassembler[K] {
	if cfg.MaxSets <= 0 {
		cfg.MaxSets = 1024
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 4 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetain <= 0 {
		cfg.MaxRetain = 2 << 10
	}
	size := 2
	for size < 2*cfg.MaxSets {
		size <<= 1
	}
	r := &Reassembler[K]{
		cfg:    cfg,
		onDrop: onDrop,
		seed:   maphash.MakeSeed(),
		slots:  make([]set[K], cfg.MaxSets),
		free:   make([]int32, cfg.MaxSets),
		index:  make([]int32, size),
		mask:   uint64(size - 1),
		head:   -1,
		tail:   -1,
		ends:   make([]uint32, 0, MaxParts),
	}
	for i := range r.free {
		r.free[i] = int32(cfg.MaxSets - 1 - i)
	}
	return r
}

// Add stores one part. When it completes its message, Add returns the
// message and true; the Message views are valid until the next call on r.
// body is copied; the caller may reuse it once Add returns (except for a
// Total 1 segment, handed straight back as Message.Body).
//
// Errors (the part is not stored, and each is counted in Stats):
// Segment.Validate's errors; ErrDuplicate when seq is already held (the
// first copy wins; usually not worth rejecting the PDU for);
// ErrTotalMismatch when the held set for key and ref has another total;
// ErrTooLarge when the message would exceed MaxBytes on its own (the set
// is dropped with DropTooLarge).
//
// now should not go backwards; if it does, expiry comes late, never early.
func (r *Reassembler[K]) Add(now time.Time, key K, seg Segment, body []byte) (Message[K], bool, error) {
	if err := seg.Validate(); err != nil {
		r.stats.Invalid++
		return Message[K]{}, false, err
	}
	if seg.Total == 1 {
		r.stats.Parts++
		r.stats.Completed++
		r.ends = append(r.ends[:0], uint32(len(body)))
		return Message[K]{Key: key, Ref: seg.Ref, Total: 1, First: now, Body: body, ends: r.ends}, true, nil
	}
	h := maphash.Comparable(r.seed, setKey[K]{key, seg.Ref})
	si := r.lookup(h, key, seg.Ref)
	if si >= 0 && !now.Before(r.slots[si].deadline) {
		r.dropSet(si, DropExpired)
		si = -1
	}
	if si >= 0 {
		s := &r.slots[si]
		if s.total != seg.Total {
			r.stats.Mismatched++
			return Message[K]{}, false, ErrTotalMismatch
		}
		if s.has(seg.Seq) {
			r.stats.Duplicates++
			return Message[K]{}, false, ErrDuplicate
		}
	}
	if len(body) > r.cfg.MaxBytes {
		if si >= 0 {
			r.dropSet(si, DropTooLarge)
		} else {
			r.stats.TooLarge++
		}
		return Message[K]{}, false, ErrTooLarge
	}
	if si < 0 {
		si = r.start(now, h, key, seg)
	}
	for r.bytes+len(body) > r.cfg.MaxBytes {
		victim := r.head
		if victim == si {
			victim = r.slots[si].next
		}
		if victim < 0 {
			r.dropSet(si, DropTooLarge)
			return Message[K]{}, false, ErrTooLarge
		}
		r.dropSet(victim, DropEvictedBytes)
	}
	s := &r.slots[si]
	off := len(s.buf)
	s.buf = append(s.buf, body...)
	s.spans[seg.Seq-1] = span{uint32(off), uint32(len(s.buf))}
	s.have[(seg.Seq-1)>>6] |= 1 << ((seg.Seq - 1) & 63)
	s.inOrder = s.inOrder && seg.Seq == s.got+1
	s.got++
	r.bytes += len(body)
	r.stats.Parts++
	if s.got < s.total {
		return Message[K]{}, false, nil
	}
	return r.complete(si), true, nil
}

// Expire drops, with DropExpired, every message whose Timeout has passed at
// now, oldest first, and returns how many it dropped.
func (r *Reassembler[K]) Expire(now time.Time) int {
	n := 0
	for r.head >= 0 && !now.Before(r.slots[r.head].deadline) {
		r.dropSet(r.head, DropExpired)
		n++
	}
	return n
}

// Stats returns the counters and current occupancy.
func (r *Reassembler[K]) Stats() Stats {
	st := r.stats
	st.Sets = len(r.slots) - len(r.free)
	st.Bytes = r.bytes
	return st
}

// Len is the number of incomplete messages held; Bytes is their body bytes
// (never above Config.MaxBytes).
func (r *Reassembler[K]) Len() int   { return len(r.slots) - len(r.free) }
func (r *Reassembler[K]) Bytes() int { return r.bytes }

// start takes a slot for a new set, evicting the oldest when none is free.
func (r *Reassembler[K]) start(now time.Time, h uint64, key K, seg Segment) int32 {
	if len(r.free) == 0 {
		r.dropSet(r.head, DropEvictedSets)
	}
	si := r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	s := &r.slots[si]
	s.key, s.ref, s.total, s.got, s.inOrder, s.hash = key, seg.Ref, seg.Total, 0, true, h
	s.first, s.deadline = now, now.Add(r.cfg.Timeout)
	s.have = [4]uint64{}
	if cap(s.spans) < int(seg.Total) {
		s.spans = make([]span, seg.Total, MaxParts)
	}
	s.spans = s.spans[:seg.Total]
	s.buf = s.buf[:0]
	s.prev, s.next = r.tail, -1
	if r.tail >= 0 {
		r.slots[r.tail].next = si
	} else {
		r.head = si
	}
	r.tail = si
	r.insert(si)
	return si
}

// complete builds the Message for the full set si and releases the slot.
// The in-order case hands out the slot's own buffer: the slot is not reused
// before the next call, which is exactly the documented view lifetime.
func (r *Reassembler[K]) complete(si int32) Message[K] {
	s := &r.slots[si]
	r.ends = r.ends[:0]
	body := s.buf
	if !s.inOrder {
		r.out = r.out[:0]
		for _, sp := range s.spans {
			r.out = append(r.out, s.buf[sp.off:sp.end]...)
			r.ends = append(r.ends, uint32(len(r.out)))
		}
		body = r.out
	} else {
		for _, sp := range s.spans {
			r.ends = append(r.ends, sp.end)
		}
	}
	m := Message[K]{Key: s.key, Ref: s.ref, Total: s.total, First: s.first, Body: body, ends: r.ends}
	r.stats.Completed++
	r.release(si, false)
	return m
}

// dropSet reports and releases an incomplete set.
func (r *Reassembler[K]) dropSet(si int32, why DropReason) {
	s := &r.slots[si]
	switch why {
	case DropExpired:
		r.stats.Expired++
	case DropEvictedSets:
		r.stats.EvictedSets++
	case DropEvictedBytes:
		r.stats.EvictedBytes++
	case DropTooLarge:
		r.stats.TooLarge++
	}
	r.stats.LostParts += uint64(s.got)
	if r.onDrop != nil {
		r.drop = Dropped[K]{Key: s.key, Ref: s.ref, Total: s.total, Received: int(s.got), First: s.first, Reason: why, s: s}
		r.onDrop(&r.drop)
		r.drop = Dropped[K]{}
	}
	r.release(si, true)
}

// release unlinks slot si and returns it to the free list. trim drops a
// buffer above MaxRetain; complete passes false because the buffer may be
// the Message body it is handing out (it is trimmed when the slot is
// next released).
func (r *Reassembler[K]) release(si int32, trim bool) {
	s := &r.slots[si]
	r.remove(si)
	if s.prev >= 0 {
		r.slots[s.prev].next = s.next
	} else {
		r.head = s.next
	}
	if s.next >= 0 {
		r.slots[s.next].prev = s.prev
	} else {
		r.tail = s.prev
	}
	r.bytes -= len(s.buf)
	if trim && cap(s.buf) > r.cfg.MaxRetain {
		s.buf = nil
	}
	var zero K
	s.key = zero // do not keep the caller's pointers (if K has any) alive
	r.free = append(r.free, si)
}

func (s *set[K]) has(seq uint8) bool { return s.have[(seq-1)>>6]&(1<<((seq-1)&63)) != 0 }

func (s *set[K]) part(seq uint8) ([]byte, bool) {
	if seq == 0 || seq > s.total || !s.has(seq) {
		return nil, false
	}
	sp := s.spans[seq-1]
	return s.buf[sp.off:sp.end], true
}

// noCopy makes go vet's copylocks check flag copies of a Reassembler.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
