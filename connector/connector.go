// Package connector holds the contract between the flow hub and the
// upstreams, and the runtime every connector kind runs on.
//
// A connector kind (connector/sim, connector/smppout) writes a Driver: it
// sends the batches the Runtime hands it and reports outcomes, receipts and
// MO back through the Runtime. The Runtime owns the rest, the same for every
// kind: the bounded lock-free queue producers push onto, the gate that
// orders Submit against Stop, the drain at Stop and the failure of whatever
// is left, the counters, and (for a kind that declares it) the event loops'
// help. A kind declares what else it can do in one Caps value, and is
// registered under its name in a Registry (decode, validate, build).
package connector

import (
	"context"
	"errors"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// Connector is one configured upstream, as the hub sees it. *Runtime (and
// every kind, which embeds one) and *Restartable implement it. Submit,
// SubmitQuiet, Help, QueueFull and Up are on the per-message hot path:
// lock-free and allocation-free.
type Connector interface {
	// Name is the configured name (also the routing table's connector name).
	Name() string
	// Caps is what the connector declared it can do beyond submitting.
	Caps() Caps
	// Start launches the workers; outcomes go to sink. Called once.
	Start(sink Sink) error
	// Submit queues m for the upstream. Safe from any goroutine, never
	// blocks, allocates nothing. false means the queue is full or the
	// connector is not running: m stays the caller's (answer ESME_RMSGQFUL
	// or try the route's failover). On true the connector owns m until it
	// reports it through Sink.Accepted or Sink.Failed.
	Submit(m *msg.Message) bool
	// SubmitQuiet queues like Submit but, when Caps().Helped, leaves the
	// worker asleep: the producer must call Help once its batch is done (an
	// event loop: after its answers are written). Without Helped it is
	// Submit.
	SubmitQuiet(m *msg.Message) bool
	// Help does a bounded share of the worker's work on the caller's
	// goroutine when the worker is idle, and wakes the worker otherwise, so
	// a message is never left queued with nobody to take it. The messages
	// then stay hot in the producing core's cache and no goroutine is woken
	// per batch. A no-op without Caps().Helped.
	Help()
	// QueueFull reports (a snapshot) that the connector is taking messages
	// and its queue has no room. The hub lets a session wait for room only
	// then; a stopped connector is answered at once.
	QueueFull() bool
	// Up reports whether the connector can deliver now (bound upstream, or
	// the simulator running). Lock-free; used by routing on every message.
	Up() bool
	// CancelUpstream asks the upstream to cancel a message it accepted. It
	// runs on an event loop and must not block. true means the connector
	// took the request and will report the upstream's answer through done,
	// exactly once; the ESME's cancel_sm_resp waits for it. false (always,
	// without Caps().Cancel) answers cancel_sm with ESME_RCANCELFAIL at
	// once, and done is never called. id is ours; p is the cancel_sm to send
	// as it is: message_id is the upstream's id (from Sink.Accepted) and the
	// addresses are those the message was submitted with. p's views are
	// valid only during the call.
	CancelUpstream(id msg.ID, p *codec.CancelSM, done UpstreamDone) bool
	// ReplaceUpstream passes replace_sm upstream for a message already
	// handed over; the rules of CancelUpstream, with Caps().Replace. p is
	// the ESME's replace_sm with message_id and the source address
	// rewritten to the upstream's id and the submitted source; false
	// answers ESME_RREPLACEFAIL at once.
	ReplaceUpstream(id msg.ID, p *codec.ReplaceSM, done UpstreamDone) bool
	// Stop stops taking messages, tries for as long as ctx allows to hand
	// what is queued upstream, then reports every message it still holds
	// through Sink.Failed (StateUnknown and StatusShutdown; StateDeleted if
	// it was cancelled, StateExpired if its validity has ended), and
	// returns once its goroutines have exited: ctx.Err() when ctx cut the
	// hand-over short, else nil. Later calls return the first call's result.
	Stop(ctx context.Context) error
	// Stats returns a snapshot of the counters.
	Stats() Stats
}

// Caps is what a connector kind declares it can do besides submitting, in
// one value given to New. The hub reads it once, at wiring.
type Caps struct {
	// Helped: the event loops may run the worker's steps (SubmitQuiet,
	// Help). For a worker whose step is short and never blocks.
	Helped bool
	// Cancel and Replace: the driver passes cancel_sm / replace_sm
	// upstream (Driver.CancelUpstream, Driver.ReplaceUpstream). The hub
	// keeps the upstream ids of such a connector's messages.
	Cancel, Replace bool
}

// UpstreamDone takes the upstream's answer to a forwarded cancel_sm or
// replace_sm: the command_status of its response, or err when none came
// (no answer in time, the connection lost, the connector stopped). The
// connector calls it from its own goroutine, never from within
// CancelUpstream or ReplaceUpstream nor on an event loop: it may block for
// a moment while the ESME's event loop has no room for the answer.
type UpstreamDone = func(status codec.Status, err error)

// StatusShutdown is the status passed to Sink.Failed for messages a
// connector still held when it was stopped (ESME_RSYSERR's value: the ESME
// gets no answer from it, it only reaches receipts and logs).
const StatusShutdown uint32 = 0x00000008

// Sink receives what connectors report. Methods are called on connector
// goroutines (or an event loop helping one), concurrently; they must not
// block for long and must not call back into the connector's Submit for
// the same message.
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
	// Receipt: the upstream reported a state for one of our messages. nil
	// means the receipt is kept: recorded and on its way to (or held for)
	// its ESME, dropped as a late duplicate, or kept as a dead letter (an
	// unknown id). An error means it could not be kept now (the store or
	// its held items are full): a connector that can make its upstream
	// resend answers so (SMPP: ESME_RX_T_APPN); it must not be lost.
	Receipt(r *msg.Receipt) error
	// MO: the upstream delivered a mobile-originated message; views in mo
	// are valid only during the call. nil and errors as Receipt (an MO
	// nobody can take is kept as a dead letter: nil).
	MO(mo *msg.Inbound) error
	// Sync blocks until everything the sink kept so far is durable (a
	// disk store's commit), or returns the error that stops it (a failed
	// device). A connector that acknowledges to its upstream calls it
	// after Receipt or MO and before its answer, so nothing it acknowledged
	// is lost in a crash. Connector goroutines only: never an event loop
	// (a helped step must not call it). Without a durable store it returns
	// nil at once.
	Sync() error
}

