package flow

import (
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// Policy is the traffic policy as the hub runs it (docs/POLICY.md):
// *policy.Hook implements it and cmd/smppd wires it. It is declared here,
// over msg and codec alone, so the hub does not import package policy.
// Calls come from the event loops and connector goroutines at once; none
// may block, and none allocates but a regexp rewrite's match.
type Policy interface {
	// Active reports whether a policy is in force: without one the hub
	// skips the copies MT and MO need.
	Active() bool
	// MT runs the policy in force on one destination of an MT before
	// routing, changing m in place. On Refuse and Wait, status is the
	// answer and stage names what decided.
	MT(m *msg.Envelope) (act msg.Action, status codec.Status, stage string)
	// Outbound puts m's addresses into the form connector's upstream
	// wants; false when no outbound form applies (m unchanged).
	Outbound(connector string, m *msg.Envelope) bool
	// MO runs the policy in force on an MO before its route, as MT.
	MO(m *msg.Envelope) (act msg.Action, status codec.Status, stage string)
	// Take takes parts from the [[limit]] buckets of sender src and of
	// route at now (Unix ns); when one is empty nothing is taken and it
	// says which.
	Take(src []byte, route string, parts int, now int64) (senderFull, routeFull bool)
	// Give returns what Take took, for a message refused later.
	Give(src []byte, route string, parts int, now int64)
}

// RouteCounter counts MT messages accepted and refused per MT route for
// the metrics (*policy.RouteCounts); route "" is a refusal before any
// route matched. It must not block.
type RouteCounter interface {
	Accepted(route string)
	Refused(route string)
}

// routeAccepted is a RouteCounter that hands out a route's accepted count
// (*policy.RouteCounts): a scratch keeps it while its route repeats.
type routeAccepted interface {
	AcceptedOn(route string) interface{ Inc() }
}

// The traffic policy's hook (docs/POLICY.md): once per destination, before
// routing, on every MT path (SMPP and the HTTP API share place). The
// policy sees the addresses the ESME sent (every destination of a
// submit_multi starts from them again); what it rewrites is what routing
// sees and the connector sends; the record keeps the submitted addresses
// beside the rewritten ones, so the receipt, query_sm and cancel_sm carry
// what the ESME sent and can match them, the CDR what went upstream.

// policy is the traffic policy when one is in force, nil otherwise.
func (h *Hub) policy() Policy {
	if p := h.opts.Policy; p != nil && p.Active() {
		return p
	}
	return nil
}

// sent is what the ESME submitted, kept while the policy rewrites.
type sent struct {
	src            []byte
	srcTON, srcNPI uint8
	dstTON, dstNPI uint8
	dst            []byte
	priority, dc   uint8
	validity       time.Duration
	expires        int64
	taken          bool // src..expires hold the submit's values
}

// applyPolicy runs p on the current destination of sc. A refusal answers
// the policy's status (RefusePolicy); a stage that waits answers Wait when
// the session may wait.
func (h *Hub) applyPolicy(sc *submitScratch, p Policy) (codec.Status, Refusal) {
	s, o, pm := &sc.sub, &sc.sent, &sc.pol
	if !o.taken {
		o.src, o.srcTON, o.srcNPI = s.src, s.srcTON, s.srcNPI
		o.priority, o.dc, o.validity, o.expires = s.priority, s.dataCoding, s.validity, s.expires
		o.taken = true
	}
	// Each destination starts from the submit's own values.
	s.src, s.srcTON, s.srcNPI = o.src, o.srcTON, o.srcNPI
	s.priority, s.dataCoding = o.priority, o.dc
	s.validity, s.expires = o.validity, o.expires
	o.dst, o.dstTON, o.dstNPI = s.dst, s.dstTON, s.dstNPI

	pm.Reset()
	pm.Dir, pm.User, pm.Group = msg.DirMT, s.systemID, s.group
	pm.SrcTON, pm.SrcNPI, pm.Src = s.srcTON, s.srcNPI, s.src
	pm.DstTON, pm.DstNPI, pm.Dst = s.dstTON, s.dstNPI, s.dst
	pm.DataCoding, pm.Priority, pm.Content, pm.Now = s.dataCoding, s.priority, s.content, s.now
	pm.UserSources, pm.SrcDefaulted, pm.MayWait = len(s.user.SourceAddrs) > 0, s.srcDefaulted, s.mayWait
	act, st, stage := p.MT(pm)
	switch act {
	case msg.Refuse:
		h.notePolicy(s, st, stage)
		return st, RefusePolicy
	case msg.Wait:
		if s.mayWait {
			return codec.StatusMsgQFul, refuseWait
		}
		h.notePolicy(s, st, stage)
		return st, RefusePolicy
	}
	h.takePolicy(s, pm)
	return codec.StatusOK, 0
}

// takePolicy copies what the policy decided back into the submission.
func (h *Hub) takePolicy(s *submission, pm *msg.Envelope) {
	s.src, s.srcTON, s.srcNPI = pm.Src, pm.SrcTON, pm.SrcNPI
	s.dst, s.dstTON, s.dstNPI = pm.Dst, pm.DstTON, pm.DstNPI
	if pm.Changed&msg.ChangedPriority != 0 {
		s.priority = pm.Priority
	}
	if pm.Changed&msg.ChangedDataCoding != 0 {
		s.dataCoding = pm.DataCoding
	}
	if pm.Changed&msg.ChangedValidity != 0 {
		start := s.nowNs
		if s.schedule > start {
			start = s.schedule
		}
		s.validity, s.expires = pm.Validity, start+int64(pm.Validity)
	}
}

// policyOutbound puts the policy's addresses into the form connector c's
// upstream wants ([[normalise]] outbound).
func (h *Hub) policyOutbound(sc *submitScratch, p Policy, c int) {
	s := h.cs()
	if !s.has(c) {
		return
	}
	pm := &sc.pol
	if p.Outbound(s.conns[c].Name(), pm) {
		h.takePolicy(&sc.sub, pm)
	}
}

// recordSent puts the submitted addresses back into the record when the
// policy changed them, keeping the rewritten ones beside them: the receipt,
// query_sm and cancel_sm show the ESME its own, the CDR and the lookups
// what went upstream.
func (sc *submitScratch) recordSent() {
	o, s := &sc.sent, &sc.sub
	if !o.taken {
		return
	}
	if string(o.src) == string(s.src) && string(o.dst) == string(s.dst) &&
		o.srcTON == s.srcTON && o.srcNPI == s.srcNPI && o.dstTON == s.dstTON && o.dstNPI == s.dstNPI {
		return
	}
	rec := &sc.rec
	rec.SetUpstream(rec.SourceTON, rec.SourceNPI, rec.SourceAddr(), rec.DestTON, rec.DestNPI, rec.DestAddr())
	rec.SourceTON, rec.SourceNPI, rec.DestTON, rec.DestNPI = o.srcTON, o.srcNPI, o.dstTON, o.dstNPI
	rec.SetAddrs(o.src, o.dst, rec.TextPrefix())
}

// notePolicy logs a policy refusal at debug level, with what refused it.
func (h *Hub) notePolicy(s *submission, st codec.Status, stage string) {
	if e := h.log.Debug(); e.Enabled() {
		var buf [64]byte
		e.Str("system_id", s.systemID).Bytes("dest", h.logAddr(buf[:0], s.dst)).
			Str("stage", stage).Str("status", st.String()).Msg("MT refused by the policy")
	}
}

// moPolicy runs the policy on an MO before its route. A refused MO is
// dropped and answered as kept (nil: its upstream must not send it again);
// what the policy rewrote is what the MO route and the ESME see.
func (h *Hub) moPolicy(in *msg.Inbound, p Policy) error {
	pm := h.moPol.Get().(*msg.Envelope)
	defer h.moPol.Put(pm)
	pm.Reset()
	pm.Dir, pm.Connector = msg.DirMO, in.Connector
	pm.SrcTON, pm.SrcNPI, pm.Src = in.SourceTON, in.SourceNPI, in.Source
	pm.DstTON, pm.DstNPI, pm.Dst = in.DestTON, in.DestNPI, in.Dest
	pm.DataCoding, pm.Content, pm.Now = in.DataCoding, in.ShortMessage, h.now()
	if act, st, stage := p.MO(pm); act != msg.Pass {
		h.stats.moPolicyDropped.Add(1)
		if e := h.log.Debug(); e.Enabled() {
			e.Str("connector", in.Connector).Str("stage", stage).Str("status", st.String()).Msg("MO dropped by the policy")
		}
		return nil
	}
	// Views of pm, valid during the call as the Sink's contract says.
	src, dst := in.Source, in.Dest
	in.Source, in.Dest = pm.Src, pm.Dst
	in.SourceTON, in.SourceNPI, in.DestTON, in.DestNPI = pm.SrcTON, pm.SrcNPI, pm.DstTON, pm.DstNPI
	err := h.dl.MO(in)
	in.Source, in.Dest = src, dst
	return err
}
