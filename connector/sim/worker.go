package sim

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

const (
	// batchSize is the most messages popped off the ring at once.
	batchSize = 256
	// batchesPerStep bounds one step's ring work, so due receipts go out
	// between batches even while producers keep the ring busy.
	batchesPerStep = 16
	// helpBatches and helpWork bound a helper's step (ring batches; held
	// messages released plus receipts emitted): it runs on an event loop,
	// which must get back to its sessions; what is left wakes the worker.
	helpBatches = 2
	helpWork    = 512
	// regIntermediate is registered_delivery's intermediate notification
	// bit (SMPP 3.4 §5.2.17; the bit pattern is xxx1xxxx).
	regIntermediate = 0x10
	// regFinal is its final receipt bits (xxxxxx01, 10 and 11 ask for one
	// on some outcome).
	regFinal = 0x03
	// minSleep is the shortest timer wait: due work may run this late.
	minSleep = 50 * time.Microsecond
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

// worker is the simulator's goroutine and its state. mu guards every
// field below it: the goroutine holds it while it steps, and Help runs
// steps on other goroutines under it.
type worker struct {
	mu sync.Mutex

	c       *Connector
	set     *settings
	sink    connector.Sink
	holdCap int // most messages in lat and sched together

	batch []*msg.Message
	lat   fifo[inflight] // due times in pop order: non-decreasing
	sched schedHeap
	rcpts fifo[pending]
	rng   *rand.Rand

	idbuf []byte
	rcpt  msg.Receipt
	echo  echo

	timer    *time.Timer
	stopping bool
	stopCtx  context.Context
	stopDone <-chan struct{} // nil until Stop

	// armed is the due time the goroutine's timer was set for (hasArmed
	// false: no timer, it sleeps until rung); finished is set once the
	// goroutine has done its last step. Both under mu.
	armed    int64
	hasArmed bool
	finished bool
}

// helpStep runs one step for Help; the caller holds mu, which helpStep
// releases. It reports whether the goroutine must be woken: work is still
// queued, or something falls due before its timer.
func (w *worker) helpStep() (wake bool) {
	defer w.mu.Unlock()
	if w.finished {
		return false
	}
	now := w.set.clock()
	more := w.stepN(now, helpBatches, helpWork)
	next, ok := w.next()
	return more || w.c.ring.Len() > 0 || ok && (next <= now || !w.hasArmed || next < w.armed)
}

func newWorker(c *Connector, sink connector.Sink) *worker {
	w := &worker{
		c:       c,
		set:     &c.set,
		sink:    sink,
		holdCap: c.ring.Cap(),
		batch:   make([]*msg.Message, 0, batchSize),
		rcpts:   newFIFO[pending](c.set.maxPending, initialPending),
		rng:     rand.New(rand.NewPCG(c.set.seed, c.set.seed^0x9e3779b97f4a7c15)),
		idbuf:   make([]byte, 0, msg.HexLen),
		echo:    echo{prefixes: c.set.prefixes},
	}
	w.lat = newFIFO[inflight](w.holdCap, 64)
	return w
}

// held is the number of messages waiting for Latency or a schedule.
func (w *worker) held() int { return w.lat.len() + w.sched.len() }

// run is the worker goroutine: step, then sleep until a push, the next due
// time or Stop.
func (w *worker) run() {
	c := w.c
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	stopReq := c.stopReq
	cut := false
	for !cut {
		w.mu.Lock()
		more := w.step(w.set.clock())
		if w.stopping && w.idle() {
			w.mu.Unlock()
			break
		}
		if more {
			w.mu.Unlock()
			select {
			case <-w.stopDone: // nil before Stop: never ready
				cut = true
			default:
			}
			continue
		}
		var tick <-chan time.Time
		next, ok := w.next()
		w.armed, w.hasArmed = next, ok
		w.mu.Unlock()
		if ok {
			// The real timer only wakes the worker; what is due is decided
			// by the (possibly injected) clock at the next step. The floor
			// keeps a clock that does not move (a test's) from spinning us.
			w.timer.Reset(max(time.Duration(next-w.set.clock()), minSleep))
			tick = w.timer.C
		}
		select {
		case <-c.notify.C():
			c.notify.Clear()
		case <-tick:
		case ctx := <-stopReq:
			w.stopping, w.stopCtx, w.stopDone, stopReq = true, ctx, ctx.Done(), nil
		case <-w.stopDone:
			cut = true
		}
	}
	w.timer.Stop()
	if cut {
		c.workerErr = w.stopCtx.Err()
	}
	w.mu.Lock()
	w.finish(w.set.clock())
	w.finished = true
	w.mu.Unlock()
	close(c.done)
}

// idle reports whether nothing is queued, held or pending.
func (w *worker) idle() bool {
	return w.c.ring.Len() == 0 && w.held() == 0 && w.rcpts.len() == 0
}

// next returns the earliest time something held or pending falls due.
func (w *worker) next() (int64, bool) {
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

// step does everything due at now: held messages, up to batchesPerStep
// batches off the ring (while there is room to hold them), then every due
// receipt. It reports whether the ring still has messages it could take
// now.
func (w *worker) step(now int64) bool { return w.stepN(now, batchesPerStep, -1) }

// stepN is step with at most batches batches off the ring and at most
// work held messages released and due receipts emitted (< 0: all).
func (w *worker) stepN(now int64, batches, work int) (more bool) {
	c := w.c
	work = w.release(now, work)
	for b := 0; b < batches; b++ {
		room := min(w.holdCap-w.held(), batchSize)
		if room <= 0 {
			break
		}
		batch := c.ring.PopBatch(w.batch[:0:room])
		if len(batch) == 0 {
			break
		}
		c.submitted.Add(uint64(len(batch)))
		for i, m := range batch {
			batch[i] = nil
			if !m.Claim() {
				w.fail(m, 0, msg.StateDeleted)
				continue
			}
			w.route(m, now, now)
		}
		if b == batches-1 {
			more = c.ring.Len() > 0 && w.held() < w.holdCap
		}
		now = w.set.clock()
	}
	work = w.release(now, work)
	w.emitDue(now, work)
	c.held.Store(int64(w.held()))
	c.pending.Store(int64(w.rcpts.len()))
	return more
}

// route decides what happens to m, which the worker has just claimed; at
// is when it came off the ring.
func (w *worker) route(m *msg.Message, at, now int64) {
	due := max(m.Schedule, at) + w.set.latency
	exp := m.Expires
	switch {
	case exp != 0 && exp <= due:
		if exp <= now {
			w.fail(m, 0, msg.StateExpired)
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
			w.fail(e.m, 0, msg.StateDeleted)
			continue
		}
		w.route(e.m, e.at, now) // re-read: replace_sm may have moved it
	}
	return limit
}

// accept reports m accepted at at, releases it, queues its final receipt
// and echoes the MO. Precondition: m is claimed.
func (w *worker) accept(m *msg.Message, at int64) {
	c, set := w.c, w.set
	id := m.ID
	o := w.draw()
	// The outcome is decided now: it goes with the acceptance, and only a
	// message that asked for a final receipt gets one later.
	wantsFinal := m.RegisteredDelivery&regFinal != 0
	m.FinalState, m.FinalErr, m.FinalAt = o.State(), set.codes[o], at+set.receiptDelay
	w.idbuf = id.AppendHex(w.idbuf[:0])
	m.AcceptedAt = at // the batch's clock reading: spares the sink one
	w.sink.Accepted(m, w.idbuf)
	c.accepted.Add(1)
	if set.intermediate && m.RegisteredDelivery&regIntermediate != 0 {
		w.rcpt = msg.Receipt{ID: id, Connector: set.id, State: msg.StateEnroute, Intermediate: true}
		w.sink.Receipt(&w.rcpt)
		c.receipts.Add(1)
		c.intermediate.Add(1)
	}
	var mo *msg.Inbound
	if len(w.echo.prefixes) > 0 && w.echo.match(m.Dest) {
		mo = w.echo.fill(m, c.name, at)
	}
	m.Release()

	if !wantsFinal {
		c.outcomes[o].Add(1)
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
		w.sink.MO(mo)
		c.mo.Add(1)
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

// emitDue reports up to limit final receipts due at now (< 0: all).
func (w *worker) emitDue(now int64, limit int) {
	for ; limit != 0 && w.rcpts.len() > 0 && w.rcpts.front().due <= now; limit-- {
		p := w.rcpts.pop()
		w.emit(p.id, p.outcome, p.due)
	}
}

// emit reports the final receipt of id.
func (w *worker) emit(id msg.ID, o Outcome, done int64) {
	w.rcpt = msg.Receipt{ID: id, Connector: w.set.id, State: o.State(), Err: w.set.codes[o], Done: done, At: done}
	w.sink.Receipt(&w.rcpt)
	w.c.receipts.Add(1)
	w.c.outcomes[o].Add(1)
}

// fail reports m as not delivered and releases it.
func (w *worker) fail(m *msg.Message, status uint32, state msg.State) {
	w.sink.Failed(m, status, state)
	switch state {
	case msg.StateDeleted:
		w.c.deleted.Add(1)
	case msg.StateExpired:
		w.c.expired.Add(1)
	default:
		w.c.shutdown.Add(1)
	}
	m.Release()
}

// shutdown reports a message the worker still holds at the end of Stop.
// claimed says whether the worker holds the claim already.
func (w *worker) shutdown(m *msg.Message, claimed bool, now int64) {
	switch {
	case !claimed && !m.Claim():
		w.fail(m, 0, msg.StateDeleted)
	case m.Expires != 0 && m.Expires <= now:
		w.fail(m, 0, msg.StateExpired)
	default:
		w.fail(m, connector.StatusShutdown, msg.StateUnknown)
	}
}

// finish ends a Stop: every message still queued or held is reported, and
// every pending receipt is emitted now (see the package doc).
func (w *worker) finish(now int64) {
	c := w.c
	for {
		batch := c.ring.PopBatch(w.batch[:0])
		if len(batch) == 0 {
			break
		}
		c.submitted.Add(uint64(len(batch)))
		for i, m := range batch {
			batch[i] = nil
			w.shutdown(m, false, now)
		}
	}
	for w.lat.len() > 0 {
		w.shutdown(w.lat.pop().m, true, now)
	}
	for w.sched.len() > 0 {
		w.shutdown(w.sched.pop().m, false, now)
	}
	for w.rcpts.len() > 0 {
		p := w.rcpts.pop()
		w.emit(p.id, p.outcome, min(p.due, now))
	}
	c.held.Store(0)
	c.pending.Store(0)
}