// IDMap maps an upstream's message ids to ours, so receipts that name the
// upstream id find our message. storage/memory implements it. Safe for
// concurrent use; allocation-free in steady state.
type IDMap interface {
	// PutUpstream records that connector's upstreamID is our id. An error
	// means it is not stored now (the store's device full or failing, or
	// an id it never keeps): a connector keeps it in memory, counted
	// (Stats.IDsNotKept), and offers it again, so the receipt naming it
	// still finds our message.
	PutUpstream(connector int, upstreamID []byte, id msg.ID) error
	// Upstream finds our id for connector's upstreamID.
	Upstream(connector int, upstreamID []byte) (msg.ID, bool)
}

// Parker keeps, across a crash, the receipts a connector answered while
// their upstream id was not mapped to ours yet (parked until the id comes):
// a connector parks a copy before it answers the receipt, drops it once
// the sink has the receipt, and takes up at its start the copies an
// earlier run or instance left. Safe for concurrent use; Park and Unpark
// never block.
type Parker interface {
	// Park keeps body and returns its key (never 0); an error means it is
	// not kept (the connector asks its upstream to send the receipt again).
	Park(body []byte) (uint64, error)
	// Unpark drops the copy parked under key.
	Unpark(key uint64) error
	// Parked calls fn with every copy parked before this instance started
	// (body valid during the call); for the connector's start only.
	Parked(fn func(key uint64, body []byte)) error
}

// Stats are a connector's counters since start. The Runtime keeps all but
// Submitted, Retried, Binds and Reconnect, which its driver adds.
type Stats struct {
	Queued    int    // messages in the queue or held by the driver now
	Submitted uint64 // taken off the queue; for an SMPP upstream, submit_sm sent (retries included)
	Accepted  uint64 // accepted by the upstream
	Refused   uint64 // refused permanently (StateRejected, StateUndeliverable)
	Retried   uint64 // temporary refusals or timeouts retried
	Expired   uint64 // expired before the upstream took them
	Deleted   uint64 // cancelled while queued here
	Shutdown  uint64 // still held when the connector stopped
	Full      uint64 // Submit refused: queue full
	Receipts  uint64 // receipts reported
	MO        uint64 // MO reported
	Binds     int    // upstream binds up now
	Reconnect uint64 // reconnect attempts
	// Upstream ids the IDMap did not store (driver adds): refused, waiting
	// in memory to be stored now, and dropped from there unstored (a
	// receipt naming one is kept as a dead letter).
	IDsNotKept uint64
	IDsPending int
	IDsLost    uint64
	// HandedBack: given back unsent while the upstream was down, for
	// another cluster node to send (Runtime.HandBack).
	HandedBack uint64
}

// Errors of New, Start and the Restartable's operator controls.
var (
	ErrOptions    = errors.New("connector: invalid options")
	ErrNilSink    = errors.New("connector: Start with a nil sink")
	ErrStarted    = errors.New("connector: already started")
	ErrStopped    = errors.New("connector: connector is stopped")
	ErrRunning    = errors.New("connector: connector is running")
	ErrNotStarted = errors.New("connector: the hub has not started its connectors yet")
	ErrShutdown   = errors.New("connector: stopped with the hub: no more starts")
)
