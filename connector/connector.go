// Package connector holds the contract between the flow hub and the workers
// that talk to upstream SMSCs (connector/sim, connector/smppout): a
// Connector takes messages through a bounded lock-free ring and reports
// outcomes, receipts and MO through a Sink.
package connector

import (
	"context"

	"github.com/smppd/smppd/msg"
)

// Connector is one configured upstream. Implementations own their worker
// goroutines; Submit is the only call on the per-message hot path.
type Connector interface {
	// Name is the configured name (also the routing table's connector name).
	Name() string
	// Start launches the workers; outcomes go to sink. Called once.
	Start(sink Sink) error
	// Submit queues m for the upstream. Safe from any goroutine, never
	// blocks, allocates nothing. false means the ring is full: m stays the
	// caller's (answer ESME_RMSGQFUL or try the route's failover). On true
	// the connector owns m until it reports it through Sink.Accepted or
	// Sink.Failed.
	Submit(m *msg.Message) bool
	// Up reports whether the connector can deliver now (bound upstream, or
	// the simulator running). Lock-free; used by routing on every message.
	Up() bool
	// Stop stops taking messages, tries for as long as ctx allows to hand
	// what is queued upstream, then reports every message it still holds
	// through Sink.Failed with StateUnknown and status StatusShutdown, and
	// returns once its goroutines have exited.
	Stop(ctx context.Context) error
	// Stats returns a snapshot of the counters.
	Stats() Stats
}

// QueueReporter is a Connector that tells a full queue from a closed one
// without taking a message: QueueFull reports (a snapshot) that it is
// taking messages and its queue has no room. The hub lets a session wait
// for room only then; a stopped connector is answered at once.
type QueueReporter interface {
	QueueFull() bool
}

// Helped is a Connector whose worker the producer may help. SubmitQuiet
// queues like Submit but leaves the worker asleep; the producer must call
// Help once its batch is done (an event loop: after its answers are
// written). Help does a bounded share of the worker's work on the caller's
// goroutine when the worker is idle, and wakes the worker otherwise, so a
// message is never left in the queue with nobody to take it. The messages
// then stay hot in the producing core's cache and no goroutine is woken per
// batch.
type Helped interface {
	SubmitQuiet(m *msg.Message) bool
	Help()
}

// StatusShutdown is the status passed to Sink.Failed for messages a
// connector still held when it was stopped (ESME_RSYSERR's value: the ESME
// gets no answer from it, it only reaches receipts and logs).
const StatusShutdown uint32 = 0x00000008

// Sink receives what connectors report. Methods are called on connector
// goroutines, concurrently; they must not block for long and must not call
// back into the connector's Submit for the same message.
type Sink interface {
	// Accepted: the upstream took m (submit_sm_resp ESME_ROK); upstreamID is
	// the upstream's message id (a view valid during the call; the simulator
	// passes our own id). After Accepted returns the connector releases m.
	Accepted(m *msg.Message, upstreamID []byte)
	// Failed: m will not be delivered: the upstream refused it permanently
	// (status is the upstream's command_status, state StateRejected or
	// StateUndeliverable), it expired waiting (StateExpired, status 0), it
	// was cancelled while queued (StateDeleted, status 0), or the connector
	// stopped (StateUnknown, StatusShutdown). After Failed returns the
	// connector releases m.
	Failed(m *msg.Message, status uint32, state msg.State)
	// Receipt: the upstream reported a state for one of our messages.
	Receipt(r *msg.Receipt)
	// MO: the upstream delivered a mobile-originated message; views in mo
	// are valid only during the call.
	MO(mo *msg.Inbound)
}

// IDMap maps an upstream's message ids to ours, so receipts that name the
// upstream id find our message. storage/memory implements it. Safe for
// concurrent use; allocation-free in steady state.
type IDMap interface {
	// PutUpstream records that connector's upstreamID is our id.
	PutUpstream(connector int, upstreamID []byte, id msg.ID)
	// Upstream finds our id for connector's upstreamID.
	Upstream(connector int, upstreamID []byte) (msg.ID, bool)
}

// Stats are a connector's counters since start.
type Stats struct {
	Queued    int    // messages in the ring and waiting now
	Submitted uint64 // submit_sm sent upstream (retries included)
	Accepted  uint64 // accepted by the upstream
	Refused   uint64 // refused permanently
	Retried   uint64 // temporary refusals or timeouts retried
	Expired   uint64 // expired before the upstream took them
	Receipts  uint64 // receipts received
	MO        uint64 // MO received
	Binds     int    // upstream binds up now
	Reconnect uint64 // reconnect attempts
}
