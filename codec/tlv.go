package codec

import "encoding/binary"

// TLVs is the optional-parameter region of a PDU: a validated raw view in
// wire order. Unknown tags are kept and re-encoded byte for byte; a tag that
// repeats is kept too, and the getters return its first occurrence.
//
// After Decode the region is a view into the decoded body (valid as long as
// that buffer). Add copies into a small buffer owned by the struct, reused
// across Reset, so building allocates only until the buffer has grown.
type TLVs struct {
	raw     []byte       // the wire bytes of all TLVs
	own     []byte       // builder storage; raw aliases it once owned is set
	n       int          // number of TLVs in raw
	payload bool         // message_payload present
	owned   bool         // raw points into own
	err     *DecodeError // sticky error from Add, reported by Append
}

// Reset empties the set, keeping the builder buffer's capacity.
func (t *TLVs) Reset() {
	t.raw = nil
	t.own = t.own[:0]
	t.n = 0
	t.payload = false
	t.owned = false
	t.err = nil
}

// Len is the number of TLVs.
func (t *TLVs) Len() int { return t.n }

// Raw returns the wire bytes of the whole region (a view).
func (t *TLVs) Raw() []byte { return t.raw }

// HasMessagePayload reports whether a message_payload TLV is present.
func (t *TLVs) HasMessagePayload() bool { return t.payload }

// Err reports the first error recorded by Add (nil if none).
func (t *TLVs) Err() error {
	if t.err != nil {
		return t.err
	}
	return nil
}

// TLVIter walks a TLVs region in wire order without allocating.
type TLVIter struct{ b []byte }

// Iter returns an iterator positioned before the first TLV.
func (t *TLVs) Iter() TLVIter { return TLVIter{b: t.raw} }

// Next returns the next TLV; ok is false at the end. The value is a view.
func (it *TLVIter) Next() (tag Tag, val []byte, ok bool) {
	b := it.b
	if len(b) < 4 {
		return 0, nil, false
	}
	l := int(b[2])<<8 | int(b[3])
	if 4+l > len(b) { // cannot happen on a validated region
		it.b = nil
		return 0, nil, false
	}
	it.b = b[4+l:]
	return Tag(b[0])<<8 | Tag(b[1]), b[4 : 4+l : 4+l], true
}

// At returns the i-th TLV in wire order (O(i)); ok is false when i is out
// of range.
func (t *TLVs) At(i int) (tag Tag, val []byte, ok bool) {
	it := t.Iter()
	for k := 0; ; k++ {
		tag, val, ok = it.Next()
		if !ok || k == i {
			return tag, val, ok
		}
	}
}

// Get returns the value of the first TLV with the given tag.
func (t *TLVs) Get(tag Tag) ([]byte, bool) {
	b := t.raw
	for len(b) >= 4 {
		l := int(b[2])<<8 | int(b[3])
		if 4+l > len(b) {
			break
		}
		if Tag(b[0])<<8|Tag(b[1]) == tag {
			return b[4 : 4+l : 4+l], true
		}
		b = b[4+l:]
	}
	return nil, false
}

// Has reports whether a TLV with the given tag is present.
func (t *TLVs) Has(tag Tag) bool {
	_, ok := t.Get(tag)
	return ok
}

