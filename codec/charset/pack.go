package charset

// GSM7 septet packing (3GPP 23.038 §6.1.2.1): septet i
// occupies bits fill+7i onwards of the octet stream, least significant bit
// first. The fill bits are the zero low bits of the first octet after a
// UDH, so that the text starts on a septet boundary of the TP-UD.

// FillBits returns the number of fill bits after a UDH of udhLen octets
// (UDHL octet included): 6 → 1, 7 → 0, 0 → 0.
func FillBits(udhLen int) int {
	if udhLen <= 0 {
		return 0
	}
	return (7 - (udhLen*8)%7) % 7
}

// PackedLen returns the octets PackSeptets writes for n septets after
// fillBits fill bits.
func PackedLen(n, fillBits int) int {
	if n <= 0 {
		return 0
	}
	return (fillBits + 7*n + 7) / 8
}

// PackSeptets appends septets (one per octet, values 0x00-0x7F) packed
// after fillBits (0..6) zero fill bits to dst. Spare bits in the last
// octet are zero. A septet >= 0x80 returns ErrInvalidSeptet, a bad fill
// count ErrFillBits; on error dst keeps its original length.
func PackSeptets(dst []byte, septets []byte, fillBits int) ([]byte, error) {
	if fillBits < 0 || fillBits > 6 {
		return dst, ErrFillBits
	}
	n0 := len(dst)
	if len(septets) == 0 {
		return dst, nil
	}
	acc, nbits := uint32(0), uint(fillBits)
	for _, s := range septets {
		if s >= 0x80 {
			return dst[:n0], ErrInvalidSeptet
		}
		acc |= uint32(s) << nbits
		nbits += 7
		if nbits >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	if nbits > 0 {
		dst = append(dst, byte(acc))
	}
	return dst, nil
}

// UnpackSeptets appends the septets of packed (one per output octet) to dst,
// skipping fillBits (0..6) leading fill bits.
//
// count is the number of septets when known (TP-UDL minus the UDH's
// septets); fewer bits than that returns ErrShortPacked. Pass count < 0
// when it is unknown: every whole septet is then read, except that a final
// 0x00 septet ending exactly on the last octet boundary is dropped, because
// it is the 7 zero spare bits of an 8n−1 septet text and not an '@'. A real
// trailing '@' in that position is only kept when count is given.
func UnpackSeptets(dst []byte, packed []byte, fillBits, count int) ([]byte, error) {
	if fillBits < 0 || fillBits > 6 {
		return dst, ErrFillBits
	}
	bits := 8*len(packed) - fillBits
	if len(packed) == 0 {
		bits = 0
	}
	n := count
	if count < 0 {
		n = bits / 7
		if n > 0 && bits == 7*n {
			last := n - 1
			if septetAt(packed, fillBits+7*last) == 0 {
				n = last
			}
		}
	} else if count > bits/7 {
		return dst, ErrShortPacked
	}
	pos := fillBits
	for range n {
		dst = append(dst, septetAt(packed, pos))
		pos += 7
	}
	return dst, nil
}

// septetAt reads the 7 bits starting at bit pos. The caller ensures
// pos+7 <= 8*len(b).
func septetAt(b []byte, pos int) byte {
	k, shift := pos>>3, uint(pos&7)
	v := b[k] >> shift
	if shift > 1 {
		v |= b[k+1] << (8 - shift)
	}
	return v & 0x7F
}
