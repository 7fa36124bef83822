package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// fxFrame builds a frame from a command id, status, sequence and body parts;
// command_length is computed.
func fxFrame(id CommandID, st Status, seq uint32, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	f := make([]byte, HeaderLen, HeaderLen+len(body))
	binary.BigEndian.PutUint32(f[0:], uint32(HeaderLen+len(body)))
	binary.BigEndian.PutUint32(f[4:], uint32(id))
	binary.BigEndian.PutUint32(f[8:], uint32(st))
	binary.BigEndian.PutUint32(f[12:], seq)
	return append(f, body...)
}

// fxC is a C-Octet String: s plus NUL.
func fxC(s string) []byte { return append([]byte(s), 0) }

// fxB is raw octets.
func fxB(b ...byte) []byte { return b }

// fxTLV is one wire TLV.
func fxTLV(tag Tag, v []byte) []byte {
	return append([]byte{byte(tag >> 8), byte(tag), byte(len(v) >> 8), byte(len(v))}, v...)
}

// fxText160 is a typical 160-character GSM message.
var fxText160 = []byte(strings.Repeat("Hello from smppd, this is a 160 character message. ", 4)[:160])

// fxSubmitSM fills p with a typical submit_sm: 160 characters, two TLVs.
func fxSubmitSM(p *SM) {
	p.Reset()
	p.ServiceType = []byte("CMT")
	p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr = TONAlphanumeric, NPIUnknown, []byte("SMPPD")
	p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr = TONInternational, NPIISDN, []byte("447700900123")
	p.ESMClass, p.ProtocolID, p.PriorityFlag = 0, 0, 1
	p.ValidityPeriod = []byte("000001000000000R")
	p.RegisteredDelivery = RegisteredDeliveryReceipt
	p.DataCoding = DataCodingDefault
	p.ShortMessage = fxText160
	p.TLVs.AddUint16(TagUserMessageReference, 0x1234)
	p.TLVs.AddUint16(TagSourcePort, 9200)
}

