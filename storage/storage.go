// Package storage declares what smppd keeps about messages beyond a
// session: the state of every accepted MT message (for query_sm, cancel_sm,
// replace_sm and receipts), the map from upstream message ids to ours, and
// MO and receipts held for users with no receiver bound. storage/memory is
// the in-memory implementation; a durable one will sit behind the same
// interfaces.
package storage

import (
	"errors"

	"github.com/smppd/smppd/msg"
)

// Address lengths kept in a Record: source_addr and destination_addr are at
// most 20 octets before the NUL (SMPP 3.4 §5.2.8-9, 21 with it); receipts
// quote the first 20 characters of the text (Appendix B).
const (
	MaxAddr = 20
	MaxText = 20
)

// Record is the compact state of one accepted MT message id. It is a plain
// value: Get copies it out, so callers never share it with the store.
type Record struct {
	ID                 msg.ID
	SystemID           string // owner
	State              msg.State
	Err                uint16 // error code (query_sm error_code, receipt err:), 0 = none
	RegisteredDelivery byte
	DataCoding         byte
	ESMClass           byte
	SourceTON          byte
	SourceNPI          byte
	DestTON            byte
	DestNPI            byte
	SourceLen          uint8
	DestLen            uint8
	TextLen            uint8
	Source             [MaxAddr]byte
	Dest               [MaxAddr]byte
	Text               [MaxText]byte // first octets of short_message (or message_payload)
	Connector          int32         // routing table id, -1 before routing
	Submitted          int64         // Unix nanoseconds of acceptance
	Done               int64         // Unix nanoseconds of the final state; 0 while not final
	// Parts is how many parts the message is billed for (the most it has
	// had: replace_sm charges only parts beyond it); at most 255.
	Parts uint8
	// Live is the queued message while it is still here (not yet claimed by
	// its connector), so cancel_sm and replace_sm can act on it; nil after.
	Live *msg.Message
}

// SourceAddr returns the source address octets (a view into r).
func (r *Record) SourceAddr() []byte { return r.Source[:r.SourceLen] }

// DestAddr returns the destination address octets (a view into r).
func (r *Record) DestAddr() []byte { return r.Dest[:r.DestLen] }

// TextPrefix returns the stored text prefix (a view into r).
func (r *Record) TextPrefix() []byte { return r.Text[:r.TextLen] }

// SetAddrs copies source, destination and the text prefix, truncating to
// the array sizes.
func (r *Record) SetAddrs(src, dst, text []byte) {
	r.SourceLen = uint8(copy(r.Source[:], src))
	r.DestLen = uint8(copy(r.Dest[:], dst))
	r.TextLen = uint8(copy(r.Text[:], text))
}

// Messages stores Records by our message id. Safe for concurrent use; Put,
// Get, SetState and SetLive allocate nothing in steady state. Records are
// kept for a configured time after acceptance and the store is bounded in
// size: when full, the oldest record goes first.
type Messages interface {
	// Put stores r (copied). A record with the same id is replaced
	// (submit_multi destinations share one id: the last Put wins for the
	// addresses, the state is that of the latest SetState).
	Put(r *Record)
	// Get copies the record for id into out; false if unknown or evicted.
	Get(id msg.ID, out *Record) bool
	// SetState records a new state, error code and done time (0 while not
	// final) and clears Live; false if the id is unknown.
	SetState(id msg.ID, st msg.State, errCode uint16, done int64) bool
	// Finish is SetState followed by Get, in one step: the final receipt's
	// path. For a record whose RegisteredDelivery is 0 (no receipt can be
	// asked) out may get only ID, State, Err, Connector, Submitted and Done.
	Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *Record) bool
	// SetAccepted is the connector's acceptance: it clears Live and, when
	// final is not 0, makes the record read as final (Err errCode, Done at)
	// from at on while it reads ENROUTE before; a SetState or Finish
	// replaces that. false if the id is unknown.
	SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) bool
	// SetReplaced applies a replace_sm to id's record: RegisteredDelivery,
	// the text prefix (Text, TextLen), Parts and Submitted are copied from
	// r, nothing else, under the record's lock, so a state recorded
	// meanwhile (a receipt) is kept; false if the id is unknown.
	SetReplaced(id msg.ID, r *Record) bool
	// SetLive sets the record's Live message, or clears it when m is nil.
	// Only single-destination messages have a Live message (submit_multi
	// destinations share an id and never set one), so an unconditional
	// clear cannot drop another message's pointer.
	SetLive(id msg.ID, m *msg.Message) bool
	// WithLive calls fn with id's Live message (nil when it has none or id
	// is unknown) while holding the record's lock: the message cannot be
	// released meanwhile, because whoever releases it clears Live first
	// (SetLive or SetState). fn must be short and must not call the store.
	WithLive(id msg.ID, fn func(m *msg.Message))
	// Delete drops the record of a message that was never accepted (every
	// connector queue was full), so refusals do not push accepted
	// messages' records out; false if the store kept it (it may then only
	// be marked final).
	Delete(id msg.ID) bool
	// Len is the number of records held.
	Len() int
}

// UpstreamIDs maps (connector, upstream id) to our id; it satisfies
// connector.IDMap. It also keeps the reverse direction, our id to the
// upstream id exactly as the upstream wrote it, which cancel_sm and
// replace_sm sent upstream must name. Entries expire with the same
// lifetime as Records.
type UpstreamIDs interface {
	PutUpstream(connector int, upstreamID []byte, id msg.ID)
	Upstream(connector int, upstreamID []byte) (msg.ID, bool)
	// PutUpstreamOf records that our id is upstreamID upstream (copied),
	// replacing an earlier one.
	PutUpstreamOf(id msg.ID, upstreamID []byte)
	// UpstreamOf appends id's upstream id to dst; false if unknown.
	UpstreamOf(id msg.ID, dst []byte) ([]byte, bool)
}

// HeldKind says what a held item is.
type HeldKind uint8

// Held item kinds.
const (
	HeldMO HeldKind = iota + 1
	HeldReceipt
)

// Held is an MO or a receipt waiting for a receiver of SystemID to bind.
// Body is the encoded deliver_sm body (after the header). The creator owns
// the value; the store keeps the pointer until Take or Expire hands it back.
type Held struct {
	SystemID string
	Kind     HeldKind
	ID       msg.ID // the receipted message id (receipts), 0 for MO
	Body     []byte
	Expires  int64 // Unix nanoseconds; the item is dropped (and reported) after this
	Attempts int   // deliveries tried so far
}

// ErrHeldFull is returned by Hold when the held-item limit is reached.
var ErrHeldFull = errors.New("storage: held-item limit reached")

// Holds keeps items for users with no receiver bound, in arrival order per
// user. Safe for concurrent use.
type Holds interface {
	// Hold appends h to its user's queue; ErrHeldFull when the store is at
	// its limit (the caller counts, logs and drops or retries it).
	Hold(h *Held) error
	// Take moves up to len(dst) of systemID's oldest items into dst and
	// returns how many it moved.
	Take(systemID string, dst []*Held) int
	// Expire removes every item whose Expires is before now and passes each
	// to fn (on the caller's goroutine), returning how many expired.
	Expire(now int64, fn func(*Held)) int
	// Len is the number of items held; Users the number of users with any.
	Len() int
	Users() int
}
