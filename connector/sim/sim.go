// Package sim is the embedded default upstream: a simulated SMSC inside the
// process. It accepts every message after a latency, reports a final
// receipt after a delay with a configured mix of outcomes, and echoes an MO
// back for destinations with a configured prefix.
//
// # Message path
//
// Submit pushes onto a lock-free MPSC ring and rings a doorbell (never
// blocks, allocates nothing). One worker goroutine pops in batches and, for
// each message:
//
//   - Claims it; a message cancelled while queued is reported
//     Sink.Failed(m, 0, StateDeleted).
//   - Works out when the simulated SMSC accepts it: due = max(Schedule, the
//     time it came off the ring) + Latency. A message whose validity ends
//     (Expires, when not 0) at or before due is reported Sink.Failed(m, 0,
//     StateExpired) once that time has come.
//   - Holds it until due: while it waits for Latency it stays claimed (it is
//     "upstream"); while it waits for a future Schedule it is Requeued, so
//     cancel_sm and replace_sm still act on it, and re-Claimed when due (a
//     replace that moved the schedule is honoured). A cancelled scheduled
//     message is reported when its time comes, not at the cancel.
//   - Sink.Accepted(m, our id as 16 hex digits), then, with Intermediate set
//     and registered_delivery & 0x10, an ENROUTE intermediate Sink.Receipt;
//     then m is released and, when its destination matches a prefix, the MO
//     echo goes to Sink.MO (Inbound.Connector = the simulator's name; its
//     views are worker scratch buffers, valid during the call).
//
// # Receipts
//
// The outcome is drawn at acceptance from Options.Outcomes with a seeded
// PRNG and travels with Sink.Accepted (Message.FinalState, FinalErr,
// FinalAt = acceptance + ReceiptDelay). A message whose registered_delivery
// asks for a final receipt (low two bits not 0) then gets its final
// Sink.Receipt ReceiptDelay after its acceptance (the flow hub decides
// whether that outcome is one the ESME wants); the others get none, the
// sink records the decided state instead.
// Since the delay is the same for every message, pending receipts form a
// FIFO of 24-byte entries (id, due, outcome) in a growing ring: no timer and
// no allocation per message. The FIFO is bounded by MaxPending; when it is
// full the oldest receipt is reported early, and counted.
//
// # Counters
//
// Stats.Submitted counts messages taken off the ring; each is still held
// or got exactly one of Accepted, Expired, Counters.Deleted or
// Counters.Shutdown. Stats.Refused
// stays 0: the simulator never refuses a submit_sm, and the UNDELIV,
// EXPIRED and REJECTD outcomes are receipts after an acceptance, not
// refusals (Counters.Outcomes counts them). Stats.Expired counts messages
// whose validity ended before acceptance (Sink.Failed), not EXPIRED
// receipts. Stats.Receipts counts every Sink.Receipt, intermediate ones
// included (also in Counters.Intermediate).
//
// # Stop
//
// Stop closes the gate (Submit returns false), then the worker goes on as
// before: it accepts what is queued or held as each comes due and emits
// receipts as they fall due, until nothing is left or ctx ends. At ctx end
// the messages still in the ring or held are reported Sink.Failed with
// StateUnknown and StatusShutdown (StateDeleted if cancelled, StateExpired
// if their validity has ended), and the receipts still pending are emitted
// at once, Done = the stop time: their final states were decided at
// acceptance, so reporting them beats leaving the records ENROUTE.
//
// # Goroutines
//
// Submit, SubmitQuiet, Help, Up, Stats and Counters from anywhere. The
// worker's state is guarded by a mutex: the worker goroutine holds it while
// it steps, and Help, after SubmitQuiet, runs a step on the caller's
// goroutine (an event loop, once its answers are written) when the mutex is
// free, so the messages stay in the cache of the core that received them
// and the worker sleeps through steady traffic. Sink calls come from
// whichever goroutine holds the mutex: never two from one simulator at
// once.
package sim

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/msg"
)

// cacheLine pads the fields producers write away from the worker's.
const cacheLine = 128

// gate bits: open while started and not stopping; the low bits count
// Submit calls in progress, so Stop can wait them out before the last drain.
const (
	gateOpen  int64 = 1 << 62
	gateCount int64 = gateOpen - 1
)

// Lifecycle states.
const (
	stateNew uint32 = iota
	stateRunning
	stateStopped
)

// Connector is one simulated SMSC. Build it with New.
type Connector struct {
	name   string
	set    settings
	ring   *ring.MPSC[*msg.Message]
	notify *ring.Notify

	_    [cacheLine]byte
	gate atomic.Int64 // written by every Submit
	_    [cacheLine - 8]byte
	full atomic.Uint64 // Submit refusals: ring full
	_    [cacheLine - 8]byte

	state     atomic.Uint32
	stopReq   chan context.Context
	done      chan struct{}
	stopOnce  sync.Once
	stopErr   error
	workerErr error // set by the worker before it closes done

	// Written by the worker only.
	submitted, accepted, expired, deleted, shutdown atomic.Uint64
	receipts, intermediate, mo, early               atomic.Uint64
	outcomes                                        [NumOutcomes]atomic.Uint64
	held, pending                                   atomic.Int64

	w atomic.Pointer[worker] // set at Start, for Help
}

var _ connector.Connector = (*Connector)(nil)

