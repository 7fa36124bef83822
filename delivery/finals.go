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

// logAddr returns addr as log lines show it: with Options.LogPrivacy its
// middle digits masked (appended to dst), as it is otherwise.
func (h *Service) logAddr(dst, addr []byte) []byte {
	if !h.opts.LogPrivacy {
		return addr
	}
	return msg.MaskAddr(dst, addr)
}
