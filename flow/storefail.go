package flow

import (
	"errors"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// noteStore counts and logs (throttled) a store call that failed. nil and
// storage.ErrNotFound pass: a record evicted or past its lifetime is no
// failure of the store. op names the call in the log line: put (a submit
// refused ESME_RMSGQFUL), state, accepted, delete, replace, upstream_id
// (delivery counts its own store calls).
func (h *Hub) noteStore(err error, op string, id msg.ID) {
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		return
	}
	h.stats.storeErrors.Add(1)
	if e := h.event(&h.warn.store, zerologError); e != nil {
		e.Str("op", op).Stringer("id", id).Err(err).Uint64("store_errors_total", h.stats.storeErrors.Load()).
			Msg("store call failed")
	}
}