// fxPDUs returns one populated PDU per encodable v3.4 command id.
func fxPDUs() []*PDU {
	var out []*PDU
	add := func(id CommandID, st Status, seq uint32, fill func(p *PDU)) {
		p := new(PDU)
		p.Header = Header{CommandID: id, Status: st, Sequence: seq}
		if fill != nil {
			fill(p)
		}
		out = append(out, p)
	}
	for _, id := range []CommandID{BindTransmitterID, BindReceiverID, BindTransceiverID} {
		add(id, 0, 1, func(p *PDU) {
			p.Bind = Bind{SystemID: []byte("smppclient1"), Password: []byte("password"), SystemType: []byte("VMS"),
				InterfaceVersion: InterfaceVersion34, AddrTON: 1, AddrNPI: 1, AddressRange: []byte("^44")}
		})
	}
	for _, id := range []CommandID{BindTransmitterRespID, BindReceiverRespID, BindTransceiverRespID} {
		add(id, 0, 1, func(p *PDU) {
			p.BindResp.SystemID = []byte("SMPPD")
			p.BindResp.TLVs.AddUint8(TagSCInterfaceVersion, InterfaceVersion34)
		})
	}
	add(OutbindID, 0, 7, func(p *PDU) {
		p.Outbind = Outbind{SystemID: []byte("smsc"), Password: []byte("secret")}
	})
	for _, id := range []CommandID{UnbindID, UnbindRespID, EnquireLinkID, EnquireLinkRespID, CancelSMRespID, ReplaceSMRespID} {
		add(id, 0, 0x7FFFFFFF, nil)
	}
	add(GenericNackID, StatusInvCmdID, 0, nil)
	add(SubmitSMID, 0, 2, func(p *PDU) { fxSubmitSM(&p.SM) })
	add(DeliverSMID, 0, 3, func(p *PDU) {
		s := &p.SM
		s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr = 1, 1, []byte("447700900123")
		s.DestAddrTON, s.DestAddrNPI, s.DestinationAddr = 5, 0, []byte("SMPPD")
		s.ESMClass = ESMClassDeliveryReceipt
		s.ShortMessage = []byte("id:0123456789 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:Hello")
		s.TLVs.AddCString(TagReceiptedMessageID, []byte("0123456789"))
		s.TLVs.AddUint8(TagMessageState, uint8(MessageStateDelivered))
		s.TLVs.Add(TagNetworkErrorCode, []byte{3, 0, 0})
		s.TLVs.Add(0x1401, []byte("vendor")) // unknown tag: passed through
	})
	add(SubmitSMRespID, 0, 2, func(p *PDU) { p.SubmitSMResp.MessageID = []byte("0123456789abcdef") })
	add(SubmitSMRespID, StatusThrottled, 4, nil)
	add(DeliverSMRespID, 0, 3, nil)
	add(DataSMID, 0, 5, func(p *PDU) {
		d := &p.DataSM
		d.ServiceType = []byte("WAP")
		d.SourceAddrTON, d.SourceAddrNPI, d.SourceAddr = 0, NPIInternet, []byte(strings.Repeat("s", 64))
		d.DestAddrTON, d.DestAddrNPI, d.DestinationAddr = 1, 1, []byte("447700900123")
		d.ESMClass, d.RegisteredDelivery, d.DataCoding = 0, 1, DataCodingBinary
		d.TLVs.Add(TagMessagePayload, bytes.Repeat([]byte{0xAB}, 300))
		d.TLVs.AddUint16(TagDestinationPort, 2948)
	})
	add(DataSMRespID, StatusDeliveryFailure, 5, func(p *PDU) {
		p.DataSMResp.MessageID = []byte("x1")
		p.DataSMResp.TLVs.AddUint8(TagDeliveryFailureReason, 2)
		p.DataSMResp.TLVs.AddCString(TagAdditionalStatusInfoText, []byte("network down"))
	})
	add(SubmitMultiID, 0, 6, func(p *PDU) {
		m := &p.SubmitMulti
		m.ServiceType = []byte("")
		m.SourceAddrTON, m.SourceAddrNPI, m.SourceAddr = 1, 1, []byte("447700900999")
		m.Dests.AddSME(1, 1, []byte("447700900001"))
		m.Dests.AddDL([]byte("friends"))
		m.Dests.AddSME(2, 8, []byte(strings.Repeat("9", 20)))
		m.ScheduleDeliveryTime = []byte("251231235959004+")
		m.DataCoding = DataCodingUCS2
		m.ShortMessage = []byte{0, 'H', 0, 'i'}
		m.TLVs.AddUint16(TagSarMsgRefNum, 77)
		m.TLVs.AddUint8(TagSarTotalSegments, 2)
		m.TLVs.AddUint8(TagSarSegmentSeqnum, 1)
	})
	add(SubmitMultiRespID, 0, 6, func(p *PDU) {
		r := &p.SubmitMultiResp
		r.MessageID = []byte("m-1")
		r.Unsuccess.Add(Unsuccess{TON: 1, NPI: 1, Addr: []byte("447700900001"), Status: StatusInvDstAdr})
		r.Unsuccess.Add(Unsuccess{TON: 0, NPI: 0, Addr: nil, Status: StatusCntSubDL})
	})
	add(QuerySMID, 0, 8, func(p *PDU) {
		p.QuerySM = QuerySM{MessageID: []byte("0123456789"), SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte("447700900999")}
	})
	add(QuerySMRespID, 0, 8, func(p *PDU) {
		p.QuerySMResp = QuerySMResp{MessageID: []byte("0123456789"), FinalDate: []byte("250630121600000+"),
			MessageState: MessageStateDelivered, ErrorCode: 0}
	})
	add(CancelSMID, 0, 9, func(p *PDU) {
		p.CancelSM = CancelSM{ServiceType: []byte("CMT"), MessageID: []byte("0123456789"), SourceAddrTON: 1, SourceAddrNPI: 1,
			SourceAddr: []byte("447700900999"), DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: []byte("447700900001")}
	})
	add(ReplaceSMID, 0, 10, func(p *PDU) {
		p.ReplaceSM = ReplaceSM{MessageID: []byte("0123456789"), SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte("447700900999"),
			ValidityPeriod: []byte("000002000000000R"), RegisteredDelivery: 1, ShortMessage: []byte("replaced text")}
	})
	add(AlertNotificationID, 0, 11, func(p *PDU) {
		a := &p.AlertNotification
		a.SourceAddrTON, a.SourceAddrNPI, a.SourceAddr = 1, 1, []byte("447700900001")
		a.ESMEAddrTON, a.ESMEAddrNPI, a.ESMEAddr = 0, NPIInternet, []byte("esme.example.org")
		a.TLVs.AddUint8(TagMSAvailabilityStatus, 0)
	})
	return out
}

// fxFrames encodes every fixture.
func fxFrames() [][]byte {
	var out [][]byte
	for _, p := range fxPDUs() {
		f, err := p.Append(nil)
		if err != nil {
			panic(fmt.Sprintf("fixture %v: %v", p.Header.CommandID, err))
		}
		out = append(out, f)
	}
	return out
}

