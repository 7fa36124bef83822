package codec

import (
	"bytes"
	"testing"
)

// ReadParts on each kind of request: what is billed, where the text
// starts, the part's place, and the status of each malformed kind.
func TestReadParts(t *testing.T) {
	udh := []byte{0x05, 0x00, 0x03, 0x2A, 0x03, 0x02} // concat IE: ref 42, 3 parts, part 2
	otherIE := []byte{0x03, 0x24, 0x01, 0x00}         // a national language shift IE only
	sar := func(ref []byte, total, seq byte) *TLVs {
		var t TLVs
		t.Add(TagSarMsgRefNum, ref)
		t.AddUint8(TagSarTotalSegments, total)
		t.AddUint8(TagSarSegmentSeqnum, seq)
		return &t
	}
	payload := func(b []byte) *TLVs {
		var t TLVs
		t.Add(TagMessagePayload, b)
		return &t
	}
	gsm := bytes.Repeat([]byte("a"), 161)    // 2 parts of 153 septets
	latin := bytes.Repeat([]byte{0xE9}, 161) // not septets: counted as octets, 2 of 134
	ucs2 := bytes.Repeat([]byte{0, 'a'}, 71) // 142 octets: 2 parts of 134
	tooMany := bytes.Repeat([]byte{0}, 256*134+1)
	for _, c := range []struct {
		name       string
		esm, dc    byte
		content    []byte
		tlvs       *TLVs
		st         Status
		count      int
		text       []byte
		ref        uint16
		num, total uint8
	}{
		{name: "short message", content: []byte("hi"), st: StatusOK, count: 1, text: []byte("hi")},
		{name: "udh part", esm: ESMClassUDHI, content: append(append([]byte{}, udh...), "hi"...), st: StatusOK, count: 1,
			text: []byte("hi"), ref: 42, num: 2, total: 3},
		{name: "udh without concat", esm: ESMClassUDHI, content: append(append([]byte{}, otherIE...), "hi"...), st: StatusOK,
			count: 1, text: []byte("hi")},
		{name: "udhi without a udh", esm: ESMClassUDHI, content: []byte{0x09, 0x00}, st: StatusInvEsmClass, count: 1},
		{name: "sar part", content: []byte("hi"), tlvs: sar([]byte{0, 7}, 2, 1), st: StatusOK, count: 1, text: []byte("hi"),
			ref: 7, num: 1, total: 2},
		{name: "sar seq beyond total", content: []byte("hi"), tlvs: sar([]byte{0, 7}, 2, 3), st: StatusInvOptParamVal, count: 1,
			text: []byte("hi")},
		{name: "payload gsm", content: gsm, tlvs: payload(gsm), st: StatusOK, count: 2, text: gsm},
		{name: "payload latin as dc 0", content: latin, tlvs: payload(latin), st: StatusOK, count: 2, text: latin},
		{name: "payload ucs2", dc: 0x08, content: ucs2, tlvs: payload(ucs2), st: StatusOK, count: 2, text: ucs2},
		{name: "payload of 257 parts", dc: 0x04, content: tooMany, tlvs: payload(tooMany), st: StatusInvMsgLen, count: 1,
			text: tooMany},
	} {
		var p Parts
		st := ReadParts(&p, c.esm, c.dc, c.content, c.tlvs)
		if SinglePart(c.esm, c.tlvs) && (st != StatusOK || p.Count != 1 || !bytes.Equal(p.Text, c.content) || p.Total != 0) {
			t.Errorf("%s: SinglePart, but ReadParts says %v count %d part %d", c.name, st, p.Count, p.Total)
		}
		if st != c.st || p.Count != c.count || !bytes.Equal(p.Text, c.text) || p.Ref != c.ref || p.Num != c.num || p.Total != c.total {
			t.Errorf("%s: got %v count %d text %q ref %d part %d/%d; want %v count %d text %q ref %d part %d/%d", c.name,
				st, p.Count, p.Text, p.Ref, p.Num, p.Total, c.st, c.count, c.text, c.ref, c.num, c.total)
		}
	}
	for i, c := range []struct {
		esm  byte
		tlvs *TLVs
		want bool
	}{
		{0, nil, true}, {0, &TLVs{}, true}, {ESMClassUDHI, nil, false},
		{0, sar([]byte{0, 1}, 2, 1), false}, {0, payload(gsm), false},
	} {
		if got := SinglePart(c.esm, c.tlvs); got != c.want {
			t.Errorf("SinglePart case %d (esm_class %#x): %v", i, c.esm, got)
		}
	}
	big := payload(gsm)
	var p Parts
	if a := testing.AllocsPerRun(1000, func() { ReadParts(&p, 0, 0, gsm, big) }); a != 0 {
		t.Fatalf("ReadParts allocates %v times", a)
	}
}
