package delivery

import "github.com/smppd/smppd/msg"

// Finals is told of each final state a receipt records, once per message
// (a late or duplicate receipt reports nothing): package cdr's Stream,
// wired by cmd/smppd beside flow.Options.Finals. Final runs on connector
// goroutines: it must not block.
type Finals interface {
	Final(f msg.Final)
}

// final reports the final state r recorded (done: its done time).
func (h *Service) final(r *msg.Receipt, done int64) {
	if f := h.opts.Finals; f != nil {
		f.Final(msg.Final{ID: r.ID, State: r.State, Err: r.Err, Done: done, UpstreamID: r.UpstreamID})
	}
}

// RouteCounter counts delivered messages per MT route
// (*policy.RouteCounts). Delivered must not block.
type RouteCounter interface {
	Delivered(route string)
}

// delivered counts a final DELIVRD receipt on the route of e.rec, the
// record Finish returned (with Durable, the one read before the state).
// For a message without registered_delivery Finish's short form leaves
// the route out, so it is read again into
// e.rec (on the connector's goroutine; e.rec is not used after).
func (h *Service) delivered(e *encoder, st msg.State) {
	if st != msg.StateDelivered || h.opts.RouteCounts == nil {
		return
	}
	if e.rec.MTRoute == "" && e.rec.RegisteredDelivery == 0 {
		if h.msgs.Get(e.rec.ID, &e.rec) != nil {
			e.rec.MTRoute = ""
		}
	}
	h.opts.RouteCounts.Delivered(e.rec.MTRoute)
}

// logAddr returns addr as log lines show it: with Options.LogPrivacy its
// middle digits masked (appended to dst), as it is otherwise.
func (h *Service) logAddr(dst, addr []byte) []byte {
	if !h.opts.LogPrivacy {
		return addr
	}
	return msg.MaskAddr(dst, addr)
}
