package cdr

import (
	"math/bits"
	"sync/atomic"

	"github.com/smppd/smppd/storage"
)

// The upstream id in a queued event. The queue's slots are resident once
// its positions have gone round them, so a slot carries 16 octets of it,
// not storage.MaxUpstreamID (64): the CDR queue's 65,536 slots took
// 6.5 MiB with the id inline, 3 MiB now (BENCHMARKS.md, issue 17's
// resident memory). An id of up to 16 octets is kept as it is; a longer
// one of hex digits in one case (decimal digits included, up to 32) or a
// UUID in its 36-character form is kept as nibbles; any other goes to a
// spill slab whose slots are taken lowest first and made in chunks on
// first use, so it takes only as much memory as ids wait there at once.
const upInline = 16

// Forms of upID.
const (
	upNone   = iota // no id
	upRaw           // b[:n] is the id
	upHexLo         // n hex digits, lower case, two to an octet of b
	upHexUp         // the same, upper case
	upUUIDLo        // a UUID (8-4-4-4-12 hex digits), its 32 digits packed, lower case
	upUUIDUp        // the same, upper case
	upSpill         // b[:4] is the id's slot in the spill slab (little endian)
)

// upID is an upstream id in an event: fixed size, no pointers.
type upID struct {
	form uint8
	n    uint8 // the id's length in octets
	b    [upInline]byte
}

// uuidLen is a UUID's length as text (8-4-4-4-12 hex digits).
const uuidLen = 36

// hexDigit maps an octet to its nibble in the low 4 bits and its case in
// the next two: 1 lower-case letter, 2 upper-case letter, 3 decimal digit
// (either case), 0 not a hex digit.
var hexDigit = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 3<<4 | uint8(c-'0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = 1<<4 | uint8(c-'a'+10)
		t[c-'a'+'A'] = 2<<4 | uint8(c-'a'+10)
	}
	return t
}()

// packPairs packs the hex digits of s (an even number) two to an octet
// of b and returns the case bits they share (hexDigit's, in the low two).
func packPairs(b, s []byte) uint8 {
	cs := uint8(0xff)
	for j := range b {
		d0, d1 := hexDigit[s[2*j]], hexDigit[s[2*j+1]]
		cs &= d0 & d1
		b[j] = d0<<4 | d1&15
	}
	return cs >> 4 & 3
}

// packHex packs id's hex digits into b and reports their case: 1 lower
// (or digits only), 2 upper, 0 when id has anything else or mixes the
// cases.
func packHex(b *[upInline]byte, id []byte) uint8 {
	n := len(id)
	cs := packPairs(b[:n/2], id[:n&^1])
	if n&1 == 1 {
		d := hexDigit[id[n-1]]
		cs &= d >> 4
		b[n/2] = d << 4
	}
	return caseOf(cs)
}

// packUUID packs a UUID's 32 hex digits into b, as packHex.
func packUUID(b *[upInline]byte, id []byte) uint8 {
	if id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return 0
	}
	return caseOf(packPairs(b[0:4], id[0:8]) & packPairs(b[4:6], id[9:13]) & packPairs(b[6:8], id[14:18]) &
		packPairs(b[8:10], id[19:23]) & packPairs(b[10:16], id[24:36]))
}

// caseOf turns shared case bits into packHex's answer.
func caseOf(cs uint8) uint8 {
	if cs == 3 {
		return 1
	}
	return cs
}

// appendPairs appends the 2×len(b) hex digits b packs.
func appendPairs(dst, b []byte, digits string) []byte {
	for _, v := range b {
		dst = append(dst, digits[v>>4], digits[v&15])
	}
	return dst
}

