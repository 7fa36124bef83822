package flow

import (
	"errors"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// noteStore counts and logs (throttled) a store call that failed. nil,
// storage.ErrNotFound (a record evicted or past its lifetime is no failure
// of the store) and storage.ErrFinal (the first final state won; the store
// counts those) pass. op names the call in the log line: put (a submit
// refused ESME_RMSGQFUL), state, accepted, delete, replace, upstream_id,
// refund, recover (delivery counts its own store calls).
func (h *Hub) noteStore(err error, op string, id msg.ID) {
	if err == nil || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrFinal) {
		return
	}
	h.stats.storeErrors.Add(1)
	if e := h.event(&h.warn.store, zerologError); e != nil {
		e.Str("op", op).Stringer("id", id).Err(err).Uint64("store_errors_total", h.stats.storeErrors.Load()).
			Msg("store call failed")
	}
}
