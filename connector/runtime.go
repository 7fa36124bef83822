package connector

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/msg"
)

// cacheLine pads the fields producers write away from the worker's.
const cacheLine = 128

// Lifecycle states.
const (
	stateNew uint32 = iota
	stateRunning
	stateStopped
)

// DefaultQueue is the queue capacity when Options.Queue is 0.
const DefaultQueue = 65536

// Options configure a Runtime.
type Options struct {
	// Name is the configured name (Connector.Name); required.
	Name string
	// Queue is the capacity of the queue producers push onto (rounded up to
	// a power of two); 0 = DefaultQueue.
	Queue int
	// Caps is what the driver can do besides sending.
	Caps Caps
	// Clock returns the time in Unix nanoseconds, for the driver's timed
	// work and the shutdown rule; nil = the wall clock at New advanced by
	// the monotonic clock (a wall-clock step then moves nothing due).
	Clock func() int64
	// Manual: Start launches no worker and the owner calls Step itself
	// (tests and tools that drive time by hand); Stop then ends at once.
	Manual bool
}

// Runtime is one connector: the queue, the gate, the worker and the
// counters around a Driver. Build it with New; a kind usually embeds it
// in its exported type, so the Connector methods are the kind's.
type Runtime struct {
	name   string
	caps   Caps
	drv    Driver
	ring   *ring.MPSC[*msg.Message]
	notify *ring.Notify
	clock  func() int64
	manual bool
	// open is the gate: true while started and not stopping. Every Submit
	// reads it, only Start and Stop write it: it shares the read-only line.
	open atomic.Bool

	_    [cacheLine]byte
	full atomic.Uint64 // Submit refusals: queue full
	_    [cacheLine - 8]byte

	// Counters written by the worker (taken, under mu) and the reporters.
	// What the driver holds is taken minus the five outcomes: no counter
	// of its own on the per-message path.
	taken, accepted, refused, expired atomic.Uint64
	deleted, shutdown, receipts, mos  atomic.Uint64
	handedBack                        atomic.Uint64 // HandBack: taken by the sink unsent
	draining                          atomic.Bool   // Stop asked: reports wake the worker

	sink     Sink
	state    atomic.Uint32
	started  atomic.Bool // the worker exists: Help may step
	stopReq  chan context.Context
	done     chan struct{}
	stopOnce sync.Once
	stopErr  error
	runErr   error // set by the worker before it closes done

	// mu guards the worker's state and the driver's step: the worker
	// goroutine holds it while it steps, a helper while it helps.
	mu       sync.Mutex
	batch    []*msg.Message
	armed    int64 // the due time the worker's timer was set for
	hasArmed bool  // false: no timer, the worker sleeps until rung
	finished bool  // the last step ran
	// stepAccepted and stepReceipts count AcceptInStep and ReceiptInStep:
	// Stats.Accepted's and Stats.Receipts' shares reported under mu.
	stepAccepted, stepReceipts stepCount
}

// New builds a stopped connector around d.
func New(opts Options, d Driver) (*Runtime, error) {
	if opts.Name == "" || d == nil || opts.Queue < 0 || opts.Queue > ring.MaxCapacity {
		return nil, fmt.Errorf("%w: name %q, queue %d (0..%d), driver set %v", ErrOptions, opts.Name, opts.Queue,
			ring.MaxCapacity, d != nil)
	}
	if opts.Queue == 0 {
		opts.Queue = DefaultQueue
	}
	q, err := ring.NewMPSC[*msg.Message](opts.Queue)
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = MonotonicClock()
	}
	return &Runtime{
		name:    opts.Name,
		caps:    opts.Caps,
		drv:     d,
		ring:    q,
		notify:  ring.NewNotify(),
		clock:   opts.Clock,
		manual:  opts.Manual,
		stopReq: make(chan context.Context, 1),
		done:    make(chan struct{}),
		batch:   make([]*msg.Message, 0, batchSize),
	}, nil
}

// MonotonicClock returns Unix nanoseconds that follow the monotonic clock
// from now on, so timed work keeps its spacing across wall-clock steps.
func MonotonicClock() func() int64 {
	start := time.Now()
	base := start.UnixNano()
	return func() int64 { return base + int64(time.Since(start)) }
}

// Name implements Connector.
func (r *Runtime) Name() string { return r.name }

// Caps implements Connector.
func (r *Runtime) Caps() Caps { return r.caps }

// Cap is the queue's capacity.
func (r *Runtime) Cap() int { return r.ring.Cap() }

// Now reads the Runtime's clock (Unix ns).
func (r *Runtime) Now() int64 { return r.clock() }

// Start implements Connector: it opens the driver, launches the worker
// and opens the gate. Call it once, before Stop and not concurrently with it.
func (r *Runtime) Start(sink Sink) error {
	if sink == nil {
		return ErrNilSink
	}
	if !r.state.CompareAndSwap(stateNew, stateRunning) {
		if r.state.Load() == stateStopped {
			return ErrStopped
		}
		return ErrStarted
	}
	r.sink = sink
	if err := r.drv.Open(); err != nil {
		r.state.Store(stateStopped)
		close(r.done)
		return err
	}
	if !r.manual {
		r.started.Store(true)
		go r.run()
	}
	r.open.Store(true)
	return nil
}

// Submit implements Connector; a refusal because the queue is full is
// counted in Stats.Full.
func (r *Runtime) Submit(m *msg.Message) bool {
	if !r.push(m) {
		return false
	}
	r.notify.Ring()
	return true
}

