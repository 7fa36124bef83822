package crash

import (
	"context"
	"sync/atomic"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/internal/proctest"
)

// receivers are crashUser's receiver binds: they book every receipt and
// MO and answer each deliver_sm ESME_ROK after booking it, so smppd may
// send a deliver_sm again only when a kill cut its answer off. They
// redial while smppd is down.
type receivers struct {
	*proctest.Receivers
	b     *book
	binds atomic.Int64
}

func startReceivers(ctx context.Context, addr string, n int, b *book) *receivers {
	r := &receivers{b: b}
	r.Receivers = proctest.StartReceivers(ctx, []string{addr}, crashUser, crashPass, n, redial,
		func(int) { r.binds.Add(1) }, r.book)
	return r
}

// stop unbinds every receiver (each keeps answering deliver_sm until its
// unbind_resp, so nothing booked goes unanswered) and waits for them.
func (r *receivers) stop() { r.Stop() }

// book records one deliver_sm: a receipt by receipted_message_id and
// message_state (the text's id and stat when a TLV is missing), or an MO
// by its text.
func (r *receivers) book(sm *codec.SM) {
	switch sm.ESMClass & codec.ESMClassTypeMask {
	case codec.ESMClassDeliveryReceipt, codec.ESMClassIntermediate:
		id, _ := sm.TLVs.CString(codec.TagReceiptedMessageID)
		st, ok := sm.TLVs.Uint8(codec.TagMessageState)
		if len(id) == 0 || !ok {
			if rc, err := receipt.Parse(sm.ShortMessage); err == nil {
				if len(id) == 0 {
					id = rc.ID
				}
				if !ok {
					st, _ = rc.Stat.MessageState()
				}
			}
		}
		// The body as sent (re-encoded): a receipt sent again after a
		// restart must be the same octets (issue 16).
		var body []byte
		if pdu, err := sm.Append(nil, codec.Header{CommandID: codec.DeliverSMID}); err == nil {
			body = pdu[codec.HeaderLen:]
		}
		r.b.receipt(id, codec.MessageState(st), body)
	default:
		text := sm.ShortMessage
		if p, ok := sm.TLVs.Get(codec.TagMessagePayload); ok {
			text = p
		}
		r.b.gotMO(string(text))
	}
}
