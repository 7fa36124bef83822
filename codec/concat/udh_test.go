package concat

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestParseUDH(t *testing.T) {
	type want struct {
		err       error
		udhLen    int
		body      string // hex
		hasConcat bool
		ref16     bool
		seg       Segment
		ies       string // "id:data,id:data" in hex
	}
	f := func(name, in string, w want) {
		t.Helper()
		p := unhex(t, in)
		h, body, err := ParseUDH(p)
		if !errors.Is(err, w.err) {
			t.Errorf("%s: err %v, want %v", name, err, w.err)
			return
		}
		if err != nil {
			if KindOf(err) == KindNone {
				t.Errorf("%s: error %v has no kind", name, err)
			}
			return
		}
		if h.Len() != w.udhLen || hex.EncodeToString(body) != w.body {
			t.Errorf("%s: len %d body %x, want %d %s", name, h.Len(), body, w.udhLen, w.body)
		}
		if h.HasConcat != w.hasConcat || h.Ref16 != w.ref16 || h.Concat != w.seg {
			t.Errorf("%s: concat %v %v %+v, want %v %v %+v", name, h.HasConcat, h.Ref16, h.Concat, w.hasConcat, w.ref16, w.seg)
		}
		var got []string
		for it := h.IEs(); ; {
			ie, ok := it.Next()
			if !ok {
				break
			}
			got = append(got, hex.EncodeToString([]byte{ie.ID})+":"+hex.EncodeToString(ie.Data))
		}
		if s := strings.Join(got, ","); s != w.ies {
			t.Errorf("%s: IEs %s, want %s", name, s, w.ies)
		}
	}
	f("8-bit ref", "050003 2A 03 01 4142", want{udhLen: 6, body: "4142", hasConcat: true, seg: Segment{0x2A, 3, 1}, ies: "00:2a0301"})
	f("16-bit ref", "060804 BEEF 02 02 41", want{udhLen: 7, body: "41", hasConcat: true, ref16: true, seg: Segment{0xBEEF, 2, 2}, ies: "08:beef0202"})
	f("last seq", "050003 FF FF FF", want{udhLen: 6, body: "", hasConcat: true, seg: Segment{0xFF, 255, 255}, ies: "00:ffffff"})
	f("ports16 then concat", "0B 0504 0B84 23F0 0003 07 02 01 AA", want{udhLen: 12, body: "aa", hasConcat: true, seg: Segment{7, 2, 1}, ies: "05:0b8423f0,00:070201"})
	f("concat then unknown IE", "08 0003 01 02 02 7001 09 BB", want{udhLen: 9, body: "bb", hasConcat: true, seg: Segment{1, 2, 2}, ies: "00:010202,70:09"})
	f("ports8 only", "04 0402 1020 CC", want{udhLen: 5, body: "cc", ies: "04:1020"})
	f("empty IE data", "02 2400 DD", want{udhLen: 3, body: "dd", ies: "24:"})
	f("UDHL 0", "00 41", want{udhLen: 1, body: "41"})
	f("repeated concat: last wins", "0B 0003 01 02 01 0804 0102 03 03", want{udhLen: 12, body: "", hasConcat: true, ref16: true, seg: Segment{0x0102, 3, 3}, ies: "00:010201,08:01020303"})

	f("empty payload", "", want{err: ErrUDHEmpty})
	f("UDHL beyond payload", "05 0003 01 02", want{err: ErrUDHTooLong})
	f("UDHL 255 short payload", "FF 00", want{err: ErrUDHTooLong})
	f("IE length beyond UDHL", "05 0004 01 02 01 41", want{err: ErrIEOverflow})
	f("lone IEI at end of UDH", "04 0003 0102 41", want{err: ErrIEOverflow})
	f("IEI without IEDL", "01 00 41", want{err: ErrIEOverflow})
	f("IE data past UDHL but inside body", "03 7005 01 41424344", want{err: ErrIEOverflow})
	f("concat8 IEDL 4", "06 0004 01 02 01 00", want{err: ErrIELength})
	f("concat16 IEDL 3", "05 0803 01 02 01", want{err: ErrIELength})
	f("ports16 IEDL 2", "04 0502 0102", want{err: ErrIELength})
	f("ports8 IEDL 4", "06 0404 01020304", want{err: ErrIELength})
	f("total zero", "050003 01 00 00", want{err: ErrTotalZero})
	f("seq zero", "050003 01 02 00", want{err: ErrSeqZero})
	f("seq beyond total", "050003 01 02 03", want{err: ErrSeqBeyondTotal})
	f("16-bit seq beyond total", "060804 0001 01 02", want{err: ErrSeqBeyondTotal})
	f("bad concat after ports", "09 0402 0102 0003 01 00 01", want{err: ErrTotalZero})
}