// set keeps id (at most storage.MaxUpstreamID octets: the store's bound),
// spilling it when it has no compact form; false when the spill slab is
// full (the queue is then full as well).
func (u *upID) set(id []byte, sp *spill) bool {
	n := min(len(id), storage.MaxUpstreamID)
	id = id[:n]
	u.n = uint8(n)
	switch {
	case n == 0:
		u.form = upNone
		return true
	case n <= upInline:
		u.form = upRaw
		copy(u.b[:], id)
		return true
	case n <= 2*upInline:
		if cs := packHex(&u.b, id); cs != 0 {
			u.form = upHexLo + cs - 1
			return true
		}
	case n == uuidLen:
		if cs := packUUID(&u.b, id); cs != 0 {
			u.form = upUUIDLo + cs - 1
			return true
		}
	}
	i, ok := sp.put(id)
	if !ok {
		return false
	}
	u.form = upSpill
	u.b[0], u.b[1], u.b[2], u.b[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
	return true
}

// spillSlot is the slab slot a spilled id is in.
func (u *upID) spillSlot() int {
	return int(u.b[0]) | int(u.b[1])<<8 | int(u.b[2])<<16 | int(u.b[3])<<24
}

const hexLo, hexUp = "0123456789abcdef", "0123456789ABCDEF"

// get appends the id to dst[:0] and returns it; a spilled id's slot is
// given back to sp.
func (u *upID) get(dst []byte, sp *spill) []byte {
	dst = dst[:0]
	switch u.form {
	case upRaw:
		return append(dst, u.b[:u.n]...)
	case upHexLo, upHexUp:
		digits := hexLo
		if u.form == upHexUp {
			digits = hexUp
		}
		dst = appendPairs(dst, u.b[:u.n/2], digits)
		if u.n&1 == 1 {
			dst = append(dst, digits[u.b[u.n/2]>>4])
		}
		return dst
	case upUUIDLo, upUUIDUp:
		digits := hexLo
		if u.form == upUUIDUp {
			digits = hexUp
		}
		dst = append(appendPairs(dst, u.b[0:4], digits), '-')
		dst = append(appendPairs(dst, u.b[4:6], digits), '-')
		dst = append(appendPairs(dst, u.b[6:8], digits), '-')
		dst = append(appendPairs(dst, u.b[8:10], digits), '-')
		return appendPairs(dst, u.b[10:16], digits)
	case upSpill:
		i := u.spillSlot()
		dst = append(dst, sp.slot(i)[:u.n]...)
		sp.release(i)
		return dst
	}
	return dst
}

// drop gives back a spilled id's slot without reading it (its event
// never got into the queue).
func (u *upID) drop(sp *spill) {
	if u.form == upSpill {
		sp.release(u.spillSlot())
	}
}

// spill is the slab of upstream ids without a compact form, one slot per
// id waiting in the queue (or in the writer's batch). Any goroutine puts,
// the writer releases. A slot is taken by setting its bit with a CAS, the
// lowest free first, and its chunk of 64 slots (4 KiB) is made when a slot
// of it is first taken and kept: the slab costs memory only as deep as
// ids have waited at once, and nothing for an upstream whose ids all have
// a compact form (an allocation made in advance would count, resident or
// not, against a GOMEMLIMIT).
type spill struct {
	used   []atomic.Uint64
	chunks []atomic.Pointer[spillChunk] // chunks[w] holds the slots of used[w]
}

type spillChunk [64][storage.MaxUpstreamID]byte

// newSpill returns a slab of at least n slots, none of them made yet.
func newSpill(n int) *spill {
	w := (n + 63) / 64
	return &spill{used: make([]atomic.Uint64, w), chunks: make([]atomic.Pointer[spillChunk], w)}
}

// put copies id into a free slot and returns it; false when every slot
// is taken.
func (p *spill) put(id []byte) (int, bool) {
	for w := range p.used {
		u := &p.used[w]
		for v := u.Load(); v != ^uint64(0); v = u.Load() {
			b := bits.TrailingZeros64(^v)
			if u.CompareAndSwap(v, v|1<<b) {
				c := p.chunks[w].Load()
				if c == nil { // the chunk's first use; a loser of the race drops its own
					p.chunks[w].CompareAndSwap(nil, new(spillChunk))
					c = p.chunks[w].Load()
				}
				copy(c[b][:], id)
				return w<<6 | b, true
			}
		}
	}
	return 0, false
}

// slot returns slot i (taken).
func (p *spill) slot(i int) *[storage.MaxUpstreamID]byte { return &p.chunks[i>>6].Load()[i&63] }

// release frees slot i.
func (p *spill) release(i int) { p.used[i>>6].And(^(uint64(1) << (i & 63))) }

// inUse counts the slots taken.
func (p *spill) inUse() int {
	n := 0
	for w := range p.used {
		n += bits.OnesCount64(p.used[w].Load())
	}
	return n
}
