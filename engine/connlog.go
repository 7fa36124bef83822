package engine

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
)

// gnetReadChunk is what gnet reads from a socket per readable event (its
// ReadBufferCap, set explicitly at Start): the most one OnTraffic can add to
// a connection's unread input.
const gnetReadChunk = 64 << 10

// connLogs throttles the log lines written once per connection or per bad
// PDU: a flood of bad connections then costs counters, not log writes, so it
// cannot keep an event loop busy formatting lines. Each kind has its own
// budget of Options.LogLinesPerSecond (decode: a request body that did not
// decode, with the field); the next line let through carries
// "suppressed" with the count dropped before it. Metrics count every event.
type connLogs struct {
	close, refuse, bind, timer, flood, peer, decode logthrottle.Gate
}

func (c *connLogs) init(perSecond int) {
	logthrottle.Set(time.Second, perSecond, &c.close, &c.refuse, &c.bind, &c.timer, &c.flood, &c.peer, &c.decode)
}

// event returns a log event of level through gate g, or nil when the gate is
// spent (zerolog drops calls on a nil event).
func (srv *Server) event(g *logthrottle.Gate, level zerolog.Level) *zerolog.Event {
	return g.Event(&srv.log, level, time.Now().UnixNano())
}