// bodyOf returns the body struct selected by the command id (nil for
// header-only PDUs).
func bodyOf(p *PDU) any {
	switch p.Header.CommandID {
	case BindReceiverID, BindTransmitterID, BindTransceiverID:
		return &p.Bind
	case BindReceiverRespID, BindTransmitterRespID, BindTransceiverRespID:
		return &p.BindResp
	case OutbindID:
		return &p.Outbind
	case SubmitSMID, DeliverSMID:
		return &p.SM
	case SubmitSMRespID:
		return &p.SubmitSMResp
	case DeliverSMRespID:
		return &p.DeliverSMResp
	case DataSMID:
		return &p.DataSM
	case DataSMRespID:
		return &p.DataSMResp
	case SubmitMultiID:
		return &p.SubmitMulti
	case SubmitMultiRespID:
		return &p.SubmitMultiResp
	case QuerySMID:
		return &p.QuerySM
	case QuerySMRespID:
		return &p.QuerySMResp
	case CancelSMID:
		return &p.CancelSM
	case ReplaceSMID:
		return &p.ReplaceSM
	case AlertNotificationID:
		return &p.AlertNotification
	}
	return nil
}

// eqPDU compares header (without Length) and the selected body field by
// field; it returns "" when equal, else the first difference.
func eqPDU(a, b *PDU) string {
	ha, hb := a.Header, b.Header
	ha.Length, hb.Length = 0, 0
	if ha != hb {
		return fmt.Sprintf("header %+v != %+v", ha, hb)
	}
	x, y := bodyOf(a), bodyOf(b)
	if x == nil {
		return ""
	}
	return eqValue("body", reflect.ValueOf(x).Elem(), reflect.ValueOf(y).Elem())
}

var (
	tTLVs      = reflect.TypeOf(TLVs{})
	tDests     = reflect.TypeOf(Dests{})
	tUnsuccess = reflect.TypeOf(UnsuccessList{})
	tBytes     = reflect.TypeOf([]byte(nil))
)

func eqValue(path string, x, y reflect.Value) string {
	switch x.Type() {
	case tBytes:
		if !bytes.Equal(x.Bytes(), y.Bytes()) {
			return fmt.Sprintf("%s: %q != %q", path, x.Bytes(), y.Bytes())
		}
		return ""
	case tTLVs:
		tx, ty := x.Addr().Interface().(*TLVs), y.Addr().Interface().(*TLVs)
		if tx.Len() != ty.Len() || !bytes.Equal(tx.Raw(), ty.Raw()) {
			return fmt.Sprintf("%s: TLVs %d %x != %d %x", path, tx.Len(), tx.Raw(), ty.Len(), ty.Raw())
		}
		return ""
	case tDests:
		dx, dy := x.Addr().Interface().(*Dests), y.Addr().Interface().(*Dests)
		if dx.NumDests() != dy.NumDests() {
			return fmt.Sprintf("%s: %d dests != %d", path, dx.NumDests(), dy.NumDests())
		}
		for i := 0; i < dx.NumDests(); i++ {
			if d := eqValue(fmt.Sprintf("%s[%d]", path, i), reflect.ValueOf(dx.Dest(i)), reflect.ValueOf(dy.Dest(i))); d != "" {
				return d
			}
		}
		return ""
	case tUnsuccess:
		ux, uy := x.Addr().Interface().(*UnsuccessList), y.Addr().Interface().(*UnsuccessList)
		if ux.Len() != uy.Len() {
			return fmt.Sprintf("%s: %d entries != %d", path, ux.Len(), uy.Len())
		}
		for i := 0; i < ux.Len(); i++ {
			if d := eqValue(fmt.Sprintf("%s[%d]", path, i), reflect.ValueOf(ux.At(i)), reflect.ValueOf(uy.At(i))); d != "" {
				return d
			}
		}
		return ""
	}
	if x.Kind() == reflect.Struct {
		for i := 0; i < x.NumField(); i++ {
			f := x.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			xv, yv := x.Field(i), y.Field(i)
			if !xv.CanAddr() { // values from Dest(i)/At(i): make addressable copies
				xc, yc := reflect.New(xv.Type()).Elem(), reflect.New(yv.Type()).Elem()
				xc.Set(xv)
				yc.Set(yv)
				xv, yv = xc, yc
			}
			if d := eqValue(path+"."+f.Name, xv, yv); d != "" {
				return d
			}
		}
		return ""
	}
	if x.Interface() != y.Interface() {
		return fmt.Sprintf("%s: %v != %v", path, x.Interface(), y.Interface())
	}
	return ""
}

// fxFrameOf returns the fixture frame with the given command id.
func fxFrameOf(t testing.TB, id CommandID) []byte {
	for _, f := range fxFrames() {
		if h, _ := ParseHeader(f); h.CommandID == id {
			return f
		}
	}
	t.Fatalf("no fixture for %v", id)
	return nil
}