// Uint8 returns a 1-octet integer TLV; ok is false if absent or not 1 octet.
func (t *TLVs) Uint8(tag Tag) (uint8, bool) {
	v, ok := t.Get(tag)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// Uint16 returns a 2-octet integer TLV; ok is false if absent or not 2 octets.
func (t *TLVs) Uint16(tag Tag) (uint16, bool) {
	v, ok := t.Get(tag)
	if !ok || len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// Uint32 returns a 4-octet integer TLV; ok is false if absent or not 4 octets.
func (t *TLVs) Uint32(tag Tag) (uint32, bool) {
	v, ok := t.Get(tag)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// CString returns a C-Octet String TLV (receipted_message_id,
// additional_status_info_text) without its NUL; a value lacking the NUL is
// returned whole (peers get this wrong).
func (t *TLVs) CString(tag Tag) ([]byte, bool) {
	v, ok := t.Get(tag)
	if !ok {
		return nil, false
	}
	for i, c := range v {
		if c == 0 {
			return v[:i:i], true
		}
	}
	return v, true
}

// Add appends a TLV. value is copied. A value over 65535 octets, or a known
// tag whose length breaks the registry rule, is recorded and makes the next
// Append fail (Err reports it): Add never produces a bad frame.
func (t *TLVs) Add(tag Tag, value []byte) {
	if len(value) > 0xFFFF {
		t.setErr(ErrTLVTooLong)
		return
	}
	if k := tlvIndex(tag); k >= 0 {
		s := &tlvSpecs[k]
		if len(value) < s.min || len(value) > s.max {
			t.setErr(s.lenErr)
			return
		}
	}
	t.prepare()
	l := len(value)
	t.own = append(t.own, byte(tag>>8), byte(tag), byte(l>>8), byte(l))
	t.own = append(t.own, value...)
	t.raw = t.own
	t.n++
	if tag == TagMessagePayload {
		t.payload = true
	}
}

// AddUint8 appends a 1-octet integer TLV.
func (t *TLVs) AddUint8(tag Tag, v uint8) {
	b := [1]byte{v}
	t.Add(tag, b[:])
}

// AddUint16 appends a 2-octet integer TLV.
func (t *TLVs) AddUint16(tag Tag, v uint16) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	t.Add(tag, b[:])
}

// AddUint32 appends a 4-octet integer TLV.
func (t *TLVs) AddUint32(tag Tag, v uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	t.Add(tag, b[:])
}

// AddCString appends a C-Octet String TLV: v followed by a NUL.
func (t *TLVs) AddCString(tag Tag, v []byte) {
	if len(v)+1 > 0xFFFF {
		t.setErr(ErrTLVTooLong)
		return
	}
	if k := tlvIndex(tag); k >= 0 {
		s := &tlvSpecs[k]
		if len(v)+1 < s.min || len(v)+1 > s.max {
			t.setErr(s.lenErr)
			return
		}
	}
	t.prepare()
	l := len(v) + 1
	t.own = append(t.own, byte(tag>>8), byte(tag), byte(l>>8), byte(l))
	t.own = append(t.own, v...)
	t.own = append(t.own, 0)
	t.raw = t.own
	t.n++
}

// SetRaw replaces the region with b (wire-format TLVs, e.g. another PDU's
// Raw()) after validating it; b is kept as a view, not copied, and must stay
// valid until the PDU is encoded.
func (t *TLVs) SetRaw(b []byte) error {
	own := t.own[:0]
	t.Reset()
	t.own = own
	if e := t.decode(b, false); e != nil {
		return e
	}
	return nil
}

func (t *TLVs) setErr(e *DecodeError) {
	if t.err == nil {
		t.err = e
	}
}

// prepare makes raw writable by moving a decoded view into own.
func (t *TLVs) prepare() {
	if !t.owned {
		t.own = append(t.own[:0], t.raw...)
		t.owned = true
	}
}

// decode validates the TLV stream b (the rest of a body after its mandatory
// fields) and keeps it as a view. With strayNUL, up to 3 octets of 0x00
// directly after the mandatory fields are ignored (peers that put a NUL
// after short_message although sm_length excludes it).
func (t *TLVs) decode(b []byte, strayNUL bool) *DecodeError {
	t.raw = nil
	t.n = 0
	t.payload = false
	t.owned = false
	t.err = nil
	if len(b) == 0 {
		return nil
	}
	if strayNUL && len(b) < 4 && allZero(b) {
		return nil
	}
	n, pay := 0, false
	for i := 0; i < len(b); {
		if len(b)-i < 4 {
			return ErrTLVHeader
		}
		tag := Tag(b[i])<<8 | Tag(b[i+1])
		l := int(b[i+2])<<8 | int(b[i+3])
		i += 4
		if l > len(b)-i {
			return ErrTLVValue
		}
		if k := tlvIndex(tag); k >= 0 {
			s := &tlvSpecs[k]
			if l < s.min || l > s.max {
				return s.lenErr
			}
			if tag == TagMessagePayload {
				pay = true
			}
		}
		i += l
		n++
	}
	t.raw = b[:len(b):len(b)]
	t.n = n
	t.payload = pay
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
