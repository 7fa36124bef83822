package msg

import (
	"sync"
	"sync/atomic"
)

// State is a message's state as query_sm and receipts report it: the
// message_state values of SMPP 3.4 §5.2.28.
type State uint8

// Message states (SMPP 3.4 Table 5-6).
const (
	StateEnroute       State = 1
	StateDelivered     State = 2
	StateExpired       State = 3
	StateDeleted       State = 4
	StateUndeliverable State = 5
	StateAccepted      State = 6
	StateUnknown       State = 7
	StateRejected      State = 8
)

var stateNames = [...]string{"", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED"}

// String returns the spec name (ENROUTE, DELIVERED, ...).
func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// Final reports whether the state is final: every state but ENROUTE (SMPP
// 3.4 §5.2.28 lists the others as final).
func (s State) Final() bool { return s != StateEnroute && s != 0 }

// Phase is where a queued message stands inside smppd. It decides whether
// cancel_sm and replace_sm can still be honoured here.
type Phase uint32

// Phases. A message starts Queued; the connector Claims it (Sending) before
// it goes upstream; cancel_sm moves a Queued message to Cancelled; replace_sm
// holds it in Editing while it rewrites the fields.
const (
	PhaseQueued Phase = iota
	PhaseSending
	PhaseCancelled
	PhaseEditing
)

// Message is one MT message (one part of a concatenated set, or one
// destination of a submit_multi) from acceptance until its connector is done
// with it. It is pooled: get one with NewMessage, hand it back with Release
// exactly once, after which nothing may touch it. Byte slices are owned
// copies (Set* append into retained capacity, so a recycled Message copies
// without allocating).
type Message struct {
	ID       ID
	SystemID string // owner's system_id (a shared string: not copied per message)
	Group    string // owner's group ("" when none)

	Received int64 // Unix nanoseconds of acceptance
	Schedule int64 // Unix nanoseconds before which it must not go upstream; 0 = at once
	Expires  int64 // Unix nanoseconds when its validity ends; 0 = the configured default applies upstream

	ServiceType          []byte
	Source               []byte
	Dest                 []byte
	ScheduleDeliveryTime []byte // as received, passed upstream unchanged
	ValidityPeriod       []byte // as received
	ShortMessage         []byte
	// TLVs holds the optional parameters as encoded on the wire (tag, length,
	// value, ...), message_payload and SAR included.
	TLVs []byte

	// The fields under 8 octets sit together, off the slices' padding: the
	// message fits the 384-octet size class, six whole cache lines (seven
	// when each sat by its slice), and every message's fill and Reset write
	// all of them.
	Command              uint32 // command_id it arrived as: submit_sm, data_sm or submit_multi
	SourceTON, SourceNPI byte
	DestTON, DestNPI     byte
	ESMClass             byte
	ProtocolID           byte
	Priority             byte
	RegisteredDelivery   byte
	ReplaceIfPresent     byte
	DataCoding           byte
	SMDefaultMsgID       byte
	// PartRef, PartNum and PartTotal identify a concatenated part (UDH or
	// SAR): every part with the same (SystemID, PartRef) goes to the same
	// connector. PartTotal is 0 for a message that is not a part.
	PartNum   uint8
	PartTotal uint8
	PartRef   uint16
	// FinalState, when not 0, is a final state the upstream decided at
	// acceptance (the simulator draws its outcome then), reached at FinalAt
	// (Unix ns) with error code FinalErr; set before Sink.Accepted. Such a
	// connector sends no final Receipt when RegisteredDelivery asks for no
	// final receipt (its low two bits are 0): the sink records the state
	// now, to show from FinalAt on.
	FinalState State
	FinalErr   uint16
	phase      atomic.Uint32

	// Parts is the number of billable parts this record stands for.
	Parts int

	// Connector is the routing table id of the connector it was queued on;
	// Failover the ids still to try (a read-only view into the routing
	// table), used by the creator when that connector's queue is full.
	Connector int
	Failover  []int
	// Route is the name of the connector Connector names (a shared string,
	// set by the hub): the binary form keeps the name, not the id, because
	// ids may differ after a restart with another connector list.
	Route string
	// Attempts counts upstream submits (connectors retry temporary errors).
	Attempts int
	// AcceptedAt is when the connector saw the upstream accept it (Unix ns),
	// set before Sink.Accepted by a connector that has the time at hand;
	// 0 = the sink reads its own clock.
	AcceptedAt int64
	FinalAt    int64 // see FinalState

	// Owner belongs to whoever created the message (the flow hub keeps its
	// charge there); connectors never touch it.
	Owner any
}

var messagePool = sync.Pool{New: func() any { return new(Message) }}

// NewMessage returns a cleared Message in PhaseQueued.
func NewMessage() *Message {
	if m := take(); m != nil {
		return m
	}
	return messagePool.Get().(*Message)
}

// Release clears m, keeping its buffers, and returns it to the pool
// (pool.go).
func (m *Message) Release() {
	m.Reset()
	if !keep(m) {
		messagePool.Put(m)
	}
}

// Reset clears every field but keeps the byte slices' capacity. It zeroes
// m in place and puts the buffers back, rather than assigning a composite
// literal: that is built on the stack with 8-octet stores and copied with
// 16-octet loads, which stall on store forwarding (about 15 ns a message).
func (m *Message) Reset() {
	st, src, dst := m.ServiceType[:0], m.Source[:0], m.Dest[:0]
	sdt, vp, sm, tlvs := m.ScheduleDeliveryTime[:0], m.ValidityPeriod[:0], m.ShortMessage[:0], m.TLVs[:0]
	*m = Message{}
	m.ServiceType, m.Source, m.Dest = st, src, dst
	m.ScheduleDeliveryTime, m.ValidityPeriod, m.ShortMessage, m.TLVs = sdt, vp, sm, tlvs
}

// Phase returns the current phase.
func (m *Message) Phase() Phase { return Phase(m.phase.Load()) }

// Claim moves a Queued message to Sending, waiting out a replace in progress.
// It returns false if the message was cancelled: the connector must then not
// send it and reports it as StateDeleted.
func (m *Message) Claim() bool {
	for {
		switch Phase(m.phase.Load()) {
		case PhaseQueued:
			if m.phase.CompareAndSwap(uint32(PhaseQueued), uint32(PhaseSending)) {
				return true
			}
		case PhaseEditing:
			// replace_sm is rewriting fields on an event loop: a few
			// hundred nanoseconds at most.
		case PhaseSending:
			return true
		default:
			return false
		}
	}
}

// Requeue moves a Sending message back to Queued, so cancel_sm and
// replace_sm may act on it again while it waits for a retry.
func (m *Message) Requeue() { m.phase.CompareAndSwap(uint32(PhaseSending), uint32(PhaseQueued)) }

// Cancel moves a Queued message to Cancelled; false once it is being sent.
func (m *Message) Cancel() bool {
	return m.phase.CompareAndSwap(uint32(PhaseQueued), uint32(PhaseCancelled))
}

// BeginEdit moves a Queued message to Editing; false once it is being sent
// or was cancelled. Every BeginEdit that returned true must be followed by
// EndEdit on the same goroutine.
func (m *Message) BeginEdit() bool {
	return m.phase.CompareAndSwap(uint32(PhaseQueued), uint32(PhaseEditing))
}

// EndEdit publishes the edited fields and returns the message to Queued.
func (m *Message) EndEdit() { m.phase.Store(uint32(PhaseQueued)) }

// Receipt is a delivery receipt (or intermediate notification) for one of
// our messages, as a connector reports it: already resolved to our id.
type Receipt struct {
	ID           ID    // our message id
	Connector    int   // routing table id of the reporting connector
	State        State // message state the receipt reports
	Intermediate bool  // an intermediate notification, not the final receipt
	// Err is the receipt's err: field (three digits, network specific);
	// NetworkError the network_error_code TLV value (type + 2-octet code),
	// zero when unknown.
	Err          uint16
	NetworkError [3]byte
	HasNetErr    bool
	Done         int64 // Unix nanoseconds of the final state ("done date")
	// At is when the connector got the receipt (Unix ns), for connectors
	// that have the time at hand; 0 = the sink reads its own clock.
	At int64
	// UpstreamID is the id the upstream named (a view valid during the
	// call), for a receipt whose id is not ours (ID 0): kept with it as a
	// dead letter. Raw is the deliver_sm or data_sm body it came in (after
	// the header; a view valid during the call; nil when none), kept the
	// same way.
	UpstreamID []byte
	Raw        []byte
	// Resends: the sender sends the receipt again when the sink returns
	// an error (an smpp upstream answered ESME_RX_T_APPN), so the sink
	// keeps no copy of one it could not store. Without it (the
	// simulator, a receipt re-driven at start) the sink itself tries
	// again a receipt it could not store.
	Resends bool
}

// Inbound is a mobile-originated message (or a deliver_sm the upstream sent
// that is not a receipt), as a connector or the admin API hands it over. Its
// byte slices are views valid only during the call that passes it.
type Inbound struct {
	Connector            string // connector name; "" when injected by an operator
	SystemID             string // target user when already known (operator injection); "" = MO routes decide
	ServiceType          []byte
	SourceTON, SourceNPI byte
	Source               []byte
	DestTON, DestNPI     byte
	Dest                 []byte
	ESMClass             byte
	ProtocolID           byte
	Priority             byte
	DataCoding           byte
	ShortMessage         []byte
	TLVs                 []byte // encoded optional parameters
	Received             int64  // Unix nanoseconds
	// Raw is the deliver_sm or data_sm body it came in (after the header;
	// nil when injected): kept as a dead letter when nobody can take it.
	Raw []byte
}
