package codec

import (
	"bytes"
	"testing"
)

// Every PDU type: decode(encode(x)) == x and encode(decode(frame)) == frame.
func TestRoundTripEveryPDU(t *testing.T) {
	seen := map[CommandID]bool{}
	for _, p := range fxPDUs() {
		id := p.Header.CommandID
		seen[id] = true
		frame, err := p.Append(nil)
		if err != nil {
			t.Fatalf("%v: Append: %v", id, err)
		}
		h, _ := ParseHeader(frame)
		if int(h.Length) != len(frame) || h.CommandID != id || h.Sequence != p.Header.Sequence || h.Status != p.Header.Status {
			t.Fatalf("%v: header %+v for a %d-octet frame", id, h, len(frame))
		}
		var q PDU
		if err := q.Decode(frame); err != nil {
			t.Fatalf("%v: Decode: %v", id, err)
		}
		if d := eqPDU(p, &q); d != "" {
			t.Fatalf("%v: decode(encode(x)) != x: %s", id, d)
		}
		again, err := q.Append(nil)
		if err != nil {
			t.Fatalf("%v: re-Append: %v", id, err)
		}
		if !bytes.Equal(frame, again) {
			t.Fatalf("%v: encode(decode(frame)) != frame\n%x\n%x", id, frame, again)
		}
	}
	for id := CommandID(0); id < 0x200; id++ {
		for _, c := range []CommandID{id, id | responseBit} {
			if c.Known() && !seen[c] {
				t.Errorf("no round-trip fixture for %v", c)
			}
		}
	}
}

// Append must leave the bytes already in dst untouched, with and without
// spare capacity.
func TestAppendPreservesPrefix(t *testing.T) {
	prefix := []byte("existing-bytes-")
	for _, p := range fxPDUs() {
		want, _ := p.Append(nil)
		for _, spare := range []int{0, 3, 1 << 16} {
			dst := make([]byte, len(prefix), len(prefix)+spare)
			copy(dst, prefix)
			out, err := p.Append(dst)
			if err != nil {
				t.Fatalf("%v: %v", p.Header.CommandID, err)
			}
			if !bytes.Equal(out[:len(prefix)], prefix) || !bytes.Equal(out[len(prefix):], want) {
				t.Fatalf("%v spare %d: got %x", p.Header.CommandID, spare, out)
			}
		}
	}
	// A failing Append returns dst with its contents unchanged.
	var s SM
	fxSubmitSM(&s)
	s.SourceAddr = bytes.Repeat([]byte("1"), 21)
	dst := append(make([]byte, 0, 512), prefix...)
	out, err := s.Append(dst, Header{CommandID: SubmitSMID})
	if StatusOf(err) != StatusInvSrcAdr || !bytes.Equal(out, prefix) {
		t.Fatalf("failed Append: %v, %q", err, out)
	}
}

