package memory

// index is an open-addressing hash index (linear probing, no tombstones)
// from a 32-bit hash tag to a ring slot. Each word packs the tag in the high
// half and slot+1 in the low half, so 0 means empty. The tag's low bits are
// also the home position, which lets remove shift entries back without
// rehashing their keys (Knuth, TAOCP vol. 3, §6.4, Algorithm R). The owner
// keeps the load at or below one half and holds its shard's lock.
type index struct {
	w    []uint64
	mask uint32
}

// indexSize is the number of words for a ring of n slots: a power of two
// at least 2n, so the load never exceeds one half.
func indexSize(n int) int {
	s := 8
	for s < 2*n {
		s <<= 1
	}
	return s
}

// reset sizes the index for a ring of n slots and empties it.
func (x *index) reset(n int) {
	s := indexSize(n)
	if len(x.w) != s {
		x.w = make([]uint64, s)
	} else {
		clear(x.w)
	}
	x.mask = uint32(s - 1)
}

func pack(tag, slot uint32) uint64 { return uint64(tag)<<32 | uint64(slot+1) }

// insert adds slot under tag. Precondition: slot is not in the index and
// the index has an empty word (guaranteed by the load bound).
func (x *index) insert(tag, slot uint32) {
	p := tag & x.mask
	for x.w[p] != 0 {
		p = (p + 1) & x.mask
	}
	x.w[p] = pack(tag, slot)
}

// next returns the next slot indexed under tag along tag's probe
// sequence, or -1 at its end; *p is the position to look at, tag itself on
// the first call. Lookups compare each slot's key until one matches.
func (x *index) next(tag uint32, p *uint32) int {
	if len(x.w) == 0 {
		return -1
	}
	for {
		v := x.w[*p&x.mask]
		if v == 0 {
			return -1
		}
		*p = (*p + 1) & x.mask
		if tagOf(v) == tag {
			return int(slotOf(v))
		}
	}
}

// remove deletes slot (stored under tag) and closes the gap it leaves.
// It does nothing if the pair is absent.
func (x *index) remove(tag, slot uint32) {
	want := pack(tag, slot)
	i := tag & x.mask
	for x.w[i] != want {
		if x.w[i] == 0 {
			return
		}
		i = (i + 1) & x.mask
	}
	for j := (i + 1) & x.mask; x.w[j] != 0; j = (j + 1) & x.mask {
		home := uint32(x.w[j]>>32) & x.mask
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j]: then i is before its home and a probe
		// from home would never reach it.
		if cyclicIn(home, i, j) {
			continue
		}
		x.w[i] = x.w[j]
		i = j
	}
	x.w[i] = 0
}

// cyclicIn reports whether k lies in the cyclic interval (i, j].
func cyclicIn(k, i, j uint32) bool {
	if i <= j {
		return i < k && k <= j
	}
	return k > i || k <= j
}

// slotOf and tagOf unpack an index word.
func slotOf(v uint64) uint32 { return uint32(v) - 1 }
func tagOf(v uint64) uint32  { return uint32(v >> 32) }
