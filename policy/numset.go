package policy

import "math/bits"

// maxKeyDigits is the longest digit string a numSet key holds: 17 digits
// (value < 10^17) times 32 plus the length stays below 2^63. E.164
// numbers have at most 15.
const maxKeyDigits = 17

// numKey packs a digit string's value and length (so "049" and "49"
// differ); never 0.
func numKey(v uint64, n int) uint64 { return v<<5 | uint64(n) }

// digitKey is numKey of b, false when b is not 1..maxKeyDigits digits.
func digitKey(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > maxKeyDigits {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return numKey(v, len(b)), true
}

// numSet is an open-addressing hash set of numKeys (linear probing, load
// at most one half): one or two probes of one flat array per lookup, 8
// octets a slot, so 1,000,000 entries take 16 MiB and no pointers for the
// garbage collector to walk.
type numSet struct {
	slots []uint64 // 0 = empty
	shift uint8
	n     int
}

// newNumSet sizes a set for n keys.
func newNumSet(n int) numSet {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return numSet{slots: make([]uint64, size), shift: uint8(64 - bits.TrailingZeros(uint(size)))}
}

func (s *numSet) home(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> s.shift }

// add inserts k (never 0); false when it was there.
func (s *numSet) add(k uint64) bool {
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = k
			s.n++
			return true
		case k:
			return false
		}
	}
}

func (s *numSet) grow() {
	old := s.slots
	*s = newNumSet(max(8, len(old)))
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}

// has reports whether k is in the set.
func (s *numSet) has(k uint64) bool {
	if s.n == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case k:
			return true
		}
	}
}
