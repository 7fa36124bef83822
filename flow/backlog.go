package flow

import "github.com/smppd/smppd/codec"

// admitBacklog passes on prepare's answer, or, for a request prepare let
// through, refuses it ESME_RTHROTTLED while Options.Backlog is raised: a
// message accepted then would have its final state meet a CDR queue that
// may be full, and a dropped final state is a lost billing line. Clients
// retry a throttled submit. Logged at most once per warnEvery.
func (h *Hub) admitBacklog(st codec.Status, r Refusal) (codec.Status, Refusal) {
	if st != codec.StatusOK || h.opts.Backlog == nil || !h.opts.Backlog.Load() {
		return st, r
	}
	if e := h.event(&h.warn.backlog, zerologWarn); e != nil {
		e.Str("event", "cdr_backlog_refused").Uint64("refused_total", h.stats.refused[RefuseBacklog].Load()+1).
			Msg("the CDR writer is behind (queue past queue_high_water): MT answered ESME_RTHROTTLED")
	}
	return refused(RefuseBacklog)
}
