package concat

import (
	"encoding/hex"
	"errors"
	"testing"
)

func TestParseSAR(t *testing.T) {
	f := func(name string, ref, total, seq []byte, want Segment, wantPresent bool, wantErr error) {
		t.Helper()
		s, present, err := ParseSAR(ref, total, seq)
		if !errors.Is(err, wantErr) || present != wantPresent || (err == nil && s != want) {
			t.Errorf("%s: %+v %v %v, want %+v %v %v", name, s, present, err, want, wantPresent, wantErr)
		}
	}
	f("absent", nil, nil, nil, Segment{}, false, nil)
	f("valid", []byte{0x12, 0x34}, []byte{3}, []byte{2}, Segment{0x1234, 3, 2}, true, nil)
	f("max", []byte{0xFF, 0xFF}, []byte{255}, []byte{255}, Segment{0xFFFF, 255, 255}, true, nil)
	f("missing seq", []byte{0, 1}, []byte{3}, nil, Segment{}, true, ErrSARIncomplete)
	f("only ref", []byte{0, 1}, nil, nil, Segment{}, true, ErrSARIncomplete)
	f("ref 1 octet", []byte{1}, []byte{3}, []byte{1}, Segment{}, true, ErrSARLength)
	f("total 2 octets", []byte{0, 1}, []byte{0, 3}, []byte{1}, Segment{}, true, ErrSARLength)
	f("empty seq", []byte{0, 1}, []byte{3}, []byte{}, Segment{}, true, ErrSARLength)
	f("total 0", []byte{0, 1}, []byte{0}, []byte{1}, Segment{}, true, ErrTotalZero)
	f("seq 0", []byte{0, 1}, []byte{3}, []byte{0}, Segment{}, true, ErrSeqZero)
	f("seq > total", []byte{0, 1}, []byte{3}, []byte{4}, Segment{}, true, ErrSeqBeyondTotal)
}

func TestAppendSAR(t *testing.T) {
	got, err := AppendSAR([]byte{0xAA}, Segment{0x1234, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := "aa" + "020c00021234" + "020e000103" + "020f000102"
	if hex.EncodeToString(got) != want || len(got)-1 != SARTLVsLen {
		t.Fatalf("got %x, want %s", got, want)
	}
	if got, err := AppendSAR([]byte{1}, Segment{1, 2, 3}); !errors.Is(err, ErrSeqBeyondTotal) || len(got) != 1 {
		t.Fatalf("invalid segment: %x %v", got, err)
	}
}

// TestSARCollectorRoundTrip walks the TLVs AppendSAR wrote, as a PDU
// decoder would, mixed with an unrelated TLV.
func TestSARCollectorRoundTrip(t *testing.T) {
	tlvs, _ := AppendSAR(nil, Segment{0xBEEF, 7, 7})
	tlvs = append(tlvs, 0x02, 0x04, 0x00, 0x02, 0x00, 0x09) // user_message_reference
	var c SARCollector
	other := 0
	for len(tlvs) >= 4 {
		tag, n := uint16(tlvs[0])<<8|uint16(tlvs[1]), int(tlvs[2])<<8|int(tlvs[3])
		if !c.Observe(tag, tlvs[4:4+n]) {
			other++
		}
		tlvs = tlvs[4+n:]
	}
	s, present, err := c.Result()
	if err != nil || !present || s != (Segment{0xBEEF, 7, 7}) || other != 1 {
		t.Fatalf("%+v %v %v other=%d", s, present, err, other)
	}
	c.Reset()
	c.Observe(TagSARMsgRefNum, []byte{0, 1})
	c.Observe(TagSARTotalSegments, []byte{2})
	c.Observe(TagSARSegmentSeqnum, nil) // zero-length TLV: present, wrong size
	if _, present, err := c.Result(); !present || !errors.Is(err, ErrSARLength) {
		t.Fatalf("zero-length seq: %v %v", present, err)
	}
	c.Reset()
	if _, present, err := c.Result(); present || err != nil {
		t.Fatalf("after reset: %v %v", present, err)
	}
}
