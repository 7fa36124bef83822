package flow

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// A state write of an accepted message that the store refuses (its device
// full or failing: the log's urgent room does not help then) is not
// dropped: an acceptance (with the outcome a simulator decided) or a
// failure decided here waits in memory and Sweep offers it to the store
// again, oldest first, until the store takes it. Bounded by
// maxUnkeptStates; past that one is lost, counted and logged. A crash
// loses what waits here: the message then goes again at the next start
// (its record still has its body), at least once.

// maxUnkeptStates bounds the state writes waiting for the store.
const maxUnkeptStates = 1 << 16

// unkeptState is one state write: SetAccepted (accepted), SetState, or
// (ack set) the removal of a submit_multi destination's held copy.
type unkeptState struct {
	accepted bool
	id       msg.ID
	st       msg.State
	code     uint16
	at       int64
	ack      storage.HeldKey
}

type unkeptStates struct {
	mu   sync.Mutex
	q    []unkeptState
	n    atomic.Int64
	kept atomic.Uint64
	lost atomic.Uint64
}

// storeFailed reports whether err is the store's failure to write, not
// an answer about the record (gone, or final already).
func storeFailed(err error) bool {
	return err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrFinal)
}

// unkeptWrite keeps a state write the store refused with err, for Sweep
// to try again (counted; past maxUnkeptStates lost, counted and logged).
func (h *Hub) unkeptWrite(w unkeptState, err error) {
	u := &h.unkept
	u.mu.Lock()
	full := len(u.q) >= maxUnkeptStates
	if !full {
		u.q = append(u.q, w)
		u.n.Add(1)
	}
	u.mu.Unlock()
	if full {
		u.lost.Add(1)
		if e := h.event(&h.warn.unkept, zerologError); e != nil {
			e.Stringer("id", w.id).Err(err).Uint64("unkept_lost_total", u.lost.Load()).
				Msg("state not written by the store and too many wait already: lost (the message may go again after a restart)")
		}
		return
	}
	if e := h.event(&h.warn.unkept, zerologWarn); e != nil {
		e.Stringer("id", w.id).Err(err).Int64("waiting", u.n.Load()).
			Msg("state not written by the store now: kept in memory and written once the store takes it")
	}
}

// retryStates offers the waiting state writes to the store again, oldest
// first, and stops at the first it still refuses (Sweep).
func (h *Hub) retryStates() {
	u := &h.unkept
	if u.n.Load() == 0 {
		return
	}
	u.mu.Lock()
	batch := u.q
	u.q = nil
	u.mu.Unlock()
	i := 0
	for ; i < len(batch); i++ {
		w := &batch[i]
		var err error
		if w.ack != 0 {
			err = h.opts.Holds.Ack(w.ack)
		} else if w.accepted {
			err = h.msgs.SetAccepted(w.id, w.st, w.code, w.at)
		} else {
			err = h.msgs.SetState(w.id, w.st, w.code, w.at)
		}
		if storeFailed(err) {
			break
		}
		u.kept.Add(1)
	}
	u.n.Add(-int64(i))
	if i < len(batch) {
		u.mu.Lock()
		u.q = append(batch[i:], u.q...)
		u.mu.Unlock()
	}
}
