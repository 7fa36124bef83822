package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// Run-time control of connectors (the admin API). connector/sim and
// connector/smppout start once: Start after Stop fails. So a connector the
// operator may stop and start again is wrapped in a Restartable, which
// builds a fresh instance from its Factory on every start after the first.
// Stopping one drains and reports what it holds the way Hub.Stop does
// (refunds, receipts asked for: see the Billing section of the package doc),
// and while it is stopped Up is false, so routing's failover skips it and a
// static route's messages get ESME_RMSGQFUL.

// Factory builds a new, unstarted connector with the same name (and the
// same routing id: build it from the same config entry).
type Factory func() (connector.Connector, error)

// Errors of StartConnector and StopConnector.
var (
	ErrUnknownConnector = errors.New("flow: no connector with that name")
	ErrNotRestartable   = errors.New("flow: connector was not built with a factory (flow.NewRestartable)")
	ErrConnectorRunning = errors.New("flow: connector is running")
	ErrConnectorStopped = errors.New("flow: connector is stopped")
)

// ConnectorInfo describes one connector for the operator.
type ConnectorInfo struct {
	Name        string
	Kind        string // what NewRestartable was given ("sim", "smpp"); "" for a plain connector
	Up          bool
	Stopped     bool // stopped by an operator (StopConnector)
	Restartable bool
	Stats       connector.Stats // of the running instance: a restart starts them again from 0
}

// Restartable is a connector.Connector that can be stopped and started
// again at run time. Submit and Up cost one atomic load more than the
// wrapped connector's and allocate nothing. It passes cancel_sm and
// replace_sm on when the current instance supports them.
type Restartable struct {
	name  string
	kind  string
	build Factory
	cur   atomic.Pointer[instance]

	mu       sync.Mutex // serialises Start, Stop, StopConnector, StartConnector
	sink     connector.Sink
	stopped  atomic.Bool // by an operator; atomic so Connectors never waits for a draining Stop
	shutdown atomic.Bool // Hub.Stop ran: no more starts
}

// instance boxes an interface value for the atomic pointer.
type instance struct{ c connector.Connector }

// NewRestartable wraps c (unstarted; the hub starts it) so the operator can
// stop it and start a fresh one built by build. kind is reported in
// ConnectorInfo.
func NewRestartable(kind string, c connector.Connector, build Factory) *Restartable {
	r := &Restartable{name: c.Name(), kind: kind, build: build}
	r.cur.Store(&instance{c})
	return r
}

// Name implements connector.Connector.
func (r *Restartable) Name() string { return r.name }

// Kind returns what NewRestartable was given.
func (r *Restartable) Kind() string { return r.kind }

// Start implements connector.Connector (the hub's Start).
func (r *Restartable) Start(sink connector.Sink) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sink = sink
	return r.cur.Load().c.Start(sink)
}

// Submit implements connector.Connector.
func (r *Restartable) Submit(m *msg.Message) bool { return r.cur.Load().c.Submit(m) }

// SubmitQuiet implements connector.Helped; an instance that is not one is
// woken at once by its own Submit.
func (r *Restartable) SubmitQuiet(m *msg.Message) bool {
	c := r.cur.Load().c
	if hc, ok := c.(connector.Helped); ok {
		return hc.SubmitQuiet(m)
	}
	return c.Submit(m)
}

// QueueFull implements connector.QueueReporter when the instance does.
func (r *Restartable) QueueFull() bool {
	q, ok := r.cur.Load().c.(connector.QueueReporter)
	return ok && q.QueueFull()
}

// Help implements connector.Helped.
func (r *Restartable) Help() {
	if hc, ok := r.cur.Load().c.(connector.Helped); ok {
		hc.Help()
	}
}

// Up implements connector.Connector.
func (r *Restartable) Up() bool { return r.cur.Load().c.Up() }

// Stats implements connector.Connector.
func (r *Restartable) Stats() connector.Stats { return r.cur.Load().c.Stats() }

// Stop implements connector.Connector (the hub's Stop): it stops the
// current instance, and no start follows.
func (r *Restartable) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown.Store(true)
	if r.stopped.Swap(true) {
		return nil
	}
	return r.cur.Load().c.Stop(ctx)
}

