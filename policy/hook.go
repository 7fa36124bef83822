package policy

import "github.com/smppd/smppd/codec"

// Hook is the traffic policy as the MT hub runs it (flow.Policy): the
// policy in force, read from Holder at each call, and the [[limit]]
// buckets. Its methods speak msg and codec only, so the hub need not
// import this package. A nil Holder or Limits is none; a nil *Hook
// passes everything.
type Hook struct {
	Holder *Holder
	Limits *Limits
}

// Active reports whether a policy is in force.
func (k *Hook) Active() bool { return k != nil && k.Holder.Load() != nil }

// MT runs the policy in force on an MT message (Policy.MT).
func (k *Hook) MT(m *Msg) (Action, codec.Status, string) {
	if k == nil {
		return Pass, codec.StatusOK, ""
	}
	v := k.Holder.Load().MT(m)
	return v.Action, v.Status, v.Stage
}

// Outbound rewrites an MT message routed to connector into that
// connector's outbound form (Policy.Outbound).
func (k *Hook) Outbound(connector string, m *Msg) bool {
	return k != nil && k.Holder.Load().Outbound(connector, m)
}

// MO runs the policy in force on an MO message (Policy.MO).
func (k *Hook) MO(m *Msg) (Action, codec.Status, string) {
	if k == nil {
		return Pass, codec.StatusOK, ""
	}
	v := k.Holder.Load().MO(m)
	return v.Action, v.Status, v.Stage
}

// Take takes n parts from the buckets of sender src and of route
// (Limits.Take), saying which one was empty if either was.
func (k *Hook) Take(src []byte, route string, n int, now int64) (senderFull, routeFull bool) {
	if k == nil {
		return false, false
	}
	switch k.Limits.Take(src, route, n, now) {
	case SenderLimit:
		return true, false
	case RouteLimit:
		return false, true
	}
	return false, false
}

// Give returns what Take took (Limits.Give).
func (k *Hook) Give(src []byte, route string, n int, now int64) {
	if k != nil {
		k.Limits.Give(src, route, n, now)
	}
}