// SubmitQuiet implements Connector.
func (r *Runtime) SubmitQuiet(m *msg.Message) bool {
	if !r.caps.Helped {
		return r.Submit(m)
	}
	return r.push(m)
}

// push reads the gate before and after the push, no count: atomics are
// sequentially consistent, so a push that still sees the gate open landed
// before Stop closed it, and the drain that follows takes it; one that sees
// it closed may have come after the last drain, and late makes sure it is
// reported.
func (r *Runtime) push(m *msg.Message) bool {
	if m == nil || !r.open.Load() {
		return false
	}
	if !r.ring.TryPush(m) {
		r.full.Add(1)
		return false
	}
	if !r.open.Load() {
		r.late()
	}
	return true
}

// late runs after a push that raced Stop: if the last drain is over, the
// pusher abandons what is still queued itself, under mu like the worker
// (before it, the worker's drain or finish takes it).
func (r *Runtime) late() {
	r.mu.Lock()
	if r.finished {
		r.abandonQueued(r.clock())
	}
	r.mu.Unlock()
}

// Help implements Connector: when the worker is idle, the caller runs one
// bounded step (helpBatches off the queue, helpWork units of due work)
// under the worker's lock, and wakes the worker only if that leaves work
// queued or something falls due before the worker's timer. When the worker
// (or another helper) is busy, it wakes the worker. Never blocks.
func (r *Runtime) Help() {
	if !r.caps.Helped || !r.started.Load() || r.ring.Len() == 0 {
		return
	}
	if !r.mu.TryLock() {
		r.notify.Ring()
		return
	}
	if r.helpStep() {
		r.notify.Ring()
	}
}

// Wake makes the worker step again soon: the driver calls it when
// something changed that Next or Room would now answer differently (a
// retry queued, a slot freed). Any goroutine; never blocks.
func (r *Runtime) Wake() { r.notify.Ring() }

// QueueFull implements Connector.
func (r *Runtime) QueueFull() bool {
	return r.open.Load() && r.ring.Len() >= r.ring.Cap()
}

// Up implements Connector: running, not stopping, and the driver up.
func (r *Runtime) Up() bool { return r.open.Load() && r.drv.Up() }

// CancelUpstream implements Connector.
func (r *Runtime) CancelUpstream(id msg.ID, p *codec.CancelSM, done UpstreamDone) bool {
	return r.caps.Cancel && done != nil && r.open.Load() && r.drv.CancelUpstream(id, p, done)
}

// ReplaceUpstream implements Connector.
func (r *Runtime) ReplaceUpstream(id msg.ID, p *codec.ReplaceSM, done UpstreamDone) bool {
	return r.caps.Replace && done != nil && r.open.Load() && r.drv.ReplaceUpstream(id, p, done)
}

// Step runs one worker step at now on the caller's goroutine (Options.
// Manual) and reports whether the queue still has messages the driver has
// room for.
func (r *Runtime) Step(now int64) bool {
	r.mu.Lock()
	more := !r.finished && r.stepN(now, batchesPerStep, -1)
	r.mu.Unlock()
	return more
}

// Stop implements Connector: it closes the gate, then the worker goes on
// as before (taking what is queued, doing what falls due) until the queue
// is empty, the driver holds nothing and is not Busy, or ctx ends; then
// the driver is closed and what is left is abandoned (see Abandon).
// Manual: no drain. A Submit racing Stop whose message lands after that
// abandons it itself before it returns (true): every message taken is
// reported once.
func (r *Runtime) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { r.stopErr = r.stop(ctx) })
	return r.stopErr
}

func (r *Runtime) stop(ctx context.Context) error {
	r.open.Store(false)
	if r.state.Swap(stateStopped) != stateRunning {
		return nil // never started (or Open failed): nothing was taken
	}
	r.draining.Store(true)
	if r.manual {
		r.mu.Lock()
		r.finish(r.clock())
		r.mu.Unlock()
		close(r.done)
		return nil
	}
	r.stopReq <- ctx
	<-r.done
	return r.runErr
}

// Stats implements Connector.
func (r *Runtime) Stats() Stats {
	st := Stats{
		Queued:     r.ring.Len() + r.Held(),
		Submitted:  r.taken.Load(),
		Accepted:   r.accepted.Load() + r.stepAccepted.load(),
		Refused:    r.refused.Load(),
		Expired:    r.expired.Load(),
		Deleted:    r.deleted.Load(),
		Shutdown:   r.shutdown.Load(),
		Full:       r.full.Load(),
		HandedBack: r.handedBack.Load(),
		Receipts:   r.receipts.Load() + r.stepReceipts.load(),
		MO:         r.mos.Load(),
	}
	r.drv.Stats(&st)
	return st
}

// Held is the number of messages the driver holds: given to Send and not
// reported yet. Taken is read first, so a message taken meanwhile is not
// counted and one reported meanwhile cannot make it negative but for a
// race with both, which the floor covers.
func (r *Runtime) Held() int {
	taken := r.taken.Load()
	out := r.accepted.Load() + r.stepAccepted.load() + r.refused.Load() + r.expired.Load() + r.deleted.Load() + r.shutdown.Load() +
		r.handedBack.Load()
	if out >= taken {
		return 0
	}
	return int(taken - out)
}

// Compile-time check.
var _ Connector = (*Runtime)(nil)
