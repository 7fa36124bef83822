package connector

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// Factory builds a new, unstarted connector with the same name (and the
// same routing id: build it from the same config entry).
type Factory func() (Connector, error)

// Restartable is a Connector the operator may stop and start again at run
// time: a connector starts once, so every start after the first builds a
// fresh instance from its Factory. Stopping one drains and reports what it
// holds as Stop does; while it is stopped Up is false (routing's failover
// skips it) and Submit refuses. The hot-path methods cost one atomic load
// more than the instance's and allocate nothing.
type Restartable struct {
	name  string
	kind  string
	build Factory
	cur   atomic.Pointer[instance]

	mu       sync.Mutex // serialises Start, Stop, Halt and Resume
	sink     Sink
	halted   atomic.Bool // stopped by an operator, or Stop ran; atomic so readers never wait for a draining Stop
	shutdown atomic.Bool // Stop ran: no more starts
}

// instance boxes an interface value for the atomic pointer.
type instance struct{ c Connector }

// NewRestartable wraps c (unstarted; the hub starts it) so the operator can
// stop it and start a fresh one built by build; kind names what build
// builds, for the operator.
func NewRestartable(kind string, c Connector, build Factory) *Restartable {
	r := &Restartable{name: c.Name(), kind: kind, build: build}
	r.cur.Store(&instance{c})
	return r
}

// Name implements Connector.
func (r *Restartable) Name() string { return r.name }

// Kind returns what NewRestartable was given.
func (r *Restartable) Kind() string { return r.kind }

// Caps implements Connector: every instance comes from one config entry,
// so they all declare the same.
func (r *Restartable) Caps() Caps { return r.cur.Load().c.Caps() }

// Start implements Connector (the hub's Start).
func (r *Restartable) Start(sink Sink) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sink = sink
	return r.cur.Load().c.Start(sink)
}

// Submit implements Connector.
func (r *Restartable) Submit(m *msg.Message) bool { return r.cur.Load().c.Submit(m) }

// SubmitQuiet implements Connector.
func (r *Restartable) SubmitQuiet(m *msg.Message) bool { return r.cur.Load().c.SubmitQuiet(m) }

// Help implements Connector.
func (r *Restartable) Help() { r.cur.Load().c.Help() }

// QueueFull implements Connector.
func (r *Restartable) QueueFull() bool { return r.cur.Load().c.QueueFull() }

// Up implements Connector.
func (r *Restartable) Up() bool { return r.cur.Load().c.Up() }

// Stats implements Connector: of the running instance (a restart starts
// them again from 0).
func (r *Restartable) Stats() Stats { return r.cur.Load().c.Stats() }

// CancelUpstream implements Connector.
func (r *Restartable) CancelUpstream(id msg.ID, p *codec.CancelSM, done UpstreamDone) bool {
	return r.cur.Load().c.CancelUpstream(id, p, done)
}

// ReplaceUpstream implements Connector.
func (r *Restartable) ReplaceUpstream(id msg.ID, p *codec.ReplaceSM, done UpstreamDone) bool {
	return r.cur.Load().c.ReplaceUpstream(id, p, done)
}

// Stop implements Connector (the hub's Stop): it stops the current
// instance, and no start follows.
func (r *Restartable) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown.Store(true)
	if r.halted.Swap(true) {
		return nil
	}
	return r.cur.Load().c.Stop(ctx)
}

// Halt stops the current instance for an operator: as Stop, but Resume
// may follow. ErrStopped when it is stopped already.
func (r *Restartable) Halt(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.halted.Swap(true) {
		return ErrStopped
	}
	return r.cur.Load().c.Stop(ctx)
}

// Resume starts a fresh instance of a halted connector: ErrShutdown after
// Stop, ErrRunning when it runs, ErrNotStarted before the hub's Start.
func (r *Restartable) Resume() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.shutdown.Load():
		return ErrShutdown
	case !r.halted.Load():
		return ErrRunning
	case r.sink == nil:
		return ErrNotStarted
	}
	c, err := r.build()
	if err != nil {
		return fmt.Errorf("connector: rebuild %q: %w", r.name, err)
	}
	if c.Name() != r.name {
		return fmt.Errorf("connector: the factory of %q built %q", r.name, c.Name())
	}
	if err := c.Start(r.sink); err != nil {
		return fmt.Errorf("connector: start %q: %w", r.name, err)
	}
	r.cur.Store(&instance{c})
	r.halted.Store(false)
	return nil
}

// Halted reports whether an operator stopped it (and it was not resumed);
// false once the hub stopped it.
func (r *Restartable) Halted() bool { return r.halted.Load() && !r.shutdown.Load() }

// Compile-time check.
var _ Connector = (*Restartable)(nil)
