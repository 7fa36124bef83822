package flow

import (
	"errors"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Finals is told of each accepted MT message's final state, once: package
// cdr's Stream, wired by cmd/smppd. The hub reports the states it records
// (Accepted with a state decided at acceptance and no receipt to come,
// Failed, cancel_sm); receipts report theirs through
// delivery.Options.Finals. Final runs on event loops and connector
// goroutines: it must not block.
type Finals interface {
	Final(f msg.Final)
}

// final reports a final state after the store write that recorded it
// returned err: nothing when an earlier final state won (ErrFinal) or the
// record is gone (ErrNotFound). A write that failed otherwise still
// reports: the message's fate is final even though the store lost it.
func (h *Hub) final(err error, id msg.ID, st msg.State, code uint16, done int64, upstreamID []byte, refunded bool) {
	f := h.opts.Finals
	if f == nil || errors.Is(err, storage.ErrFinal) || errors.Is(err, storage.ErrNotFound) {
		return
	}
	f.Final(msg.Final{ID: id, State: st, Err: code, Done: done, UpstreamID: upstreamID, Refunded: refunded})
}

// logAddr returns addr as log lines show it: with Options.LogPrivacy its
// middle digits masked (appended to dst), as it is otherwise.
func (h *Hub) logAddr(dst, addr []byte) []byte {
	if !h.opts.LogPrivacy {
		return addr
	}
	return msg.MaskAddr(dst, addr)
}
