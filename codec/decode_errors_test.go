package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// smParts builds raw submit_sm bodies with any field malformed.
type smParts struct {
	svc, src, dst, sched, valid []byte // raw, NUL included (or not)
	smLen                       int    // -1: len(sm)
	sm, tail                    []byte
}

func fxSMParts() smParts {
	return smParts{svc: fxC("CMT"), src: fxC("SMPPD"), dst: fxC("447700900123"), sched: fxC(""), valid: fxC(""), smLen: -1, sm: []byte("hi")}
}

func (s smParts) body() []byte {
	var b []byte
	b = append(b, s.svc...)
	b = append(b, 5, 0)
	b = append(b, s.src...)
	b = append(b, 1, 1)
	b = append(b, s.dst...)
	b = append(b, 0, 0, 0)
	b = append(b, s.sched...)
	b = append(b, s.valid...)
	b = append(b, 1, 0, 0, 0)
	n := s.smLen
	if n < 0 {
		n = len(s.sm)
	}
	b = append(b, byte(n))
	b = append(b, s.sm...)
	return append(b, s.tail...)
}

func rep(c string, n int) string { return strings.Repeat(c, n) }

// Every decode edge case (every length rule of SMPP v3.4 §4) with the
// exact status it must produce. want StatusOK means the frame is accepted.
func TestDecodeEdgeCases(t *testing.T) {
	var p PDU
	f := func(name string, frame []byte, want Status, fatal bool) {
		t.Helper()
		err := p.Decode(frame)
		if got := StatusOf(err); got != want {
			t.Errorf("%s: status %v (%v), want %v", name, got, err, want)
			return
		}
		if IsFatal(err) != fatal {
			t.Errorf("%s: fatal %v, want %v", name, IsFatal(err), fatal)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Error() == "" {
				t.Errorf("%s: not a *DecodeError: %T", name, err)
			}
		}
	}
	sm := func(mut func(*smParts)) []byte {
		s := fxSMParts()
		mut(&s)
		return fxFrame(SubmitSMID, 0, 1, s.body())
	}
	ok, ln, cl := StatusOK, StatusInvMsgLen, StatusInvCmdLen

	// Framing.
	f("frame shorter than a header", []byte{0, 0, 0, 16, 0, 0, 0, 0x15}, cl, true)
	f("command_length 15", append([]byte{0, 0, 0, 15}, make([]byte, 12)...), cl, true)
	f("command_length says 17, frame 16", append([]byte{0, 0, 0, 17, 0, 0, 0, 0x15}, make([]byte, 8)...), cl, true)
	f("command_length huge", append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x15}, make([]byte, 8)...), cl, true)
	f("unknown request id", fxFrame(0x0000000A, 0, 9), StatusInvCmdID, false)
	if p.Header.Sequence != 9 || p.Header.CommandID != 0x0A {
		t.Errorf("header of an unknown PDU not kept: %+v", p.Header)
	}
	f("unknown response id", fxFrame(0x8000000A, 0, 9), StatusInvCmdID, false)
	f("v5 broadcast_sm", fxFrame(0x00000111, 0, 9, fxC("x")), StatusInvCmdID, false)
	for _, seq := range []uint32{0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF} {
		f("enquire_link sequence", fxFrame(EnquireLinkID, 0, seq), ok, false)
		if p.Header.Sequence != seq {
			t.Errorf("sequence %d decoded as %d", seq, p.Header.Sequence)
		}
	}
	f("enquire_link with a body", fxFrame(EnquireLinkID, 0, 1, fxB(0)), cl, false)
	f("unbind with a body", fxFrame(UnbindID, 0, 1, fxB(0)), cl, false)
	f("enquire_link_resp with a stray octet", fxFrame(EnquireLinkRespID, 0, 1, fxB(0)), ok, false)
	f("generic_nack with a body", fxFrame(GenericNackID, StatusInvCmdID, 0, fxB(1, 2, 3)), ok, false)

	// C-Octet Strings in bind.
	bind := func(sys, pw, typ, rng string) []byte {
		return fxFrame(BindTransceiverID, 0, 1, []byte(sys), []byte(pw), []byte(typ), fxB(0x34, 1, 1), []byte(rng))
	}
	f("bind ok, 15-char system_id", bind(rep("s", 15)+"\x00", "pw\x00", "\x00", "\x00"), ok, false)
	f("system_id 16 chars", bind(rep("s", 16)+"\x00", "pw\x00", "\x00", "\x00"), StatusInvSysID, false)
	f("password 9 chars", bind("id\x00", rep("p", 9)+"\x00", "\x00", "\x00"), StatusInvPaswd, false)
	f("password 8 chars", bind("id\x00", rep("p", 8)+"\x00", "\x00", "\x00"), ok, false)
	f("system_type 13 chars", bind("id\x00", "pw\x00", rep("t", 13)+"\x00", "\x00"), StatusInvSysTyp, false)
	f("address_range 41 chars", bind("id\x00", "pw\x00", "\x00", rep("r", 41)+"\x00"), cl, false)
	f("address_range 40 chars", bind("id\x00", "pw\x00", "\x00", rep("r", 40)+"\x00"), ok, false)
	f("address_range missing NUL", bind("id\x00", "pw\x00", "\x00", "abc"), cl, false)
	f("bind cut before interface_version", fxFrame(BindTransmitterID, 0, 1, fxC("id"), fxC("pw"), fxC("")), cl, false)
	f("bind body empty", fxFrame(BindReceiverID, 0, 1), cl, false)
	f("system_id no NUL, body ends", fxFrame(BindReceiverID, 0, 1, []byte("abc")), cl, false)

	// submit_sm C-Octet Strings and times.
	f("submit_sm ok", sm(func(s *smParts) {}), ok, false)
	f("service_type 6 chars", sm(func(s *smParts) { s.svc = fxC("ABCDEF") }), StatusInvSerTyp, false)
	f("source_addr 21 chars", sm(func(s *smParts) { s.src = fxC(rep("1", 21)) }), StatusInvSrcAdr, false)
	f("source_addr 20 chars", sm(func(s *smParts) { s.src = fxC(rep("1", 20)) }), ok, false)
	f("destination_addr 21 chars", sm(func(s *smParts) { s.dst = fxC(rep("1", 21)) }), StatusInvDstAdr, false)
	f("schedule 17 chars", sm(func(s *smParts) { s.sched = fxC(rep("1", 17)) }), StatusInvSched, false)
	f("schedule 5 chars", sm(func(s *smParts) { s.sched = fxC("12345") }), StatusInvSched, false)
	f("schedule 16 chars", sm(func(s *smParts) { s.sched = fxC("251231235959004+") }), ok, false)
	f("validity 10 chars", sm(func(s *smParts) { s.valid = fxC("0000010000") }), StatusInvExpiry, false)
	f("validity 16 chars", sm(func(s *smParts) { s.valid = fxC("000001000000000R") }), ok, false)
	f("submit_sm cut in source_addr", fxFrame(SubmitSMID, 0, 1, fxC("CMT"), fxB(1, 1), []byte("4477")), cl, false)
	f("submit_sm cut after source TON", fxFrame(SubmitSMID, 0, 1, fxC("CMT"), fxB(1)), cl, false)
	f("submit_sm cut before sm_length", fxFrame(SubmitSMID, 0, 1, fxSMParts().body()[:28]), cl, false)
	f("submit_sm empty body", fxFrame(SubmitSMID, 0, 1), cl, false)
	f("minimum submit_sm (33 octets)", fxFrame(SubmitSMID, 0, 1, make([]byte, 17)), ok, false)

	// sm_length.
	f("sm_length 254", sm(func(s *smParts) { s.sm = bytes.Repeat([]byte{'a'}, 254) }), ok, false)
	f("sm_length 255", sm(func(s *smParts) { s.sm = bytes.Repeat([]byte{'a'}, 255) }), ln, false)
	f("sm_length beyond the body", sm(func(s *smParts) { s.smLen = 10 }), ln, false)
	f("sm_length one short of the data", sm(func(s *smParts) { s.smLen = 1 }), StatusInvOptParStream, false)
	f("sm_length with message_payload", sm(func(s *smParts) { s.tail = fxTLV(TagMessagePayload, []byte("x")) }), ln, false)
	f("sm_length 0 with message_payload", sm(func(s *smParts) { s.sm = nil; s.tail = fxTLV(TagMessagePayload, []byte("long")) }), ok, false)
	f("empty message_payload", sm(func(s *smParts) { s.sm = nil; s.tail = fxTLV(TagMessagePayload, nil) }), ok, false)

	// TLVs.
	f("TLV header truncated (2 octets)", sm(func(s *smParts) { s.tail = fxB(0x02, 0x04) }), StatusInvOptParStream, false)
	f("TLV value truncated", sm(func(s *smParts) { s.tail = fxB(0x02, 0x04, 0, 2, 1) }), StatusInvOptParStream, false)
	f("second TLV truncated", sm(func(s *smParts) { s.tail = append(fxTLV(TagSourcePort, fxB(0, 1)), 0x02) }), StatusInvOptParStream, false)
	f("sar_msg_ref_num 1 octet", sm(func(s *smParts) { s.tail = fxTLV(TagSarMsgRefNum, fxB(1)) }), StatusInvParLen, false)
	f("sar_total_segments 2 octets", sm(func(s *smParts) { s.tail = fxTLV(TagSarTotalSegments, fxB(0, 1)) }), StatusInvParLen, false)
	f("network_error_code 2 octets", sm(func(s *smParts) { s.tail = fxTLV(TagNetworkErrorCode, fxB(3, 0)) }), StatusInvParLen, false)
	f("receipted_message_id 66 octets", sm(func(s *smParts) { s.tail = fxTLV(TagReceiptedMessageID, fxC(rep("9", 65))) }), StatusInvParLen, false)
	f("receipted_message_id empty", sm(func(s *smParts) { s.tail = fxTLV(TagReceiptedMessageID, nil) }), StatusInvParLen, false)
	f("alert_on_message_delivery 0 octets", sm(func(s *smParts) { s.tail = fxTLV(TagAlertOnMessageDelivery, nil) }), ok, false)
	f("alert_on_message_delivery 1 octet", sm(func(s *smParts) { s.tail = fxTLV(TagAlertOnMessageDelivery, fxB(1)) }), StatusInvParLen, false)
	f("source_telematics_id 2 octets", sm(func(s *smParts) { s.tail = fxTLV(TagSourceTelematicsID, fxB(0, 1)) }), ok, false)
	f("unknown TLV kept", sm(func(s *smParts) { s.tail = fxTLV(0x1500, []byte("anything at all")) }), ok, false)
	if v, found := p.SM.TLVs.Get(0x1500); !found || string(v) != "anything at all" {
		t.Errorf("unknown TLV not kept: %q", v)
	}
	f("one stray NUL after short_message", sm(func(s *smParts) { s.tail = fxB(0) }), ok, false)
	f("three stray NULs", sm(func(s *smParts) { s.tail = fxB(0, 0, 0) }), ok, false)
	f("one stray non-NUL octet", sm(func(s *smParts) { s.tail = fxB(7) }), StatusInvOptParStream, false)
	f("stray NUL after a TLV", sm(func(s *smParts) { s.tail = append(fxTLV(TagSourcePort, fxB(0, 1)), 0) }), StatusInvOptParStream, false)
	f("trailing garbage in query_sm", fxFrame(QuerySMID, 0, 1, fxC("id"), fxB(1, 1), fxC("123"), fxB(9, 9)), StatusInvOptParStream, false)

	// Responses, empty bodies, message_id.
	for _, id := range []CommandID{BindTransmitterRespID, SubmitSMRespID, DeliverSMRespID, DataSMRespID, SubmitMultiRespID, QuerySMRespID} {
		f(id.String()+" error without body", fxFrame(id, StatusSysErr, 1), ok, false)
	}
	f("submit_sm_resp empty message_id", fxFrame(SubmitSMRespID, StatusThrottled, 1, fxB(0)), ok, false)
	f("submit_sm_resp message_id 64 chars", fxFrame(SubmitSMRespID, 0, 1, fxC(rep("m", 64))), ok, false)
	f("submit_sm_resp message_id 65 chars", fxFrame(SubmitSMRespID, 0, 1, fxC(rep("m", 65))), StatusInvMsgID, false)
	f("submit_sm_resp message_id without NUL", fxFrame(SubmitSMRespID, 0, 1, []byte("abc")), cl, false)
	f("deliver_sm_resp with a message_id", fxFrame(DeliverSMRespID, 0, 1, fxC("abc")), ok, false)
	f("query_sm message_id 65 chars", fxFrame(QuerySMID, 0, 1, fxC(rep("m", 65)), fxB(1, 1), fxC("1")), StatusInvMsgID, false)
	f("query_sm_resp short final_date", fxFrame(QuerySMRespID, 0, 1, fxC("id"), fxC("250630121600"), fxB(2, 0)), ok, false)
	f("query_sm_resp cut before message_state", fxFrame(QuerySMRespID, 0, 1, fxC("id"), fxC("")), cl, false)
	f("bind_resp with sc_interface_version of 2 octets", fxFrame(BindTransceiverRespID, 0, 1, fxC("x"), fxTLV(TagSCInterfaceVersion, fxB(0, 0x34))), StatusInvParLen, false)

	// data_sm 65-octet addresses.
	dsm := func(src, dst string) []byte {
		return fxFrame(DataSMID, 0, 1, fxC(""), fxB(0, 0), fxC(src), fxB(1, 1), fxC(dst), fxB(0, 0, 0))
	}
	f("data_sm source_addr 64 chars", dsm(rep("a", 64), "1"), ok, false)
	f("data_sm source_addr 65 chars", dsm(rep("a", 65), "1"), StatusInvSrcAdr, false)
	f("data_sm destination_addr 65 chars", dsm("1", rep("a", 65)), StatusInvDstAdr, false)
	f("data_sm cut before esm_class", fxFrame(DataSMID, 0, 1, fxC(""), fxB(0, 0), fxC("1"), fxB(1, 1), fxC("2"), fxB(0)), cl, false)

	// submit_multi.
	multi := func(nd byte, dests []byte, tail ...byte) []byte {
		return fxFrame(SubmitMultiID, 0, 1, fxC(""), fxB(1, 1), fxC("123"), fxB(nd), dests, fxB(0, 0, 0), fxC(""), fxC(""), fxB(0, 0, 0, 0, 0), tail)
	}
	f("submit_multi ok", multi(2, append(append(fxB(1, 1, 1), fxC("44")...), append(fxB(2), fxC("dl")...)...)), ok, false)
	f("number_of_dests 0", multi(0, nil), StatusInvNumDests, false)
	f("number_of_dests 255", multi(255, append(fxB(1, 1, 1), fxC("44")...)), StatusInvNumDests, false)
	f("dest_flag 3", multi(1, append(fxB(3, 1, 1), fxC("44")...)), StatusInvDestFlag, false)
	f("dest_flag 0", multi(1, append(fxB(0), fxC("44")...)), StatusInvDestFlag, false)
	f("dl_name 21 chars", multi(1, append(fxB(2), fxC(rep("d", 21))...)), StatusInvDLName, false)
	f("dest address 21 chars", multi(1, append(fxB(1, 1, 1), fxC(rep("4", 21))...)), StatusInvDstAdr, false)
	f("more dests announced than present", fxFrame(SubmitMultiID, 0, 1, fxC(""), fxB(1, 1), fxC("123"), fxB(3), fxB(2), fxC("dl")), cl, false)
	f("dest cut after flag", fxFrame(SubmitMultiID, 0, 1, fxC(""), fxB(1, 1), fxC("123"), fxB(1), fxB(1, 1)), cl, false)
	f("submit_multi cut before number_of_dests", fxFrame(SubmitMultiID, 0, 1, fxC(""), fxB(1, 1), fxC("123")), cl, false)
	f("submit_multi sm_length 255", fxFrame(SubmitMultiID, 0, 1, fxC(""), fxB(1, 1), fxC("123"), fxB(1, 2), fxC("dl"),
		fxB(0, 0, 0), fxC(""), fxC(""), fxB(0, 0, 0, 0, 255), make([]byte, 255)), ln, false)
	f("submit_multi sm_length past the end", fxFrame(SubmitMultiID, 0, 1, fxC(""), fxB(1, 1), fxC("123"), fxB(1, 2), fxC("dl"),
		fxB(0, 0, 0), fxC(""), fxC(""), fxB(0, 0, 0, 0, 3), fxB(1)), ln, false)
	f("submit_multi_resp unsuccess cut", fxFrame(SubmitMultiRespID, 0, 1, fxC("id"), fxB(1, 1, 1), fxC("44"), fxB(0, 0)), cl, false)
	f("submit_multi_resp missing no_unsuccess", fxFrame(SubmitMultiRespID, 0, 1, fxC("id")), cl, false)

	// replace_sm, cancel_sm, alert_notification, outbind.
	f("replace_sm sm_length beyond body", fxFrame(ReplaceSMID, 0, 1, fxC("id"), fxB(1, 1), fxC("1"), fxC(""), fxC(""), fxB(0, 0, 9), []byte("abc")), ln, false)
	f("replace_sm schedule 3 chars", fxFrame(ReplaceSMID, 0, 1, fxC("id"), fxB(1, 1), fxC("1"), fxC("abc"), fxC(""), fxB(0, 0, 0)), StatusInvSched, false)
	f("cancel_sm service_type 6 chars", fxFrame(CancelSMID, 0, 1, fxC("SIXSIX"), fxC("id"), fxB(1, 1), fxC("1"), fxB(1, 1), fxC("2")), StatusInvSerTyp, false)
	f("cancel_sm cut before dest TON", fxFrame(CancelSMID, 0, 1, fxC(""), fxC("id"), fxB(1, 1), fxC("1")), cl, false)
	f("alert esme_addr 65 chars", fxFrame(AlertNotificationID, 0, 1, fxB(1, 1), fxC("1"), fxB(0, 0), fxC(rep("e", 65))), cl, false)
	f("alert source_addr 65 chars", fxFrame(AlertNotificationID, 0, 1, fxB(1, 1), fxC(rep("1", 65)), fxB(0, 0), fxC("e")), StatusInvSrcAdr, false)
	f("alert empty body", fxFrame(AlertNotificationID, 0, 1), cl, false)
	f("outbind password 9 chars", fxFrame(OutbindID, 0, 1, fxC("smsc"), fxC(rep("p", 9))), StatusInvPaswd, false)
}

