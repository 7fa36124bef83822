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
// at most once per warnEvery.
func (h *Hub) admitBacklog(s *submission, st codec.Status, r Refusal) (codec.Status, Refusal) {
	if st != codec.StatusOK || h.opts.Backlog == nil || !h.opts.Backlog.Load() {
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
