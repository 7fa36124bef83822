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
	text  []byte // the Appendix B text
	dec   []byte // the original text's first characters, as UTF-8
	idHex []byte
	idTxt []byte
	dates receipt.DateCache // a pooled encoder writes most receipts in the second its last one was
}

// Encode sets p to the receipt of rec: a deliver_sm from the original
// destination to the original source (SMPP 3.4 §2.11), esm_class 0x04
// (0x20 intermediate), data_coding 0, the Appendix B text with our id, and
// the receipted_message_id, message_state and (when known)
// network_error_code TLVs. receipted_message_id is always the hex id
// submit_sm_resp gave; decimal switches only the text's id:. The dates are
// in zone. p's fields are views into e and rec, valid until either changes.
func (e *Encoder) Encode(p *codec.SM, rec *storage.Record, r *Report, decimal bool, zone *time.Location) {
	e.idHex = rec.ID.AppendHex(e.idHex[:0])
	idText := e.idHex
	if decimal {
		e.idTxt = rec.ID.AppendDecimal(e.idTxt[:0])
		idText = e.idTxt
	}
	var err error
	if e.dec, err = charset.Decode(e.dec[:0], rec.DataCoding, rec.TextPrefix()); err != nil {
		// Binary or unknown coding: the receipt's text sanitiser turns
		// whatever is not plain text into '?'.
		e.dec = append(e.dec[:0], rec.TextPrefix()...)
	}
	t := receipt.Receipt{
		ID:         idText,
		Sub:        1,
		SubmitDate: time.Unix(0, rec.Submitted).In(zone),
		Stat:       receipt.Stat(r.State),
		ErrCode:    int(r.Err),
		Text:       e.dec,
	}
	if r.State == msg.StateDelivered {
		t.Dlvrd = 1
	}
	if r.Done != 0 {
		t.DoneDate = time.Unix(0, r.Done).In(zone)
	}
	e.text = receipt.Format{}.AppendCached(e.text[:0], &t, &e.dates)

	p.Reset()
	p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr = rec.DestTON, rec.DestNPI, rec.DestAddr()
	p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr = rec.SourceTON, rec.SourceNPI, rec.SourceAddr()
	p.ESMClass = codec.ESMClassDeliveryReceipt
	if r.Intermediate {
		p.ESMClass = codec.ESMClassIntermediate
	}
	p.ShortMessage = e.text
	p.TLVs.AddCString(codec.TagReceiptedMessageID, e.idHex)
	p.TLVs.AddUint8(codec.TagMessageState, uint8(r.State))
	if r.HasNetErr {
		p.TLVs.Add(codec.TagNetworkErrorCode, r.NetErr[:])
	}
}