// Append refuses every field its limit forbids, with the same status a
// decoder would give, and never emits a frame.
func TestAppendLimits(t *testing.T) {
	f := func(name string, mut func(p *SM), want Status) {
		t.Helper()
		var p SM
		fxSubmitSM(&p)
		mut(&p)
		out, err := p.Append(nil, Header{CommandID: SubmitSMID, Sequence: 1})
		if StatusOf(err) != want {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
		if err != nil && len(out) != 0 {
			t.Errorf("%s: emitted %d octets on error", name, len(out))
		}
	}
	f("ok", func(p *SM) {}, StatusOK)
	f("service_type 6", func(p *SM) { p.ServiceType = []byte("ABCDEF") }, StatusInvSerTyp)
	f("source_addr 21", func(p *SM) { p.SourceAddr = []byte(rep("1", 21)) }, StatusInvSrcAdr)
	f("source_addr with NUL", func(p *SM) { p.SourceAddr = []byte("12\x0034") }, StatusInvSrcAdr)
	f("destination_addr with NUL (word path)", func(p *SM) { p.DestinationAddr = []byte("4477009\x0001234") }, StatusInvDstAdr)
	f("validity with NUL", func(p *SM) { p.ValidityPeriod = []byte("00000100000000\x00R") }, StatusInvExpiry)
	f("service_type with NUL", func(p *SM) { p.ServiceType = []byte("C\x00T") }, StatusInvSerTyp)
	f("destination_addr 21", func(p *SM) { p.DestinationAddr = []byte(rep("1", 21)) }, StatusInvDstAdr)
	f("schedule 5", func(p *SM) { p.ScheduleDeliveryTime = []byte("12345") }, StatusInvSched)
	f("validity 17", func(p *SM) { p.ValidityPeriod = []byte(rep("1", 17)) }, StatusInvExpiry)
	f("short_message 255", func(p *SM) { p.ShortMessage = bytes.Repeat([]byte{1}, 255) }, StatusInvMsgLen)
	f("short_message 254", func(p *SM) { p.ShortMessage = bytes.Repeat([]byte{1}, 254) }, StatusOK)
	f("short_message and message_payload", func(p *SM) { p.TLVs.Add(TagMessagePayload, []byte("x")) }, StatusInvMsgLen)
	f("payload alone", func(p *SM) { p.ShortMessage = nil; p.TLVs.Add(TagMessagePayload, bytes.Repeat([]byte{1}, 65535)) }, StatusOK)
	f("TLV value 65536", func(p *SM) { p.TLVs.Add(0x1400, make([]byte, 65536)) }, StatusInvParLen)
	f("known TLV wrong length", func(p *SM) { p.TLVs.Add(TagSarMsgRefNum, []byte{1}) }, StatusInvParLen)
	f("C-string TLV too long", func(p *SM) { p.TLVs.AddCString(TagReceiptedMessageID, []byte(rep("1", 65))) }, StatusInvParLen)

	var b Bind
	b.SystemID = []byte(rep("s", 16))
	if _, err := b.Append(nil, Header{CommandID: BindTransmitterID}); StatusOf(err) != StatusInvSysID {
		t.Errorf("bind system_id 16: %v", err)
	}
	var m SubmitMulti
	if _, err := m.Append(nil, Header{CommandID: SubmitMultiID}); StatusOf(err) != StatusInvNumDests {
		t.Errorf("submit_multi without dests: %v", err)
	}
	m.Dests.Add(Dest{Flag: 3, Addr: []byte("x")})
	if _, err := m.Append(nil, Header{CommandID: SubmitMultiID}); StatusOf(err) != StatusInvDestFlag {
		t.Errorf("dest_flag 3: %v", err)
	}
	m.Reset()
	m.Dests.AddDL([]byte(rep("d", 21)))
	if _, err := m.Append(nil, Header{CommandID: SubmitMultiID}); StatusOf(err) != StatusInvDLName {
		t.Errorf("dl_name 21: %v", err)
	}
	var r SubmitSMResp
	r.MessageID = []byte(rep("m", 65))
	if _, err := r.Append(nil, Header{CommandID: SubmitSMRespID}); StatusOf(err) != StatusInvMsgID {
		t.Errorf("message_id 65: %v", err)
	}
	r.MessageID = []byte("0123456789\x00abcdef")
	if _, err := r.Append(nil, Header{CommandID: SubmitSMRespID}); StatusOf(err) != StatusInvMsgID {
		t.Errorf("message_id with NUL: %v", err)
	}
	var pu PDU
	pu.Header.CommandID = 0x0A
	if _, err := pu.Append(nil); err != ErrEncodeCommand {
		t.Errorf("unknown id: %v", err)
	}
	// An error response always carries its body (some clients need it).
	r.MessageID = nil
	out, err := r.Append(nil, Header{CommandID: SubmitSMRespID, Status: StatusThrottled, Sequence: 4})
	if err != nil || !bytes.Equal(out, fxFrame(SubmitSMRespID, StatusThrottled, 4, fxB(0))) {
		t.Errorf("error submit_sm_resp: %x %v", out, err)
	}
}

func TestStatusOf(t *testing.T) {
	if StatusOf(nil) != StatusOK {
		t.Fatal("nil")
	}
	if StatusOf(errors.New("x")) != StatusSysErr {
		t.Fatal("foreign error")
	}
	wrapped := errors.Join(errors.New("ctx"), ErrSMLength)
	if StatusOf(wrapped) != StatusInvMsgLen || !errors.Is(wrapped, ErrSMLength) {
		t.Fatal("wrapped DecodeError")
	}
	if !IsFatal(ErrCmdLenTooLarge) || IsFatal(ErrUnknownCommand) || IsFatal(nil) {
		t.Fatal("IsFatal")
	}
	if got := ErrSMOverrun.Error(); got != "codec: sm_length: exceeds the remaining body (ESME_RINVMSGLEN)" {
		t.Fatalf("Error() = %q", got)
	}
}
