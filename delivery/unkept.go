package delivery

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// A receipt whose source cannot send it again (the simulator's, one
// re-driven at start, a failure decided here: anything without
// msg.Receipt.Resends) must not be dropped when the store cannot keep it
// now (its device full or failing, its held items full): it waits here,
// in memory, and the background goroutine offers it to the store again
// every round, oldest first, until the store takes it. Bounded by
// MaxWaiting; past that a new one is dropped, counted and logged. A crash
// loses what waits here, except the simulator's receipts, whose outcome
// the record kept at acceptance: the next start sends them again.

// unkeptKind says how far an unkept receipt got.
type unkeptKind uint8

const (
	// unkeptReceipt goes the whole way again: record, keep, deliver.
	unkeptReceipt unkeptKind = iota
	// unkeptState: its receipt deliver_sm is held; only its final state
	// is still to be recorded.
	unkeptState
	// unkeptFailed: a failure decided here (FailedReceipt), its state the
	// hub's to record; only its receipt is still to be kept.
	unkeptFailed
)

type unkeptItem struct {
	kind unkeptKind
	r    msg.Receipt // views cleared
}

// unkeptQueue is a FIFO: any goroutine adds, only the background
// goroutine takes (front, then pop once the store took it).
type unkeptQueue struct {
	mu    sync.Mutex
	items []unkeptItem
	head  int
	n     atomic.Int64
}

// add queues r unless max items wait already.
func (q *unkeptQueue) add(kind unkeptKind, r *msg.Receipt, max int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items)-q.head >= max {
		return false
	}
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	c := *r
	c.UpstreamID, c.Raw = nil, nil
	q.items = append(q.items, unkeptItem{kind: kind, r: c})
	q.n.Add(1)
	return true
}

// front copies the oldest item into out; false when none waits.
func (q *unkeptQueue) front(out *unkeptItem) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		return false
	}
	*out = q.items[q.head]
	return true
}

// pop drops the oldest item.
func (q *unkeptQueue) pop() {
	q.mu.Lock()
	q.items[q.head] = unkeptItem{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.mu.Unlock()
	q.n.Add(-1)
}

// unkept keeps r for the background goroutine to try again (counted and
// logged; past MaxWaiting waiting ones it is lost, counted and logged).
func (h *Service) unkept(kind unkeptKind, r *msg.Receipt, err error) {
	if !h.unkeptQ.add(kind, r, h.opts.MaxWaiting) {
		h.stats.unkeptLost.Add(1)
		if e := h.event(&h.warn.unkept, zerologError); e != nil {
			e.Stringer("id", r.ID).Err(err).Uint64("unkept_lost_total", h.stats.unkeptLost.Load()).
				Int("waiting", int(h.unkeptQ.n.Load())).
				Msg("receipt not kept by the store and max_waiting receipts already wait for it: lost")
		}
		return
	}
	h.stats.unkept.Add(1)
	if e := h.event(&h.warn.unkept, zerologWarn); e != nil {
		e.Stringer("id", r.ID).Err(err).Uint64("unkept_total", h.stats.unkept.Load()).
			Int("waiting", int(h.unkeptQ.n.Load())).
			Msg("receipt not kept by the store now: kept in memory and tried again until the store takes it")
	}
}

// retryUnkept offers the waiting receipts to the store again, oldest
// first, and stops at the first the store still refuses (background
// goroutine).
func (h *Service) retryUnkept() {
	if h.unkeptQ.n.Load() == 0 {
		return
	}
	var u unkeptItem
	for h.unkeptQ.front(&u) {
		if err := h.settleUnkept(&u); err != nil {
			return
		}
		h.unkeptQ.pop()
		h.stats.unkeptKept.Add(1)
	}
}

// settleUnkept tries one unkept item; nil when it is settled (kept, or
// nothing more to do), the store's error otherwise.
func (h *Service) settleUnkept(u *unkeptItem) error {
	e := h.getEncoder()
	defer h.putEncoder(e)
	switch u.kind {
	case unkeptState:
		err := h.msgs.Finish(u.r.ID, u.r.State, u.r.Err, u.r.Done, &e.rec)
		switch {
		case err == nil:
			h.final(&u.r, u.r.Done)
			h.delivered(e, u.r.State)
		case errors.Is(err, storage.ErrFinal), errors.Is(err, storage.ErrNotFound):
		default:
			return err
		}
		return nil
	case unkeptFailed:
		if err := h.msgs.Get(u.r.ID, &e.rec); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			return err
		}
		return h.sendReceipt(e, &e.rec, &dlr.Report{State: u.r.State, Err: u.r.Err, Done: u.r.Done}, 0)
	}
	return h.receipt(e, &u.r)
}

// Unkept is the number of receipts waiting in memory for the store to
// take them (a store device full or failing).
func (h *Service) Unkept() int { return int(h.unkeptQ.n.Load()) }
