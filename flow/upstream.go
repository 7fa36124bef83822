package flow

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// upstreamCall is a cancel_sm or replace_sm a connector took upstream
// (connector.Connector's CancelUpstream, ReplaceUpstream): the ESME's deferred answer and
// what the message's record and charge become when the upstream says yes.
// The connector's goroutine owns it once CancelUpstream or ReplaceUpstream
// returned true. One allocation per forwarded request: they are rare.
type upstreamCall struct {
	h    *Hub
	tok  engine.ManageToken
	id   msg.ID
	cmd  codec.CommandID // CancelSMID or ReplaceSMID
	conn int             // the connector, for receipts and logs
	once atomic.Bool

	// replace_sm only: the extra parts' charge (kept on ESME_ROK, refunded
	// otherwise), the record's replaced fields, and the parts billed before.
	charge accounts.Charge
	rec    storage.Record
	ctr    *userCounters
	old    int
}

// respond retries while the ESME's event loop inbox is full, for about a
// second in all; past that the answer is dropped (logged): the ESME's own
// response timer covers it, and the session's in-flight slot is held until
// it closes.
const (
	respondTries = 12
	respondPause = time.Millisecond
)

// done is the connector.UpstreamDone of the call: it applies the outcome, then
// answers the ESME. A second call (a connector's bug) is ignored.
func (c *upstreamCall) done(st codec.Status, err error) {
	if !c.once.CompareAndSwap(false, true) {
		return
	}
	h := c.h
	if err != nil {
		st = codec.StatusCancelFail
		if c.cmd == codec.ReplaceSMID {
			st = codec.StatusReplaceFail
		}
		if e := h.event(&h.warn.upstream, zerologWarn); e != nil {
			e.Stringer("id", c.id).Stringer("command", c.cmd).Str("connector", h.ConnectorName(c.conn)).Err(err).
				Msg("no upstream answer to a forwarded request: answered " + st.String() + ", the message goes on")
		}
	} else if e := h.log.Debug(); e.Enabled() && st != codec.StatusOK {
		e.Stringer("id", c.id).Stringer("command", c.cmd).Stringer("status", st).Msg("upstream refused a forwarded request")
	}
	ok := err == nil && st == codec.StatusOK
	switch {
	case c.cmd == codec.CancelSMID && ok:
		// Recorded before the answer, so a query_sm right after it sees
		// DELETED; the receipt asked for follows the answer. A final state
		// that came first (a receipt) wins: no DELETED receipt then.
		done := h.now().UnixNano()
		e := h.getEncoder()
		err := h.msgs.Finish(c.id, msg.StateDeleted, 0, done, &e.rec)
		h.noteStore(err, "state", c.id)
		h.respond(c.tok, st)
		if err == nil {
			h.final(err, c.id, msg.StateDeleted, 0, done, nil, false)
			h.dl.FailedReceipt(&e.rec, msg.StateDeleted, 0, done)
		}
		h.putEncoder(e)
		return
	case c.cmd == codec.ReplaceSMID && ok:
		h.noteStore(h.msgs.SetReplaced(c.id, &c.rec), "replace", c.id)
		countExtra(c.ctr, c.old, int(c.rec.Parts))
	case c.cmd == codec.ReplaceSMID:
		if c.charge.Micros() != 0 || c.charge.Parts() != 0 {
			h.noteStore(c.charge.Refund(c.id), "refund", c.id)
			h.stats.refunds.Add(1)
		}
	}
	c.charge = accounts.Charge{}
	h.respond(c.tok, st)
}

// respond posts a deferred answer, waiting out a full inbox for a while.
func (h *Hub) respond(tok engine.ManageToken, st codec.Status) {
	pause := respondPause
	for try := 0; ; try++ {
		err := tok.Respond(st)
		if err == nil {
			return
		}
		if !errors.Is(err, engine.ErrQueueFull) || try == respondTries {
			if e := h.event(&h.warn.upstream, zerologWarn); e != nil {
				e.Err(err).Stringer("status", st).Msg("deferred cancel_sm/replace_sm answer not delivered to the ESME")
			}
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
}
