package smppout

import "math/bits"

// slot is one outstanding submit_sm: a part of a job.
type slot struct {
	seq    uint32 // 0 = free
	part   uint8
	job    *job
	sentAt int64 // mono ns
}

// window tracks a session's outstanding submit_sm. Sequence numbers carry
// the slot: seq = (gen<<bits | slot) + 1, so a response finds its slot with
// a mask and is checked against the stored number (a late response to a
// timed-out slot cannot free its reuse). Slot index n (one past the last)
// is reserved for control requests (enquire_link, unbind), which therefore
// never share a number with an outstanding submit. Guarded by session.mu;
// nothing is allocated after newWindow.
type window struct {
	slots []slot
	free  []uint32
	gen   uint32
	bits  uint
	mask  uint32
	ctl   uint32 // control generation
}

func newWindow(n int) window {
	b := uint(bits.Len(uint(n))) // room for indexes 0..n, n = control
	w := window{slots: make([]slot, n), free: make([]uint32, n), bits: b, mask: 1<<b - 1}
	for i := range w.free {
		w.free[i] = uint32(n - 1 - i)
	}
	return w
}

func (w *window) room() bool { return len(w.free) > 0 }

// makeSeq builds a sequence number within 1..0x40000000, inside SMPP's
// 1..0x7FFFFFFF (SMPP 3.4 §5.1.4); gen wraps in the bits above the index.
func (w *window) makeSeq(gen, idx uint32) uint32 {
	return (gen<<w.bits|idx)&0x3FFFFFFF + 1
}

// put takes a free slot for part of j and returns its sequence number.
// The caller checked room.
func (w *window) put(j *job, part int, now int64) uint32 {
	idx := w.free[len(w.free)-1]
	w.free = w.free[:len(w.free)-1]
	w.gen++
	seq := w.makeSeq(w.gen, idx)
	w.slots[idx] = slot{seq: seq, part: uint8(part), job: j, sentAt: now}
	return seq
}

// take frees the slot of seq; ok is false when seq is not outstanding.
func (w *window) take(seq uint32) (slot, bool) {
	if seq == 0 {
		return slot{}, false
	}
	idx := (seq - 1) & w.mask
	if int(idx) >= len(w.slots) || w.slots[idx].seq != seq {
		return slot{}, false
	}
	s := w.slots[idx]
	w.release(idx)
	return s, true
}

func (w *window) release(idx uint32) {
	w.slots[idx] = slot{}
	w.free = append(w.free, idx)
}

// control returns a sequence number for a control request.
func (w *window) control() uint32 {
	w.ctl++
	return w.makeSeq(w.ctl, uint32(len(w.slots)))
}
