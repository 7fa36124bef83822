package engine

import (
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/timers"
)

// slot is one outstanding deliver_sm. Its response timer is embedded, so
// arming and cancelling allocate nothing.
type slot struct {
	s        *session
	d        *Delivery
	seq      uint32
	busy     bool
	attempts uint8
	t        timers.Timer
}

// window is a session's outbound request window (SMPP 3.4 §2.7): at most
// limit deliver_sm outstanding, kept in a power-of-two array indexed by
// sequence number (we choose our sequence numbers, so seq & mask finds the
// slot). Deliveries beyond the window wait in a bounded FIFO.
type window struct {
	slots []slot
	mask  uint32
	used  int
	limit int

	queue       []*Delivery // ring of waiting deliveries
	qHead, qLen int
	qCap        int // len(queue) once allocated

	s *session
}

// init sets the window up for a session. The arrays come with the first
// delivery (alloc): a transmitter, or an idle receiver, never needs them,
// and with tens of thousands of binds they would be most of the memory. A
// pooled session keeps the arrays it had.
func (w *window) init(s *session, limit, queue int) {
	w.s, w.limit, w.qCap = s, limit, queue
	w.used, w.qHead, w.qLen = 0, 0, 0
	if w.slots != nil && (len(w.queue) != queue || int(w.mask)+1 < limit) {
		w.slots, w.queue = nil, nil // settings changed: allocate anew
	}
}

func (w *window) alloc() {
	size := 1
	for size < w.limit {
		size <<= 1
	}
	w.slots = make([]slot, size)
	w.mask = uint32(size - 1)
	for i := range w.slots {
		w.slots[i].s = w.s
		w.slots[i].t.Arg = &w.slots[i]
		w.slots[i].t.Kind = tkSlot
	}
	w.queue = make([]*Delivery, w.qCap)
}

// enqueueDelivery sends d now if the window has room, queues it otherwise.
func (s *session) enqueueDelivery(d *Delivery) {
	w := &s.win
	if w.slots == nil {
		w.alloc()
	}
	if w.used < w.limit && w.qLen == 0 {
		s.sendDelivery(d, 0)
		s.l.markDirty(s)
		return
	}
	if w.qLen == len(w.queue) {
		s.l.srv.deliveryDone(d, 0, ErrQueueFull)
		return
	}
	w.queue[(w.qHead+w.qLen)%len(w.queue)] = d
	w.qLen++
}

// sendDelivery takes a free slot, appends the deliver_sm and arms its
// response timer. The caller checked w.used < w.limit.
func (s *session) sendDelivery(d *Delivery, attempts uint8) {
	w := &s.win
	var sl *slot
	for {
		seq := s.nextSeq()
		sl = &w.slots[seq&w.mask]
		if !sl.busy {
			sl.seq = seq
			break
		}
		// An old request still holds this slot: skip the number.
	}
	sl.busy, sl.d, sl.attempts = true, d, attempts+1
	w.used++
	s.delivers++
	s.appendRequest(codec.DeliverSMID, sl.seq, d.Body)
	opts := &s.l.srv.opts
	s.l.wheel.Schedule(&sl.t, opts.ResponseTimeout)
	if opts.SlowConsumerTimeout > 0 && !s.tStall.Active() {
		s.l.wheel.Schedule(&s.tStall, opts.SlowConsumerTimeout)
	}
}

// pump moves queued deliveries into free window slots.
func (s *session) pump() {
	w := &s.win
	sent := false
	for w.qLen > 0 && w.used < w.limit && s.state.canReceiveDeliver() {
		d := w.queue[w.qHead]
		w.queue[w.qHead] = nil
		w.qHead = (w.qHead + 1) % len(w.queue)
		w.qLen--
		s.sendDelivery(d, 0)
		sent = true
	}
	if sent {
		s.l.markDirty(s)
	}
}

// onResponse resolves the slot answered by deliver_sm_resp (or
// generic_nack) and reports whether one was; an unknown sequence is the
// caller's to drop. An answer restarts the stall clock (SlowConsumerTimeout):
// the receiver is consuming.
func (w *window) onResponse(seq uint32, st codec.Status) bool {
	if len(w.slots) == 0 {
		return false
	}
	sl := &w.slots[seq&w.mask]
	if !sl.busy || sl.seq != seq {
		return false
	}
	s := sl.s
	wheel := s.l.wheel
	wheel.Cancel(&sl.t)
	d := sl.d
	w.free(sl)
	if w.used == 0 {
		wheel.Cancel(&s.tStall)
	} else if t := s.l.srv.opts.SlowConsumerTimeout; t > 0 {
		wheel.Schedule(&s.tStall, t)
	}
	s.l.srv.deliveryDone(d, st, nil)
	s.pump()
	return true
}

func (w *window) free(sl *slot) {
	sl.busy, sl.d, sl.attempts = false, nil, 0
	w.used--
}

// onSlotTimeout: a deliver_sm went unanswered for ResponseTimeout. It is
// sent again under a new sequence number until DeliverAttempts sends were
// made (SMPP 3.4 §2.8: a request unanswered is assumed not received, so the
// peer may see a duplicate).
func (l *loop) onSlotTimeout(sl *slot) {
	s := sl.s
	srv := l.srv
	srv.stats.responseTimeouts.Add(1)
	d, attempts := sl.d, sl.attempts
	s.win.free(sl)
	srv.event(&srv.logs.timer, zerolog.WarnLevel).Str("event", "response_timeout").Str("cmd", "deliver_sm").Str("system_id", s.systemID).
		Str("remote", s.remote.String()).Uint8("attempt", attempts).Msg("deliver_sm unanswered")
	if int(attempts) < srv.opts.DeliverAttempts && s.state.canReceiveDeliver() {
		srv.stats.deliverRetries.Add(1)
		s.sendDelivery(d, attempts)
		l.markDirty(s)
		return
	}
	srv.deliveryDone(d, 0, ErrDeliveryExpired)
	s.pump()
}

// failAll reports every outstanding and queued delivery with err (session
// closing). Outstanding ones were written and may have reached the ESME:
// their owner sends them again, so each is counted as a possible duplicate.
func (w *window) failAll(err error) {
	for i := range w.slots {
		sl := &w.slots[i]
		if sl.busy {
			sl.s.l.srv.stats.deliverUnanswered.Add(1)
			sl.s.l.wheel.Cancel(&sl.t)
			d := sl.d
			w.free(sl)
			sl.s.l.srv.deliveryDone(d, 0, err)
		}
	}
	for w.qLen > 0 {
		d := w.queue[w.qHead]
		w.queue[w.qHead] = nil
		w.qHead = (w.qHead + 1) % len(w.queue)
		w.qLen--
		w.s.l.srv.deliveryDone(d, 0, err)
	}
	w.qHead = 0
}
