package concat

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestCapacity(t *testing.T) {
	f := func(a Alphabet, udh, want int) {
		t.Helper()
		if got := Capacity(a, udh); got != want {
			t.Errorf("Capacity(%v, %d) = %d, want %d", a, udh, got, want)
		}
	}
	f(GSM7, 0, 160)
	f(GSM7, 6, 153)
	f(GSM7, 7, 152)
	f(Octet, 0, 140)
	f(Octet, 6, 134)
	f(Octet, 7, 133)
	f(UCS2, 0, 140)
	f(UCS2, 6, 134)
	f(UCS2, 7, 132)
	f(GSM7, 12, 146) // concat + 16-bit ports: ⌊128·8/7⌋
	f(GSM7, 140, 0)
	f(GSM7, -1, 0)
	f(Alphabet(7), 0, 0)
}

// gsm returns n septets of filler with the given octets written at the
// given offsets.
func gsm(n int, at map[int]byte) []byte {
	p := bytes.Repeat([]byte{'a'}, n)
	for i, b := range at {
		p[i] = b
	}
	return p
}

// ucs2 returns n UTF-16BE units of 'a' with a surrogate pair (U+1F600) at
// each given unit index.
func ucs2(n int, pairs ...int) []byte {
	p := make([]byte, 0, 2*n)
	for range n {
		p = append(p, 0x00, 'a')
	}
	for _, u := range pairs {
		copy(p[2*u:], []byte{0xD8, 0x3D, 0xDE, 0x00})
	}
	return p
}

func TestSplitSizes(t *testing.T) {
	f := func(name string, payload []byte, a Alphabet, m Method, want ...int) {
		t.Helper()
		parts, buf, err := Split(nil, nil, payload, a, m, 0x1234)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		var sizes []int
		var joined []byte
		for i, p := range parts {
			sizes = append(sizes, len(p.Body))
			joined = append(joined, p.Body...)
			if int(p.Total) != len(parts) || int(p.Seq) != i+1 {
				t.Errorf("%s: part %d is %d/%d", name, i, p.Seq, p.Total)
			}
			if len(parts) == 1 || m == SAR {
				if p.UDH != nil {
					t.Errorf("%s: part %d has UDH %x", name, i, p.UDH)
				}
			} else if err := checkPartUDH(p, m); err != nil {
				t.Errorf("%s: part %d: %v", name, i, err)
			}
			if a == UCS2 && len(p.Body)%2 != 0 {
				t.Errorf("%s: odd UCS2 part", name)
			}
		}
		if len(buf) != 0 && m == SAR {
			t.Errorf("%s: SAR wrote UDH bytes", name)
		}
		if !bytes.Equal(joined, payload) {
			t.Errorf("%s: parts do not rebuild the payload", name)
		}
		if !equalInts(sizes, want) {
			t.Errorf("%s: sizes %v, want %v", name, sizes, want)
		}
		if n, err := Count(payload, a, m); err != nil || n != len(parts) {
			t.Errorf("%s: Count %d %v, parts %d", name, n, err, len(parts))
		}
	}
	f("GSM7 empty", nil, GSM7, UDH8, 0)
	f("GSM7 160 single", gsm(160, nil), GSM7, UDH8, 160)
	f("GSM7 161", gsm(161, nil), GSM7, UDH8, 153, 8)
	f("GSM7 306", gsm(306, nil), GSM7, UDH8, 153, 153)
	f("GSM7 307", gsm(307, nil), GSM7, UDH8, 153, 153, 1)
	f("GSM7 161 UDH16", gsm(161, nil), GSM7, UDH16, 152, 9)
	f("GSM7 ESC at 153rd septet", gsm(200, map[int]byte{152: 0x1B, 153: 0x65}), GSM7, UDH8, 152, 48)
	f("GSM7 ESC pair ends at 153", gsm(200, map[int]byte{151: 0x1B, 152: 0x65}), GSM7, UDH8, 153, 47)
	f("GSM7 ESC ESC pair at 152-153", gsm(200, map[int]byte{151: 0x1B, 152: 0x1B}), GSM7, UDH8, 153, 47)
	f("GSM7 3 ESCs end at 153", gsm(200, map[int]byte{150: 0x1B, 151: 0x1B, 152: 0x1B, 153: 0x3C}), GSM7, UDH8, 152, 48)
	f("GSM7 ESC at 152nd UDH16", gsm(200, map[int]byte{151: 0x1B, 152: 0x3D}), GSM7, UDH16, 151, 49)
	f("GSM7 trailing lone ESC", gsm(306, map[int]byte{305: 0x1B}), GSM7, UDH8, 153, 153)
	f("GSM7 160 incl. ESC single", gsm(160, map[int]byte{158: 0x1B, 159: 0x65}), GSM7, UDH8, 160)
	f("GSM7 SAR 161", gsm(161, nil), GSM7, SAR, 153, 8)
	f("GSM7 SAR ESC at 153rd", gsm(161, map[int]byte{152: 0x1B, 153: 0x65}), GSM7, SAR, 152, 9)
	f("8-bit 140 single", gsm(140, nil), Octet, UDH8, 140)
	f("8-bit 141", gsm(141, nil), Octet, UDH8, 134, 7)
	f("8-bit 141 UDH16", gsm(141, nil), Octet, UDH16, 133, 8)
	f("8-bit ESC octet is plain", gsm(141, map[int]byte{133: 0x1B}), Octet, UDH8, 134, 7)
	f("8-bit SAR 300", gsm(300, nil), Octet, SAR, 134, 134, 32)
	f("UCS2 70 single", ucs2(70), UCS2, UDH8, 140)
	f("UCS2 71", ucs2(71), UCS2, UDH8, 134, 8)
	f("UCS2 71 UDH16", ucs2(71), UCS2, UDH16, 132, 10)
	f("UCS2 surrogate at 67th unit", ucs2(80, 66), UCS2, UDH8, 132, 28)
	f("UCS2 surrogate ends at 67th", ucs2(80, 65), UCS2, UDH8, 134, 26)
	f("UCS2 surrogate at 66th UDH16", ucs2(80, 65), UCS2, UDH16, 130, 30)
	f("UCS2 SAR surrogate at 67th", ucs2(80, 66), UCS2, SAR, 132, 28)
	f("UCS2 70 with pair at end single", ucs2(70, 68), UCS2, UDH8, 140)
	f("8-bit 255 parts", make([]byte, 255*134), Octet, UDH8, repeat(134, 255)...)
}

