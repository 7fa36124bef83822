package flow

import "github.com/smppd/smppd/codec"

// admitBacklog passes on prepare's answer for s, or, for a request
// prepare let through, holds it back while Options.Backlog is raised: a
// message accepted then would have its final state meet a CDR queue that
// may be full, and a dropped final state is a lost billing line. A
// session that may wait does, unread, as for a full connector queue
// (refuseWait: the engine offers the PDU again after a tick, for up to
// queue_full_wait), so its client is slowed by TCP instead of spinning
// on refusals; past that, and for what cannot wait (submit_multi, the
// HTTP API), the answer is ESME_RTHROTTLED, which clients retry. Logged
// at most once per warnEvery. A request asking a receipt while its
// user's receivers are behind (SetReceiptBacklog) is refused
// ESME_RTHROTTLED at once, never held unread: the session's
// deliver_sm_resp must keep being read for the backlog to drain.
func (h *Hub) admitBacklog(s *submission, st codec.Status, r Refusal) (codec.Status, Refusal) {
	if st != codec.StatusOK {
		return st, r
	}
	if s.regDlv != 0 && s.ctr.receiptBacklog.Load() {
		return refused(RefuseReceiptBacklog)
	}
	if h.opts.Backlog == nil || !h.opts.Backlog.Load() {
		return st, r
	}
	if s.mayWait {
		return codec.StatusMsgQFul, refuseWait
	}
	if e := h.event(&h.warn.backlog, zerologWarn); e != nil {
		e.Str("event", "cdr_backlog_refused").Uint64("refused_total", h.stats.refused[RefuseBacklog].Load()+1).
			Msg("the CDR writer is behind (queue past queue_high_water): MT answered ESME_RTHROTTLED")
	}
	return refused(RefuseBacklog)
}

// SetReceiptBacklog switches MT admission for systemID's messages that ask
// a receipt (registered_delivery not 0): on, they are refused
// ESME_RTHROTTLED (RefuseReceiptBacklog), which clients retry, because
// the user's receivers are behind by its share of receipts and MO waiting
// for room (the delivery service's Options.Backlog calls it). A client
// that submits faster than it takes its receipts is slowed before an
// acknowledgement: an accepted message's receipt is never what gives way.
// Messages without receipts, and other users, are not affected.
func (h *Hub) SetReceiptBacklog(systemID string, on bool) {
	h.ustats.get(systemID).receiptBacklog.Store(on)
}