// Counters are the simulator's own counters, beside connector.Stats.
type Counters struct {
	Full          uint64              // Submit returned false: ring full
	Deleted       uint64              // cancelled while queued: Failed(StateDeleted)
	Shutdown      uint64              // still held at the end of Stop: Failed(StateUnknown)
	Intermediate  uint64              // ENROUTE intermediate receipts
	EarlyReceipts uint64              // reported before ReceiptDelay: MaxPending reached
	Outcomes      [NumOutcomes]uint64 // outcomes drawn at acceptance, receipt or not
	Held          int                 // messages waiting for Latency or a schedule
	Pending       int                 // final receipts waiting for ReceiptDelay
}

// New validates opts and builds a stopped simulator named name (the
// routing table's connector name, and Inbound.Connector of its MO).
func New(name string, opts Options) (*Connector, error) {
	if name == "" {
		return nil, ErrOptions
	}
	set, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if set.seed == 0 {
		set.seed = rand.Uint64()
	}
	r, err := ring.NewMPSC[*msg.Message](set.queue)
	if err != nil {
		return nil, err
	}
	return &Connector{
		name:    name,
		set:     set,
		ring:    r,
		notify:  ring.NewNotify(),
		stopReq: make(chan context.Context, 1),
		done:    make(chan struct{}),
	}, nil
}

// Name returns the configured name.
func (c *Connector) Name() string { return c.name }

// Start launches the worker; outcomes go to sink. Call it once, before
// Stop and not concurrently with it.
func (c *Connector) Start(sink connector.Sink) error {
	if sink == nil {
		return errNilSink
	}
	if !c.state.CompareAndSwap(stateNew, stateRunning) {
		if c.state.Load() == stateStopped {
			return errStopped
		}
		return errStarted
	}
	w := newWorker(c, sink)
	c.w.Store(w)
	go w.run()
	c.gate.Or(gateOpen)
	return nil
}

// Submit queues m. Safe from any goroutine; never blocks; allocates
// nothing. false means the ring is full (counted in Counters.Full) or the
// simulator is not running: m stays the caller's. On true the simulator
// owns m until Sink.Accepted or Sink.Failed returns.
func (c *Connector) Submit(m *msg.Message) bool {
	if !c.SubmitQuiet(m) {
		return false
	}
	c.notify.Ring()
	return true
}

// SubmitQuiet implements connector.Helped: Submit without waking the
// worker. The caller must call Help (or Poke) after its batch.
func (c *Connector) SubmitQuiet(m *msg.Message) bool {
	if m == nil {
		return false
	}
	if c.gate.Add(1)&gateOpen == 0 {
		c.gate.Add(-1)
		return false
	}
	ok := c.ring.TryPush(m)
	c.gate.Add(-1)
	if !ok {
		c.full.Add(1)
		return false
	}
	return true
}

// Help implements connector.Helped: when the worker is idle, the caller
// runs one step of its work (what is queued, held or pending and due now)
// under the worker's lock, and wakes the worker only if that leaves work
// queued or something falls due before the worker's timer. When the worker
// (or another helper) is busy, it wakes the worker. Never blocks.
func (c *Connector) Help() {
	w := c.w.Load()
	if w == nil || c.ring.Len() == 0 {
		return
	}
	if !w.mu.TryLock() {
		c.notify.Ring()
		return
	}
	if w.helpStep() {
		c.notify.Ring()
	}
}

// QueueFull implements connector.QueueReporter.
func (c *Connector) QueueFull() bool { return c.Up() && c.ring.Len() >= c.ring.Cap() }

// Up reports whether the simulator is started and not stopping. Lock-free.
func (c *Connector) Up() bool { return c.gate.Load()&gateOpen != 0 }

// Poke makes the worker read the clock again and act on whatever is due
// now. Tests and tools that drive an injected Options.Clock call it after
// moving the clock (the worker also wakes on its own, on a real timer set
// from the clock's readings). Any goroutine; never blocks.
func (c *Connector) Poke() { c.notify.Ring() }

// Stop closes the gate and waits for the worker to finish as the package
// doc describes (Stop). It returns ctx.Err() when ctx ended before the
// worker was done (messages were then reported StateUnknown), else nil.
// Later calls return the first call's result.
func (c *Connector) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Connector) stop(ctx context.Context) error {
	c.gate.And(^gateOpen)
	if c.state.Swap(stateStopped) != stateRunning {
		return nil // never started: Submit never took anything
	}
	for c.gate.Load()&gateCount != 0 {
		// A Submit that saw the gate open is pushing: let it finish so
		// the worker's last drain sees its message.
		runtime.Gosched()
	}
	c.stopReq <- ctx
	<-c.done
	return c.workerErr
}

// Stats returns a snapshot of the counters (see the package doc, Counters).
func (c *Connector) Stats() connector.Stats {
	return connector.Stats{
		Queued:    c.ring.Len() + int(c.held.Load()),
		Submitted: c.submitted.Load(),
		Accepted:  c.accepted.Load(),
		Expired:   c.expired.Load(),
		Receipts:  c.receipts.Load(),
		MO:        c.mo.Load(),
	}
}

// Counters returns a snapshot of the simulator's own counters.
func (c *Connector) Counters() Counters {
	k := Counters{
		Full:          c.full.Load(),
		Deleted:       c.deleted.Load(),
		Shutdown:      c.shutdown.Load(),
		Intermediate:  c.intermediate.Load(),
		EarlyReceipts: c.early.Load(),
		Held:          int(c.held.Load()),
		Pending:       int(c.pending.Load()),
	}
	for i := range k.Outcomes {
		k.Outcomes[i] = c.outcomes[i].Load()
	}
	return k
}
