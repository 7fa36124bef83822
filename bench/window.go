package bench

// window tracks the submit_sm a session has outstanding. Sequence numbers
// carry the slot: seq = gen<<bits | slot + 1, so a response finds its slot
// with a mask and is checked against the stored sequence number (a late or
// foreign response cannot free a reused slot). Responses may come in any
// order. Owned by the session goroutine; nothing is allocated after newWindow.
type window struct {
	seq  []uint32 // per slot: the sequence number in flight, 0 = free
	at   []int64  // per slot: the intended send time (ns since the run's clock base)
	dlr  []bool   // per slot: registered_delivery was requested
	free []uint32 // stack of free slots
	gen  uint32
	bits uint
	mask uint32
}

func newWindow(n int) *window {
	bits := uint(0)
	for 1<<bits < n {
		bits++
	}
	w := &window{
		seq:  make([]uint32, n),
		at:   make([]int64, n),
		dlr:  make([]bool, n),
		free: make([]uint32, n),
		bits: bits,
		mask: 1<<bits - 1,
	}
	for i := range w.free {
		w.free[i] = uint32(n - 1 - i)
	}
	return w
}

// inFlight is the number of outstanding submit_sm.
func (w *window) inFlight() int { return len(w.seq) - len(w.free) }

// full reports whether no slot is free.
func (w *window) full() bool { return len(w.free) == 0 }

// put takes a free slot and returns the sequence number to send. The caller
// checks full first.
func (w *window) put(at int64, dlr bool) uint32 {
	slot := w.free[len(w.free)-1]
	w.free = w.free[:len(w.free)-1]
	w.gen++
	// Keep seq within 1..0x7FFFFFFF (SMPP 3.4 §5.1.4): gen wraps in the
	// bits left above the slot.
	seq := (w.gen<<w.bits|slot)&0x7FFFFFFF + 1
	if seq == 0x80000000 {
		w.gen = 0
		seq = slot + 1
	}
	w.seq[slot] = seq
	w.at[slot] = at
	w.dlr[slot] = dlr
	return seq
}

// take frees the slot of seq and returns its send time and receipt flag;
// ok is false when seq is not outstanding.
func (w *window) take(seq uint32) (at int64, dlr bool, ok bool) {
	if seq == 0 {
		return 0, false, false
	}
	slot := (seq - 1) & w.mask
	if int(slot) >= len(w.seq) || w.seq[slot] != seq {
		return 0, false, false
	}
	w.seq[slot] = 0
	w.free = append(w.free, slot)
	return w.at[slot], w.dlr[slot], true
}