// CancelUpstream implements UpstreamCanceller when the instance does.
func (r *Restartable) CancelUpstream(id msg.ID, p *codec.CancelSM, done UpstreamDone) bool {
	uc, ok := r.cur.Load().c.(UpstreamCanceller)
	return ok && uc.CancelUpstream(id, p, done)
}

// ReplaceUpstream implements UpstreamReplacer when the instance does.
func (r *Restartable) ReplaceUpstream(id msg.ID, p *codec.ReplaceSM, done UpstreamDone) bool {
	ur, ok := r.cur.Load().c.(UpstreamReplacer)
	return ok && ur.ReplaceUpstream(id, p, done)
}

func (r *Restartable) stopByOperator(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped.Swap(true) {
		return ErrConnectorStopped
	}
	return r.cur.Load().c.Stop(ctx)
}

func (r *Restartable) startByOperator() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.shutdown.Load():
		return ErrStopped
	case !r.stopped.Load():
		return ErrConnectorRunning
	case r.sink == nil:
		return errors.New("flow: the hub has not started its connectors yet")
	}
	c, err := r.build()
	if err != nil {
		return fmt.Errorf("flow: rebuild connector %q: %w", r.name, err)
	}
	if c.Name() != r.name {
		return fmt.Errorf("flow: factory of connector %q built %q", r.name, c.Name())
	}
	if err := c.Start(r.sink); err != nil {
		return fmt.Errorf("flow: start connector %q: %w", r.name, err)
	}
	r.cur.Store(&instance{c})
	r.stopped.Store(false)
	return nil
}

func (r *Restartable) isStopped() bool { return r.stopped.Load() && !r.shutdown.Load() }

// Connectors describes every connector, in routing id order.
func (h *Hub) Connectors() []ConnectorInfo {
	out := make([]ConnectorInfo, len(h.conns))
	for i, c := range h.conns {
		in := ConnectorInfo{Name: c.Name(), Up: c.Up(), Stats: c.Stats()}
		if r, ok := c.(*Restartable); ok {
			in.Kind, in.Restartable, in.Stopped = r.kind, true, r.isStopped()
		}
		out[i] = in
	}
	return out
}

// StopConnector stops the named connector: it takes no more messages, hands
// upstream what it holds for as long as ctx allows, and reports the rest as
// failed (refunded, receipts sent when asked). Routing sees it down until
// StartConnector. drained is false when ctx ended the hand-over early; the
// connector is stopped either way.
func (h *Hub) StopConnector(ctx context.Context, name string) (drained bool, err error) {
	r, err := h.restartable(name)
	if err != nil {
		return false, err
	}
	err = r.stopByOperator(ctx)
	if errors.Is(err, ErrConnectorStopped) {
		return false, err
	}
	drained = err == nil
	ev := h.log.Warn().Str("event", "connector_stopped").Str("connector", name).Bool("drained", drained)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		ev.Err(err).Msg("connector stopped by operator, with an error")
		return false, fmt.Errorf("flow: stop connector %q: %w", name, err)
	}
	ev.Msg("connector stopped by operator")
	return drained, nil
}

// StartConnector starts a fresh instance of a connector stopped by
// StopConnector.
func (h *Hub) StartConnector(name string) error {
	r, err := h.restartable(name)
	if err != nil {
		return err
	}
	if err := r.startByOperator(); err != nil {
		return err
	}
	h.log.Info().Str("event", "connector_started").Str("connector", name).Msg("connector started by operator")
	return nil
}

func (h *Hub) restartable(name string) (*Restartable, error) {
	for _, c := range h.conns {
		if c.Name() != name {
			continue
		}
		if r, ok := c.(*Restartable); ok {
			return r, nil
		}
		return nil, ErrNotRestartable
	}
	return nil, ErrUnknownConnector
}

// Compile-time checks: a wrapped connector keeps the optional interfaces.
var (
	_ connector.Connector = (*Restartable)(nil)
	_ UpstreamCanceller   = (*Restartable)(nil)
	_ UpstreamReplacer    = (*Restartable)(nil)
)
