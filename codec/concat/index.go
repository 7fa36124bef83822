package concat

// The Reassembler's set index: open addressing with linear probing over a
// power-of-two table at least twice MaxSets, so it never grows and probes
// stay short; deletion shifts later entries back (no tombstones), which
// keeps lookups bounded under endless insert/delete churn.

func (r *Reassembler[K]) lookup(h uint64, key K, ref uint16) int32 {
	for i := h & r.mask; ; i = (i + 1) & r.mask {
		e := r.index[i]
		if e == 0 {
			return -1
		}
		s := &r.slots[e-1]
		if s.hash == h && s.ref == ref && s.key == key {
			return e - 1
		}
	}
}

func (r *Reassembler[K]) insert(si int32) {
	i := r.slots[si].hash & r.mask
	for r.index[i] != 0 {
		i = (i + 1) & r.mask
	}
	r.index[i] = si + 1
}

func (r *Reassembler[K]) remove(si int32) {
	i := r.slots[si].hash & r.mask
	for r.index[i] != si+1 {
		i = (i + 1) & r.mask
	}
	// Backward shift: move each following entry of the cluster into the
	// hole unless its home slot lies cyclically within (hole, entry].
	for j := i; ; {
		j = (j + 1) & r.mask
		e := r.index[j]
		if e == 0 {
			break
		}
		home := r.slots[e-1].hash & r.mask
		if (i < j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		r.index[i] = e
		i = j
	}
	r.index[i] = 0
}
