package smppout

import (
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

// refusalLogEvery bounds refusal warnings to one per period per kind, with
// the count since the last one (style.md §7.7): refusals are per message,
// the log is not.
const refusalLogEvery = 10 * time.Second

// logGate lets one caller per period through and counts the others.
type logGate struct {
	last atomic.Int64 // mono ns of the last line
	n    atomic.Uint64
}

// pass counts one event and reports whether to log now, with the events
// since the last line.
func (g *logGate) pass(now int64) (uint64, bool) {
	g.n.Add(1)
	last := g.last.Load()
	if last != 0 && now-last < int64(refusalLogEvery) {
		return 0, false
	}
	if !g.last.CompareAndSwap(last, now) {
		return 0, false
	}
	return g.n.Swap(0), true
}

// noteRefusal logs a refused submit_sm, rate-limited.
func (c *client) noteRefusal(st codec.Status, temporary bool) {
	g, what := &c.permLog, "upstream refused submit_sm permanently"
	if temporary {
		g, what = &c.tempLog, "upstream refused submit_sm temporarily: retrying with backoff"
	}
	if n, ok := g.pass(c.mono() + 1); ok {
		c.log.Warn().Stringer("status", st).Uint64("count", n).Dur("period", refusalLogEvery).Msg(what)
	}
}

// noteReceiptLoss logs a receipt that could not be delivered, rate-limited.
func (c *client) noteReceiptLoss(what string) {
	if n, ok := c.rcptLog.pass(c.mono() + 1); ok {
		c.log.Warn().Uint64("count", n).Uint64("bad_total", c.badReceipts.Load()).
			Uint64("park_dropped_total", c.parkDropped.Load()).Msg(what)
	}
}
