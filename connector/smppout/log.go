package smppout

import (
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/logthrottle"
)

// refusalLogEvery bounds refusal warnings to one per period per kind, with
// the count since the last one: refusals are per message,
// the log is not.
const refusalLogEvery = 10 * time.Second

// initLogGates gives each of the client's log gates one line per
// refusalLogEvery.
func (c *client) initLogGates() {
	logthrottle.Set(refusalLogEvery, 1, &c.tempLog, &c.permLog, &c.rcptLog, &c.idLog)
}

// pass counts one event on g and reports whether to log now, with the
// events since the last line (this one included).
func pass(g *logthrottle.Gate, now int64) (uint64, bool) {
	ok, dropped := g.Allow(now)
	return dropped + 1, ok
}

// noteRefusal logs a refused submit_sm, rate-limited.
func (c *client) noteRefusal(st codec.Status, temporary bool) {
	g, what := &c.permLog, "upstream refused submit_sm permanently"
	if temporary {
		g, what = &c.tempLog, "upstream refused submit_sm temporarily: retrying with backoff"
	}
	if n, ok := pass(g, c.mono()+1); ok {
		c.log.Warn().Stringer("status", st).Uint64("count", n).Dur("period", refusalLogEvery).Msg(what)
	}
}

// noteReceiptLoss logs, rate-limited, an upstream deliver_sm answered
// ESME_RX_T_APPN (not kept) or a parked receipt lost.
func (c *client) noteReceiptLoss(what string) {
	if n, ok := pass(&c.rcptLog, c.mono()+1); ok {
		c.log.Warn().Uint64("count", n).Uint64("no_id_total", c.badReceipts.Load()).
			Uint64("park_full_total", c.parkFull.Load()).Uint64("not_kept_total", c.notKept.Load()).Msg(what)
	}
}
