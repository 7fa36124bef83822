package policy

import "github.com/smppd/smppd/codec"

// LookupStageName names the portability stage in verdicts, logs and
// metrics.
const LookupStageName = "lookup"

// Check implements Stage for MT messages: it sets m.Network from the
// lookup. A number the service is asked about makes the message Wait when
// the caller can wait (it is offered again after the engine's tick, and
// the answer, or the fallback past lookup.timeout, is cached by then);
// otherwise the message takes the fallback at once. With lookup.max_pending
// numbers waiting, a new one is refused ESME_RMSGQFUL.
func (l *Lookup) Check(m *Msg) Verdict {
	if m.Dir != DirMT {
		return Verdict{}
	}
	net, r := l.Resolve(m.Dst, m.MayWait, m.Now.UnixNano())
	switch r {
	case Pending:
		return Verdict{Action: Wait, Status: codec.StatusMsgQFul, Stage: LookupStageName}
	case Full:
		return Verdict{Action: Refuse, Status: codec.StatusMsgQFul, Stage: LookupStageName}
	}
	m.Network = net
	return Verdict{}
}
