package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/smppd/smppd/connector"
)

// Run-time control of connectors (the admin API). A connector starts
// once, so one the operator may stop and start again is a
// connector.Restartable, which builds a fresh instance from its Factory on
// every start after the first. Stopping one drains and reports what it
// holds the way Hub.Stop does (refunds, receipts asked for: see the Billing
// section of the package doc), and while it is stopped Up is false, so
// routing's failover skips it and a static route's messages get
// ESME_RMSGQFUL.

// Errors of StartConnector and StopConnector.
var (
	ErrUnknownConnector = errors.New("flow: no connector with that name")
	ErrNotRestartable   = errors.New("flow: connector was not built with a factory (connector.NewRestartable)")
	ErrConnectorRunning = connector.ErrRunning
	ErrConnectorStopped = connector.ErrStopped
)

// ConnectorInfo describes one connector for the operator.
type ConnectorInfo struct {
	ID          int // routing id
	Name        string
	Kind        string // what connector.NewRestartable was given ("sim", "smpp"); "" for a plain connector
	Up          bool
	Stopped     bool // stopped by an operator (StopConnector)
	Restartable bool
	Stats       connector.Stats // of the running instance: a restart starts them again from 0
}

// Connectors describes every running connector, in routing id order
// (removed ones' ids are vacant).
func (h *Hub) Connectors() []ConnectorInfo {
	s := h.cs()
	out := make([]ConnectorInfo, 0, len(s.conns))
	for i, c := range s.conns {
		if s.removed[i] {
			continue
		}
		in := ConnectorInfo{ID: i, Name: c.Name(), Up: c.Up(), Stats: c.Stats()}
		if r, ok := c.(*connector.Restartable); ok {
			in.Kind, in.Restartable, in.Stopped = r.Kind(), true, r.Halted()
		}
		out = append(out, in)
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
	err = r.Halt(ctx)
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
	if err := r.Resume(); err != nil {
		if errors.Is(err, connector.ErrShutdown) {
			return fmt.Errorf("%w: %w", ErrStopped, err)
		}
		return err
	}
	h.log.Info().Str("event", "connector_started").Str("connector", name).Msg("connector started by operator")
	return nil
}

func (h *Hub) restartable(name string) (*connector.Restartable, error) {
	s := h.cs()
	for i, c := range s.conns {
		if s.removed[i] || c.Name() != name {
			continue
		}
		if r, ok := c.(*connector.Restartable); ok {
			return r, nil
		}
		return nil, ErrNotRestartable
	}
	return nil, ErrUnknownConnector
}
