package sim

import (
	"math/rand/v2"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

const (
	// regIntermediate is registered_delivery's intermediate notification
	// bit (SMPP 3.4 §5.2.17; the bit pattern is xxx1xxxx).
	regIntermediate = 0x10
	// regFinal is its final receipt bits (xxxxxx01, 10 and 11 ask for one
	// on some outcome).
	regFinal = 0x03
	// initialPending is the receipt FIFO's first size (it doubles as needed).
	initialPending = 1024
)

// inflight is a claimed message waiting out Latency until due.
type inflight struct {
	m   *msg.Message
	due int64
}

// pending is a final receipt waiting for its due time: 24 bytes.
type pending struct {
	id      msg.ID
	due     int64
	outcome Outcome
}

// worker is the simulator's connector.Driver: the messages it holds and
// the receipts it owes. The Runtime calls it under its lock, from its
// goroutine or an event loop helping it, so nothing here is locked.
type worker struct {
	connector.BuiltinDriver

	c       *Connector
	rt      *connector.Runtime
	set     *settings
	holdCap int // most messages in lat and sched together

	lat   fifo[inflight] // due times in pop order: non-decreasing
	sched schedHeap
	rcpts fifo[pending]
	rng   *rand.Rand

	idbuf []byte
	rcpt  msg.Receipt
	echo  echo
}

func newWorker(c *Connector, holdCap int) *worker {
	w := &worker{
		c:     c,
		set:   &c.set,
		rcpts: newFIFO[pending](c.set.maxPending, initialPending),
		rng:   rand.New(rand.NewPCG(c.set.seed, c.set.seed^0x9e3779b97f4a7c15)),
		idbuf: make([]byte, 0, msg.HexLen),
		echo:  echo{prefixes: c.set.prefixes},
	}
	w.setHold(holdCap)
	return w
}

// setHold bounds the messages held to holdCap (the queue's capacity, known
// once the Runtime is built).
func (w *worker) setHold(holdCap int) {
	w.holdCap = holdCap
	w.lat = newFIFO[inflight](max(holdCap, 1), 64)
}

// held is the number of messages waiting for Latency or a schedule.
func (w *worker) held() int { return w.lat.len() + w.sched.len() }

// Room implements connector.Driver: the hold is bounded by the queue's
// capacity, so the simulator owns at most twice that.
func (w *worker) Room() int { return w.holdCap - w.held() }

// Send implements connector.Driver: each message is claimed (a cancelled
// one is reported deleted) and routed.
func (w *worker) Send(batch []*msg.Message, now int64) {
	for _, m := range batch {
		if !m.Claim() {
			w.rt.Fail(m, 0, msg.StateDeleted)
			continue
		}
		w.route(m, now, now)
	}
}

// Due implements connector.Driver: held messages due at now, then due
// receipts, budget units in all (< 0: all).
func (w *worker) Due(now int64, budget int) int {
	budget = w.release(now, budget)
	return w.emitDue(now, budget)
}

// Busy implements connector.Driver: pending receipts keep a drain going.
func (w *worker) Busy() bool { return w.rcpts.len() > 0 }

// Next implements connector.Driver: the earliest time something held or
// pending falls due.
func (w *worker) Next() (int64, bool) {
	var t int64
	ok := false
	if w.lat.len() > 0 {
		t, ok = w.lat.front().due, true
	}
	if w.sched.len() > 0 && (!ok || w.sched.top().key < t) {
		t, ok = w.sched.top().key, true
	}
	if w.rcpts.len() > 0 && (!ok || w.rcpts.front().due < t) {
		t, ok = w.rcpts.front().due, true
	}
	return t, ok
}

// route decides what happens to m, which the worker has just claimed; at
// is when it came off the queue.
func (w *worker) route(m *msg.Message, at, now int64) {
	due := max(m.Schedule, at) + w.set.latency
	exp := m.Expires
	switch {
	case exp != 0 && exp <= due:
		if exp <= now {
			w.rt.Fail(m, 0, msg.StateExpired)
			return
		}
		m.Requeue()
		w.sched.push(waiting{m: m, key: exp, at: at})
	case due <= now:
		w.accept(m, due)
	case at == now && m.Schedule <= at && w.lat.push(inflight{m: m, due: due}):
		// Fresh off the ring, waiting for Latency only: the FIFO stays
		// ordered because pop times do not go backwards. (It cannot be
		// full: step pops no more than the hold has room for.)
	default:
		m.Requeue()
		w.sched.push(waiting{m: m, key: due, at: at})
	}
}

// release handles the held messages due at now.
// It handles at most limit of them (< 0: all) and returns what is left of
// limit.
func (w *worker) release(now int64, limit int) int {
	for ; limit != 0 && w.lat.len() > 0 && w.lat.front().due <= now; limit-- {
		e := w.lat.pop()
		w.accept(e.m, e.due)
	}
	for ; limit != 0 && w.sched.len() > 0 && w.sched.top().key <= now; limit-- {
		e := w.sched.pop()
		if !e.m.Claim() {
			w.rt.Fail(e.m, 0, msg.StateDeleted)
			continue
		}
		w.route(e.m, e.at, now) // re-read: replace_sm may have moved it
	}
	return limit
}

// accept reports m accepted at at (which releases it), queues its final
// receipt and echoes the MO. Precondition: m is claimed.
func (w *worker) accept(m *msg.Message, at int64) {
	c, set := w.c, w.set
	id := m.ID
	o := w.draw()
	// The outcome is decided now: it goes with the acceptance, and only a
	// message that asked for a final receipt gets one later.
	wantsFinal := m.RegisteredDelivery&regFinal != 0
	intermediate := set.intermediate && m.RegisteredDelivery&regIntermediate != 0
	m.FinalState, m.FinalErr, m.FinalAt = o.State(), set.codes[o], at+set.receiptDelay
	var mo *msg.Inbound
	if len(w.echo.prefixes) > 0 && w.echo.match(m.Dest) {
		mo = w.echo.fill(m, w.rt.Name(), at) // copies: m is released by Accept
	}
	w.idbuf = id.AppendHex(w.idbuf[:0])
	m.AcceptedAt = at // the batch's clock reading: spares the sink one
	w.rt.AcceptInStep(m, w.idbuf)
	if intermediate {
		w.rcpt = msg.Receipt{ID: id, Connector: set.id, State: msg.StateEnroute, Intermediate: true}
		w.rt.ReceiptInStep(&w.rcpt)
		c.intermediate.Add(1)
	}

	if !wantsFinal {
		c.outcomes.add(o)
	} else if set.receiptDelay == 0 {
		w.emit(id, o, at)
	} else {
		if w.rcpts.full() {
			p := w.rcpts.pop()
			c.early.Add(1)
			w.emit(p.id, p.outcome, min(p.due, at))
		}
		w.rcpts.push(pending{id: id, due: at + set.receiptDelay, outcome: o})
	}
	if mo != nil {
		w.rt.MO(mo)
	}
}

// draw picks an outcome by the configured weights.
func (w *worker) draw() Outcome {
	if w.set.single {
		return w.set.only
	}
	x := w.rng.Uint64N(w.set.total)
	for i, c := range w.set.cum {
		if x < c {
			return Outcome(i)
		}
	}
	return w.set.only // unreachable: x < total == cum[last]
}

// emitDue reports up to limit final receipts due at now (< 0: all) and
// returns what is left of limit.
func (w *worker) emitDue(now int64, limit int) int {
	for ; limit != 0 && w.rcpts.len() > 0 && w.rcpts.front().due <= now; limit-- {
		p := w.rcpts.pop()
		w.emit(p.id, p.outcome, p.due)
	}
	return limit
}

// emit reports the final receipt of id.
func (w *worker) emit(id msg.ID, o Outcome, done int64) {
	w.rcpt = msg.Receipt{ID: id, Connector: w.set.id, State: o.State(), Err: w.set.codes[o], Done: done, At: done}
	w.rt.ReceiptInStep(&w.rcpt)
	w.c.outcomes.add(o)
}

// Close implements connector.Driver, at the end of Stop: every message
// still held is abandoned (the Runtime's shutdown rule), and every pending
// receipt is emitted now, Done = the stop time at the latest: its final
// state was decided at acceptance, so reporting it beats leaving the
// record ENROUTE.
func (w *worker) Close(now int64) {
	for w.lat.len() > 0 {
		w.rt.Abandon(w.lat.pop().m, now)
	}
	for w.sched.len() > 0 {
		w.rt.Abandon(w.sched.pop().m, now)
	}
	for w.rcpts.len() > 0 {
		p := w.rcpts.pop()
		w.emit(p.id, p.outcome, min(p.due, now))
	}
}
