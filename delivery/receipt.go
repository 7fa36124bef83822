package delivery

import (
	"errors"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// encoder is the pooled working memory for building one deliver_sm.
type encoder struct {
	sm    codec.SM
	rec   storage.Record
	text  []byte // receipt text
	dec   []byte // decoded original text (UTF-8)
	idHex []byte
	idTxt []byte
}

func (h *Service) getEncoder() *encoder { return h.encs.Get().(*encoder) }

func (h *Service) putEncoder(e *encoder) {
	e.sm.Reset()
	h.encs.Put(e)
}

// WantsReceipt applies registered_delivery (SMPP 3.4 §5.2.17) to a state:
// bits 1-0 = 01 any final state, 10 a failure only (a final state other
// than DELIVERED or ACCEPTED), 11 (reserved in v3.4) success only as in
// v5.0; bit 4 (0x10) intermediate notifications.
func WantsReceipt(regDlv byte, st msg.State, intermediate bool) bool {
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

// receiptInfo is what a receipt reports beyond the Record.
type receiptInfo struct {
	state        msg.State
	err          uint16
	netErr       [3]byte
	hasNetErr    bool
	done         int64 // Unix ns; 0 = not final
	intermediate bool
}

// sendReceipt builds the receipt deliver_sm for rec and dispatches it to
// the record's owner. e is the caller's encoder (rec may live in it).
func (h *Service) sendReceipt(e *encoder, rec *storage.Record, ri *receiptInfo) {
	now := h.now()
	it := h.newItem(rec.SystemID, storage.HeldReceipt, rec.ID, now)
	if err := e.receipt(it, rec, ri, h.opts.ReceiptIDDecimal, h.zone); err != nil {
		h.stats.failedPermanent.Add(1)
		if ev := h.event(&h.warn.encode, zerologError); ev != nil {
			ev.Str("system_id", rec.SystemID).Stringer("id", rec.ID).Err(err).Msg("receipt cannot be encoded: dropped")
		}
		h.items.put(it)
		return
	}
	h.stats.rcptGenerated.Add(1)
	h.dispatch(it, now)
}

// receipt encodes the receipt for rec into it: a deliver_sm from the
// original destination to the original source (SMPP 3.4 §2.11), esm_class
// 0x04 (0x20 intermediate), data_coding 0, the Appendix B text with our id
// (SMPP 3.4 Appendix B), and the receipted_message_id, message_state and (when
// known) network_error_code TLVs. receipted_message_id is always the hex
// id submit_sm_resp gave; decimal switches only the text's id:.
func (e *encoder) receipt(it *item, rec *storage.Record, ri *receiptInfo, decimal bool, zone *time.Location) error {
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
	r := receipt.Receipt{
		ID:         idText,
		Sub:        1,
		SubmitDate: time.Unix(0, rec.Submitted).In(zone),
		Stat:       receipt.Stat(ri.state),
		ErrCode:    int(ri.err),
		Text:       e.dec,
	}
	if ri.state == msg.StateDelivered {
		r.Dlvrd = 1
	}
	if ri.done != 0 {
		r.DoneDate = time.Unix(0, ri.done).In(zone)
	}
	e.text = receipt.Append(e.text[:0], &r)

	p := &e.sm
	p.Reset()
	p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr = rec.DestTON, rec.DestNPI, rec.DestAddr()
	p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr = rec.SourceTON, rec.SourceNPI, rec.SourceAddr()
	p.ESMClass = codec.ESMClassDeliveryReceipt
	if ri.intermediate {
		p.ESMClass = codec.ESMClassIntermediate
	}
	p.ShortMessage = e.text
	p.TLVs.AddCString(codec.TagReceiptedMessageID, e.idHex)
	p.TLVs.AddUint8(codec.TagMessageState, uint8(ri.state))
	if ri.hasNetErr {
		p.TLVs.Add(codec.TagNetworkErrorCode, ri.netErr[:])
	}
	return it.setBody(p)
}

// FailedReceipt sends the receipt of an MT that ended here (refused
// upstream, expired or cancelled before it went, left queued at a stop)
// when rec's registered_delivery asks for state: rec is its Record, read
// during the call only; done is Unix ns.
func (h *Service) FailedReceipt(rec *storage.Record, state msg.State, code uint16, done int64) {
	if !WantsReceipt(rec.RegisteredDelivery, state, false) {
		return
	}
	e := h.getEncoder()
	h.sendReceipt(e, rec, &receiptInfo{state: state, err: code, done: done})
	h.putEncoder(e)
}

// Receipt implements connector.Sink's half for receipts: the upstream
// reported a state for one of our messages. A final state is recorded; a
// receipt deliver_sm goes to the owner when the Record's
// registered_delivery asks (also when the store failed to record the
// state: counted, logged). A receipt for an id no longer stored is counted
// and dropped.
func (h *Service) Receipt(r *msg.Receipt) {
	e := h.getEncoder()
	done := r.Done
	if r.State.Final() && done == 0 {
		done = h.now().UnixNano()
	}
	var err error
	if r.Intermediate {
		err = h.msgs.Get(r.ID, &e.rec)
	} else if err = h.msgs.Finish(r.ID, r.State, r.Err, done, &e.rec); err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.noteStore(err, "state", r.ID)
		err = h.msgs.Get(r.ID, &e.rec)
	}
	if err != nil {
		h.noteStore(err, "read", r.ID) // a failed read, not an unknown id: counted as a store error too
		h.stats.rcptUnknown.Add(1)
		if ev := h.event(&h.warn.unknownRcpt, zerologWarn); ev != nil {
			ev.Stringer("id", r.ID).Int("connector", r.Connector).
				Uint64("unknown_total", h.stats.rcptUnknown.Load()).
				Msg("receipt for a message id no longer stored: dropped")
		}
		h.putEncoder(e)
		return
	}
	if !r.Intermediate {
		h.observeSince(h.opts.ReceiptLatency, int(e.rec.Connector), e.rec.Submitted, r.At)
	}
	if WantsReceipt(e.rec.RegisteredDelivery, r.State, r.Intermediate) {
		ri := receiptInfo{state: r.State, err: r.Err, netErr: r.NetworkError, hasNetErr: r.HasNetErr, intermediate: r.Intermediate}
		if !r.Intermediate {
			ri.done = done
		}
		h.sendReceipt(e, &e.rec, &ri)
	}
	h.putEncoder(e)
}