func checkPartUDH(p Part, m Method) error {
	h, rest, err := ParseUDH(append(append([]byte(nil), p.UDH...), p.Body...))
	if err != nil {
		return err
	}
	if !h.HasConcat || h.Ref16 != (m == UDH16) || h.Concat != p.Segment || !bytes.Equal(rest, p.Body) {
		return errors.New("UDH does not match part: " + hex.EncodeToString(p.UDH))
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestSplitRefAndBuffers(t *testing.T) {
	dst := []Part{{Body: []byte("keep")}}
	buf := []byte{0xEE}
	parts, buf, err := Split(dst, buf, gsm(200, nil), GSM7, UDH8, 0x1234)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 || string(parts[0].Body) != "keep" || buf[0] != 0xEE {
		t.Fatalf("prefix not kept: %d parts, buf %x", len(parts), buf)
	}
	if hex.EncodeToString(parts[1].UDH) != "050003340201" || hex.EncodeToString(parts[2].UDH) != "050003340202" || parts[1].Ref != 0x34 {
		t.Fatalf("UDH8: %x %x ref %x", parts[1].UDH, parts[2].UDH, parts[1].Ref)
	}
	parts, _, _ = Split(nil, nil, gsm(200, nil), GSM7, UDH16, 0x1234)
	if hex.EncodeToString(parts[1].UDH) != "06080412340202" || parts[1].Ref != 0x1234 {
		t.Fatalf("UDH16: %x", parts[1].UDH)
	}
	parts, _, _ = Split(nil, nil, gsm(5, nil), GSM7, UDH8, 0x1234)
	if len(parts) != 1 || parts[0].Ref != 0x34 || parts[0].Segment != (Segment{0x34, 1, 1}) {
		t.Fatalf("single UDH8 part: %+v", parts[0])
	}
	parts, _, _ = Split(nil, nil, gsm(200, nil), GSM7, SAR, 0x1234)
	tlv, err := AppendSAR(nil, parts[1].Segment)
	if err != nil || hex.EncodeToString(tlv) != "020c00021234020e000102020f000102" {
		t.Fatalf("SAR TLVs for part 2: %x %v", tlv, err)
	}
}

func TestSplitIEs(t *testing.T) {
	ports, _ := AppendIE(nil, IEIPorts16, []byte{0x0B, 0x84, 0x23, 0xF0})
	parts, _, err := SplitIEs(nil, nil, make([]byte, 133), Octet, UDH8, 9, ports)
	if err != nil || len(parts) != 1 || hex.EncodeToString(parts[0].UDH) != "0605040b8423f0" {
		t.Fatalf("single with ports: %v %d %x", err, len(parts), parts[0].UDH)
	}
	parts, _, err = SplitIEs(nil, nil, make([]byte, 134), Octet, UDH8, 9, ports)
	if err != nil || len(parts) != 2 || len(parts[0].Body) != 128 || len(parts[1].Body) != 6 {
		t.Fatalf("two with ports: %v %d", err, len(parts))
	}
	for _, p := range parts {
		if 1+len(p.UDH)+len(p.Body) > UserDataOctets+1 {
			t.Fatalf("part too big: %d+%d", len(p.UDH), len(p.Body))
		}
		h, _, err := ParseUDH(p.UDH)
		if err != nil || !h.HasConcat || h.Concat != p.Segment {
			t.Fatalf("part UDH %x: %v", p.UDH, err)
		}
		if d, s, ok := h.Ports(); !ok || d != 2948 || s != 9200 {
			t.Fatalf("ports lost: %x", p.UDH)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	f := func(name string, payload []byte, a Alphabet, m Method, extra []byte, want error) {
		t.Helper()
		dst, buf := []Part{{}}, []byte{1}
		gotDst, gotBuf, err := SplitIEs(dst, buf, payload, a, m, 1, extra)
		if !errors.Is(err, want) {
			t.Errorf("%s: err %v, want %v", name, err, want)
		}
		if len(gotDst) != 1 || len(gotBuf) != 1 {
			t.Errorf("%s: dst/buf changed on error", name)
		}
	}
	big, _ := AppendIE(nil, 0x70, make([]byte, 131)) // 133 + 7 = 140: no room
	f("GSM7 octet 0x80", gsm(10, map[int]byte{3: 0x80}), GSM7, UDH8, nil, ErrBadPayload)
	f("UCS2 odd", make([]byte, 141), UCS2, UDH8, nil, ErrBadPayload)
	f("bad alphabet", nil, Alphabet(3), UDH8, nil, ErrBadArgument)
	f("bad method", nil, GSM7, Method(3), nil, ErrBadArgument)
	f("SAR with IEs", nil, GSM7, SAR, []byte{0x70, 0}, ErrBadArgument)
	f("malformed IEs", nil, GSM7, UDH8, []byte{0x70, 5}, ErrBadArgument)
	f("concat in IEs", nil, GSM7, UDH8, []byte{0x08, 4, 0, 1, 1, 1}, ErrBadArgument)
	f("IEs leave no room", make([]byte, 300), Octet, UDH16, big, ErrUDHOverflow)
	f("256 parts", make([]byte, 255*134+1), Octet, UDH8, nil, ErrTooManyParts)
	f("256 parts GSM7", gsm(255*153+1, nil), GSM7, UDH8, nil, ErrTooManyParts)
	if _, err := Count(make([]byte, 255*134+1), Octet, UDH8); !errors.Is(err, ErrTooManyParts) {
		t.Errorf("Count 256 parts: %v", err)
	}
	if _, err := Count(nil, Alphabet(3), UDH8); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Count bad alphabet: %v", err)
	}
	if _, err := Count([]byte{0xFF}, GSM7, UDH8); !errors.Is(err, ErrBadPayload) {
		t.Errorf("Count bad payload: %v", err)
	}
}
