// Package dlr builds delivery receipts: which outcomes a message's
// registered_delivery asks a receipt for (SMPP 3.4 §5.2.17), and the
// deliver_sm that reports one to the ESME from the message's
// storage.Record (SMPP 3.4 §2.11, with the Appendix B text of
// codec/receipt). The delivery side decides when and to whom; this package
// only says what the receipt contains.
package dlr

import (
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Wanted applies registered_delivery (SMPP 3.4 §5.2.17) to a state: bits
// 1-0 = 01 any final state, 10 a failure only (a final state other than
// DELIVERED or ACCEPTED), 11 (reserved in v3.4) success only as in v5.0;
// bit 4 (0x10) intermediate notifications.
func Wanted(regDlv byte, st msg.State, intermediate bool) bool {
	if intermediate {
		return regDlv&codec.RegisteredDeliveryIntermediate != 0
	}
	if !st.Final() {
		return false
	}
	switch regDlv & codec.RegisteredDeliveryReceiptMask {
	case codec.RegisteredDeliveryReceipt:
		return true
	case codec.RegisteredDeliveryReceiptOnFailure:
		return st != msg.StateDelivered && st != msg.StateAccepted
	case codec.RegisteredDeliveryReceiptMask:
		return st == msg.StateDelivered
	}
	return false
}

// Report is what a receipt says beyond its message's Record.
type Report struct {
	State        msg.State
	Err          uint16 // the err: code (the upstream's error, or our status)
	NetErr       [3]byte
	HasNetErr    bool  // NetErr is known: the network_error_code TLV goes along
	Done         int64 // Unix ns of the final state; 0 = not final
	Intermediate bool
}

// Encoder is the working memory of one receipt; keep it pooled and reuse
// it. It allocates nothing once its buffers have grown.
type Encoder struct {
	f      fields // what the last receipt was built from (Recipe)
	text   []byte // the Appendix B text
	dec    []byte // the original text's first characters, as UTF-8
	idHex  []byte
	idTxt  []byte
	recipe []byte
	dates  receipt.DateCache // a pooled encoder writes most receipts in the second its last one was
}

// fields is everything a receipt deliver_sm is built from, as values: the
// record's and the report's, with the dates already on the zone's wall
// clock, so the same receipt can be built again without the record or
// the zone (recipe.go).
type fields struct {
	id                             msg.ID
	decimal, intermediate, netErr  bool
	done                           bool // doneAt is set (a final report)
	state                          msg.State
	err                            uint16
	netErrCode                     [3]byte
	submitAt, doneAt               int64 // the zone's wall clock as Unix seconds
	srcTON, srcNPI, dstTON, dstNPI byte  // the deliver_sm's: the record's destination, then source
	src, dst, text                 []byte
}

// Encode sets p to the receipt of rec: a deliver_sm from the original
// destination to the original source (SMPP 3.4 §2.11), esm_class 0x04
// (0x20 intermediate), data_coding 0, the Appendix B text with our id, and
// the receipted_message_id, message_state and (when known)
// network_error_code TLVs. receipted_message_id is always the hex id
// submit_sm_resp gave; decimal switches only the text's id:. The dates are
// in zone. p's fields are views into e and rec, valid until either changes.
func (e *Encoder) Encode(p *codec.SM, rec *storage.Record, r *Report, decimal bool, zone *time.Location) {
	var err error
	if e.dec, err = charset.Decode(e.dec[:0], rec.DataCoding, rec.TextPrefix()); err != nil {
		// Binary or unknown coding: the receipt's text sanitiser turns
		// whatever is not plain text into '?'.
		e.dec = append(e.dec[:0], rec.TextPrefix()...)
	}
	e.f = fields{id: rec.ID, decimal: decimal, intermediate: r.Intermediate, netErr: r.HasNetErr,
		done: r.Done != 0, state: r.State, err: r.Err, netErrCode: r.NetErr,
		submitAt: wallClock(rec.Submitted, zone),
		srcTON:   rec.DestTON, srcNPI: rec.DestNPI, dstTON: rec.SourceTON, dstNPI: rec.SourceNPI,
		src: rec.DestAddr(), dst: rec.SourceAddr(), text: e.dec}
	if e.f.done {
		e.f.doneAt = wallClock(r.Done, zone)
	}
	e.encode(p)
}

// wallClock is ns's reading of zone's wall clock, as Unix seconds: the
// dates of a receipt, which show the wall clock only.
func wallClock(ns int64, zone *time.Location) int64 {
	t := time.Unix(0, ns).In(zone)
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

// encode sets p to the receipt e.f describes (Encode).
func (e *Encoder) encode(p *codec.SM) {
	f := &e.f
	e.idHex = f.id.AppendHex(e.idHex[:0])
	idText := e.idHex
	if f.decimal {
		e.idTxt = f.id.AppendDecimal(e.idTxt[:0])
		idText = e.idTxt
	}
	t := receipt.Receipt{
		ID:         idText,
		Sub:        1,
		SubmitDate: time.Unix(f.submitAt, 0).UTC(),
		Stat:       receipt.Stat(f.state),
		ErrCode:    int(f.err),
		Text:       f.text,
	}
	if f.state == msg.StateDelivered {
		t.Dlvrd = 1
	}
	if f.done {
		t.DoneDate = time.Unix(f.doneAt, 0).UTC()
	}
	e.text = receipt.Format{}.AppendCached(e.text[:0], &t, &e.dates)

	p.Reset()
	p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr = f.srcTON, f.srcNPI, f.src
	p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr = f.dstTON, f.dstNPI, f.dst
	p.ESMClass = codec.ESMClassDeliveryReceipt
	if f.intermediate {
		p.ESMClass = codec.ESMClassIntermediate
	}
	p.ShortMessage = e.text
	p.TLVs.AddCString(codec.TagReceiptedMessageID, e.idHex)
	p.TLVs.AddUint8(codec.TagMessageState, uint8(f.state))
	if f.netErr {
		p.TLVs.Add(codec.TagNetworkErrorCode, f.netErrCode[:])
	}
}