func TestUDHPorts(t *testing.T) {
	h, _, err := ParseUDH(unhex(t, "0B 0504 0B84 23F0 0003 07 02 01"))
	if err != nil {
		t.Fatal(err)
	}
	if d, s, ok := h.Ports(); !ok || d != 2948 || s != 9200 {
		t.Fatalf("ports %d %d %v", d, s, ok)
	}
	h, _, _ = ParseUDH(unhex(t, "04 0402 1020"))
	if d, s, ok := h.Ports(); !ok || d != 0x10 || s != 0x20 {
		t.Fatalf("ports8 %d %d %v", d, s, ok)
	}
	h, _, _ = ParseUDH(unhex(t, "050003 01 02 01"))
	if _, _, ok := h.Ports(); ok {
		t.Fatal("ports found in concat-only UDH")
	}
	if _, ok := h.Find(0x24); ok {
		t.Fatal("Find found an absent IE")
	}
}

func TestAppendUDH(t *testing.T) {
	ports, err := AppendIE(nil, IEIPorts16, []byte{0x0B, 0x84, 0x23, 0xF0})
	if err != nil {
		t.Fatal(err)
	}
	f := func(name string, prefix []byte, s Segment, ref16 bool, extra []byte, want string, wantErr error) {
		t.Helper()
		dst := append([]byte(nil), prefix...)
		got, err := AppendUDH(dst, s, ref16, extra)
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: err %v, want %v", name, err, wantErr)
			return
		}
		if !bytes.Equal(got[:len(prefix)], prefix) {
			t.Errorf("%s: prefix clobbered: %x", name, got)
		}
		if err != nil {
			if len(got) != len(prefix) {
				t.Errorf("%s: dst changed on error: %x", name, got)
			}
			return
		}
		if h := hex.EncodeToString(got[len(prefix):]); h != want {
			t.Errorf("%s: got %s, want %s", name, h, want)
		}
	}
	f("8-bit", nil, Segment{0x12A, 3, 2}, false, nil, "0500032a0302", nil)
	f("16-bit", []byte{0xEE}, Segment{0xBEEF, 3, 2}, true, nil, "060804beef0302", nil)
	f("ports + 8-bit", nil, Segment{7, 2, 1}, false, ports, "0b05040b8423f0000307020"+"1", nil)
	f("ports + 16-bit", []byte{1, 2}, Segment{7, 2, 1}, true, ports, "0c05040b8423f00804000702"+"01", nil)
	f("total 0", nil, Segment{1, 0, 1}, false, nil, "", ErrTotalZero)
	f("seq 0", nil, Segment{1, 1, 0}, false, nil, "", ErrSeqZero)
	f("seq > total", []byte{9}, Segment{1, 1, 2}, false, nil, "", ErrSeqBeyondTotal)
	f("extra truncated", nil, Segment{1, 1, 1}, false, []byte{0x05, 0x04, 0x01}, "", ErrBadArgument)
	f("extra holds concat", nil, Segment{1, 1, 1}, false, []byte{0x00, 0x03, 1, 1, 1}, "", ErrBadArgument)
	f("extra too big", nil, Segment{1, 1, 1}, false, append([]byte{0x70, 133}, make([]byte, 133)...), "", ErrUDHOverflow)

	if _, err := AppendIE(nil, 0x70, make([]byte, 138)); !errors.Is(err, ErrUDHOverflow) {
		t.Errorf("AppendIE 138 octets: %v", err)
	}
}

func TestUDHRoundTrip(t *testing.T) {
	ports, _ := AppendIE(nil, IEIPorts8, []byte{1, 2})
	for _, ref16 := range []bool{false, true} {
		for _, extra := range [][]byte{nil, ports} {
			s := Segment{Ref: 0xA55A, Total: 9, Seq: 4}
			b, err := AppendUDH(nil, s, ref16, extra)
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, "text"...)
			h, body, err := ParseUDH(b)
			if err != nil {
				t.Fatal(err)
			}
			if !ref16 {
				s.Ref &= 0xFF
			}
			if h.Concat != s || h.Ref16 != ref16 || string(body) != "text" || h.Len() != len(b)-4 {
				t.Errorf("ref16=%v extra=%x: got %+v %v %q", ref16, extra, h.Concat, h.Ref16, body)
			}
		}
	}
}

func TestErrorKinds(t *testing.T) {
	for k := KindNone; k <= KindTooLarge; k++ {
		if k.String() == "" || k.String() == "unknown" {
			t.Errorf("kind %d has no name", k)
		}
	}
	if ErrorKind(200).String() != "unknown" {
		t.Error("out of range kind named")
	}
	if KindOf(errors.New("x")) != KindNone || KindOf(ErrDuplicate) != KindDuplicate {
		t.Error("KindOf")
	}
	if GSM7.String() != "GSM7" || UCS2.String() != "UCS2" || Octet.String() != "8-bit" || Alphabet(9).String() != "unknown" {
		t.Error("Alphabet names")
	}
	if UDH8.String() != "UDH8" || UDH16.String() != "UDH16" || SAR.String() != "SAR" || Method(9).String() != "unknown" {
		t.Error("Method names")
	}
}
