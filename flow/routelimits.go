package flow

import (
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/policy"
)

// takeLimits takes the message's parts from the policy's bucket of its
// sender (source_addr as the policy left it) and of its route, after the
// user's own checks and before its throughput is charged; ok is false,
// with the refusal, when either bucket is empty (nothing taken then).
func (h *Hub) takeLimits(s *submission) (codec.Status, Refusal, bool) {
	switch h.opts.Limits.Take(s.src, s.route, s.parts, s.nowNs) {
	case policy.SenderLimit:
		return codec.StatusThrottled, RefuseSenderTPS, false
	case policy.RouteLimit:
		return codec.StatusThrottled, RefuseRouteTPS, false
	}
	return codec.StatusOK, 0, true
}

// giveLimits returns what takeLimits took for a message refused later.
func (h *Hub) giveLimits(s *submission) {
	h.opts.Limits.Give(s.src, s.route, s.parts, s.nowNs)
}