// The decoded views must not reach past their own field: appending to one
// cannot overwrite the frame.
func TestViewsAreCapped(t *testing.T) {
	var p SM
	fxSubmitSM(&p)
	frame, _ := p.Append(nil, Header{CommandID: SubmitSMID, Sequence: 1})
	keep := append([]byte(nil), frame...)
	var q SM
	if err := q.Decode(frame[HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	_ = append(q.ServiceType, 'X', 'Y', 'Z')
	_ = append(q.SourceAddr, 'X')
	_ = append(q.ShortMessage, 'X')
	if !bytes.Equal(frame, keep) {
		t.Fatal("appending to a view modified the frame")
	}
}

func TestTLVAccessors(t *testing.T) {
	var p PDU
	frames := fxFrames()
	for _, f := range frames {
		h, _ := ParseHeader(f)
		if h.CommandID != DeliverSMID {
			continue
		}
		if err := p.Decode(f); err != nil {
			t.Fatal(err)
		}
		tl := &p.SM.TLVs
		if tl.Len() != 4 {
			t.Fatalf("Len %d", tl.Len())
		}
		if id, ok := tl.CString(TagReceiptedMessageID); !ok || string(id) != "0123456789" {
			t.Fatalf("receipted_message_id %q %v", id, ok)
		}
		if st, ok := tl.Uint8(TagMessageState); !ok || MessageState(st) != MessageStateDelivered {
			t.Fatalf("message_state %v %v", st, ok)
		}
		if v, ok := tl.Get(TagNetworkErrorCode); !ok || !bytes.Equal(v, []byte{3, 0, 0}) {
			t.Fatalf("network_error_code %x", v)
		}
		if v, ok := tl.Get(0x1401); !ok || string(v) != "vendor" {
			t.Fatalf("unknown tag %q %v", v, ok)
		}
		if _, ok := tl.Uint16(TagSourcePort); ok {
			t.Fatal("absent tag reported present")
		}
		tag, v, ok := tl.At(3)
		if !ok || tag != 0x1401 || string(v) != "vendor" {
			t.Fatalf("At(3) = %v %q %v", tag, v, ok)
		}
		if _, _, ok := tl.At(4); ok {
			t.Fatal("At(4) past the end")
		}
		var tags []Tag
		for it := tl.Iter(); ; {
			tg, _, ok := it.Next()
			if !ok {
				break
			}
			tags = append(tags, tg)
		}
		if len(tags) != 4 || tags[0] != TagReceiptedMessageID || tags[3] != 0x1401 {
			t.Fatalf("iteration order %v", tags)
		}
		// Adding to a decoded set copies the view first: the frame is untouched.
		keep := append([]byte(nil), f...)
		tl.AddUint16(TagUserMessageReference, 5)
		if !bytes.Equal(f, keep) || tl.Len() != 5 {
			t.Fatal("Add after Decode modified the frame or lost a TLV")
		}
		if v, ok := tl.Uint16(TagUserMessageReference); !ok || v != 5 {
			t.Fatal("added TLV not found")
		}
		return
	}
	t.Fatal("no deliver_sm fixture")
}

func TestSubmitMultiLists(t *testing.T) {
	var m SubmitMulti
	m.Dests.AddSME(1, 1, []byte("111"))
	m.Dests.AddDL([]byte("list"))
	frame, err := m.Append(nil, Header{CommandID: SubmitMultiID, Sequence: 3})
	if err != nil {
		t.Fatal(err)
	}
	var q SubmitMulti
	if err := q.Decode(frame[HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	if q.Dests.NumDests() != 2 {
		t.Fatalf("NumDests %d", q.Dests.NumDests())
	}
	if d := q.Dests.Dest(0); d.Flag != DestFlagSMEAddress || d.TON != 1 || d.NPI != 1 || string(d.Addr) != "111" {
		t.Fatalf("dest 0 %+v", d)
	}
	if d := q.Dests.Dest(1); d.Flag != DestFlagDistributionList || string(d.Addr) != "list" {
		t.Fatalf("dest 1 %+v", d)
	}
	if d := q.Dests.Dest(2); d.Flag != 0 || d.Addr != nil {
		t.Fatalf("out of range %+v", d)
	}
	// 254 destinations encode and decode; a 255th is refused.
	m.Reset()
	for i := 0; i < MaxDests; i++ {
		m.Dests.AddSME(1, 1, []byte("44770090000000000001"))
	}
	frame, err = m.Append(nil, Header{CommandID: SubmitMultiID})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Decode(frame[HeaderLen:]); err != nil || q.Dests.NumDests() != MaxDests {
		t.Fatalf("254 dests: %v %d", err, q.Dests.NumDests())
	}
	if string(q.Dests.Dest(253).Addr) != "44770090000000000001" {
		t.Fatal("last dest wrong")
	}
	m.Dests.AddSME(1, 1, []byte("1"))
	if _, err := m.Append(nil, Header{CommandID: SubmitMultiID}); StatusOf(err) != StatusInvNumDests {
		t.Fatalf("255 dests: %v", err)
	}
	var r SubmitMultiResp
	r.Unsuccess.Add(Unsuccess{TON: 1, NPI: 2, Addr: []byte("123"), Status: StatusInvDstAdr})
	frame, _ = r.Append(nil, Header{CommandID: SubmitMultiRespID})
	var rq SubmitMultiResp
	if err := rq.Decode(frame[HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	if u := rq.Unsuccess.At(0); rq.Unsuccess.Len() != 1 || u.TON != 1 || u.NPI != 2 || string(u.Addr) != "123" || u.Status != StatusInvDstAdr {
		t.Fatalf("unsuccess %+v", u)
	}
}

func TestBindRespSCInterfaceVersion(t *testing.T) {
	var r BindResp
	r.SystemID = []byte("SMPPD")
	r.TLVs.AddUint8(TagSCInterfaceVersion, InterfaceVersion34)
	f, err := r.Append(nil, Header{CommandID: BindTransceiverRespID, Sequence: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := fxFrame(BindTransceiverRespID, 0, 1, fxC("SMPPD"), fxTLV(TagSCInterfaceVersion, fxB(0x34)))
	if !bytes.Equal(f, want) {
		t.Fatalf("got %x want %x", f, want)
	}
	var q BindResp
	if err := q.Decode(f[HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	if v, ok := q.SCInterfaceVersion(); !ok || v != 0x34 {
		t.Fatalf("sc_interface_version %v %v", v, ok)
	}
}

// Reset keeps builder capacity and clears every field.
func TestResetReuse(t *testing.T) {
	var p SM
	fxSubmitSM(&p)
	c := cap(p.TLVs.own)
	p.Reset()
	if p.ShortMessage != nil || p.TLVs.Len() != 0 || len(p.TLVs.Raw()) != 0 || cap(p.TLVs.own) != c {
		t.Fatalf("Reset left %+v", p)
	}
	f, err := p.Append(nil, Header{CommandID: SubmitSMID})
	if err != nil || len(f) != HeaderLen+17 {
		t.Fatalf("empty submit_sm: %v, %d octets", err, len(f))
	}
}
