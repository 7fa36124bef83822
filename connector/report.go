package connector

import "github.com/smppd/smppd/msg"

// How a driver reports: each call counts, passes to the Sink, and for a
// message releases it (the driver must not touch it afterwards). Any
// goroutine; a message is reported exactly once. The count comes first, so
// whoever sees what the Sink did (an ESME's receipt) sees it counted.

// Accept reports that the upstream took m; upstreamID is its id there (a
// view valid during the call).
func (r *Runtime) Accept(m *msg.Message, upstreamID []byte) {
	r.accepted.Add(1)
	r.sink.Accepted(m, upstreamID)
	r.let(m)
}

// AcceptInStep is Accept for a driver that reports from its Send, Due or
// Close, under the Runtime's lock: the count is a plain add (stepCount).
func (r *Runtime) AcceptInStep(m *msg.Message, upstreamID []byte) {
	r.stepAccepted.add()
	r.sink.Accepted(m, upstreamID)
	r.let(m)
}

// Fail reports that m will not be delivered, with the upstream's status
// and the state it ends in (see Sink.Failed).
func (r *Runtime) Fail(m *msg.Message, status uint32, state msg.State) {
	switch state {
	case msg.StateExpired:
		r.expired.Add(1)
	case msg.StateDeleted:
		r.deleted.Add(1)
	case msg.StateUnknown:
		r.shutdown.Add(1)
	default:
		r.refused.Add(1)
	}
	r.sink.Failed(m, status, state)
	r.let(m)
}

// Abandon reports a message the driver still holds when it stops (or that
// was still queued): StateDeleted if it was cancelled, StateExpired if its
// validity ended by now, else StateUnknown with StatusShutdown. The one
// shutdown rule of every kind.
func (r *Runtime) Abandon(m *msg.Message, now int64) {
	switch {
	case !m.Claim():
		r.Fail(m, 0, msg.StateDeleted)
	case m.Expires != 0 && m.Expires <= now:
		r.Fail(m, 0, msg.StateExpired)
	default:
		r.Fail(m, StatusShutdown, msg.StateUnknown)
	}
}

// Receipt reports a receipt for one of our messages; an error means the
// sink could not keep it (see Sink.Receipt).
func (r *Runtime) Receipt(rc *msg.Receipt) error {
	r.receipts.Add(1)
	return r.sink.Receipt(rc)
}

// ReceiptInStep is Receipt for a driver that reports from its Send, Due or
// Close, under the Runtime's lock: the count is a plain add (stepCount).
func (r *Runtime) ReceiptInStep(rc *msg.Receipt) error {
	r.stepReceipts.add()
	return r.sink.Receipt(rc)
}

// MO reports a mobile-originated message (views valid during the call);
// an error means the sink could not keep it (see Sink.MO).
func (r *Runtime) MO(in *msg.Inbound) error {
	r.mos.Add(1)
	return r.sink.MO(in)
}

// Sync waits until what the sink kept is durable (Sink.Sync): call it
// before acknowledging a receipt or MO to an upstream, on the driver's
// own goroutine, never in a helped step.
func (r *Runtime) Sync() error { return r.sink.Sync() }

// let releases a reported message; during a drain it wakes the worker,
// which may be waiting for the driver's last message.
func (r *Runtime) let(m *msg.Message) {
	m.Release()
	if r.draining.Load() {
		r.notify.Ring()
	}
}
