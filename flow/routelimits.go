package flow

import "github.com/smppd/smppd/codec"

// takeLimits takes the message's parts from the policy's bucket of its
// sender (source_addr as the policy left it) and of its route, after the
// user's own checks and before its throughput is charged; ok is false,
// with the refusal, when either bucket is empty (nothing taken then).
func (h *Hub) takeLimits(s *submission) (codec.Status, Refusal, bool) {
	p := h.opts.Policy
	if p == nil {
		return codec.StatusOK, 0, true
	}
	switch sender, route := p.Take(s.src, s.route, s.parts, s.nowNs); {
	case sender:
		return codec.StatusThrottled, RefuseSenderTPS, false
	case route:
		return codec.StatusThrottled, RefuseRouteTPS, false
	}
	return codec.StatusOK, 0, true
}

// giveLimits returns what takeLimits took for a message refused later.
func (h *Hub) giveLimits(s *submission) {
	if p := h.opts.Policy; p != nil {
		p.Give(s.src, s.route, s.parts, s.nowNs)
	}
}
