//go:build !race

package codec

import "testing"

func TestZeroAllocDecode(t *testing.T) {
	for _, id := range []CommandID{SubmitSMID, DeliverSMID, SubmitSMRespID, DeliverSMRespID, EnquireLinkID,
		BindTransceiverID, BindTransceiverRespID, DataSMID, DataSMRespID, SubmitMultiID, SubmitMultiRespID,
		QuerySMID, QuerySMRespID, CancelSMID, ReplaceSMID, AlertNotificationID, OutbindID, GenericNackID} {
		frame := fxFrameOf(t, id)
		var p PDU
		if a := testing.AllocsPerRun(200, func() {
			if err := p.Decode(frame); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%v: PDU.Decode allocates %.1f times", id, a)
		}
	}
	// The per-type entry points the engine calls.
	var sm SM
	var resp SubmitSMResp
	body := fxFrameOf(t, SubmitSMID)[HeaderLen:]
	rb := fxFrameOf(t, SubmitSMRespID)[HeaderLen:]
	if a := testing.AllocsPerRun(200, func() {
		_, _ = ParseHeader(body)
		_ = sm.Decode(body)
		_ = resp.Decode(rb)
		_ = DecodeEmpty(nil)
	}); a != 0 {
		t.Errorf("per-type decode allocates %.1f times", a)
	}
	// Errors come from static tables.
	bad := fxFrame(SubmitSMID, 0, 1, fxSMParts().body()[:20])
	var p PDU
	if a := testing.AllocsPerRun(200, func() {
		if p.Decode(bad) == nil {
			t.Fatal("accepted a truncated submit_sm")
		}
		_, _ = FrameLen([]byte("HTTP"), 0)
		_, _, _ = Frames(bad[:7], 0)
	}); a != 0 {
		t.Errorf("error paths allocate %.1f times", a)
	}
}

func TestZeroAllocEncode(t *testing.T) {
	dst := make([]byte, 0, 64<<10)
	var sm SM
	fxSubmitSM(&sm)
	var dlv PDU
	if err := dlv.Decode(fxFrameOf(t, DeliverSMID)); err != nil {
		t.Fatal(err)
	}
	resp := SubmitSMResp{MessageID: []byte("0123456789abcdef")}
	var dresp DeliverSMResp
	if a := testing.AllocsPerRun(200, func() {
		var err error
		out := dst[:0]
		if out, err = sm.Append(out, Header{CommandID: SubmitSMID, Sequence: 1}); err != nil {
			t.Fatal(err)
		}
		if out, err = dlv.SM.Append(out, Header{CommandID: DeliverSMID, Sequence: 2}); err != nil {
			t.Fatal(err)
		}
		if out, err = resp.Append(out, Header{CommandID: SubmitSMRespID, Sequence: 1}); err != nil {
			t.Fatal(err)
		}
		if out, err = dresp.Append(out, Header{CommandID: DeliverSMRespID, Sequence: 2}); err != nil {
			t.Fatal(err)
		}
		out = AppendHeaderOnly(out, Header{CommandID: EnquireLinkID, Sequence: 3})
		_ = AppendHeaderOnly(out, Header{CommandID: EnquireLinkRespID, Sequence: 3})
	}); a != 0 {
		t.Errorf("encode allocates %.1f times", a)
	}
	// Every fixture through PDU.Append, and a TLV build cycle in steady state.
	pdus := fxPDUs()
	if a := testing.AllocsPerRun(100, func() {
		for _, p := range pdus {
			if _, err := p.Append(dst[:0]); err != nil {
				t.Fatal(err)
			}
		}
		sm.TLVs.Reset()
		sm.TLVs.AddUint16(TagUserMessageReference, 7)
		sm.TLVs.AddCString(TagReceiptedMessageID, []byte("abc"))
	}); a != 0 {
		t.Errorf("PDU.Append / TLV rebuild allocates %.1f times", a)
	}
}
