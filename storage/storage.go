// Package storage declares what smppd keeps about messages beyond a
// session: the state of every accepted MT message (for query_sm, cancel_sm,
// replace_sm and receipts), the map from upstream message ids to ours, and
// MO and receipts held for users with no receiver bound. A Store is one
// implementation of all of it, as nats-server's StreamStore has its memory
// and file stores behind one interface: storage/memory today, a durable
// store later. storage/storagetest runs the same cases against each.
//
// Everything crosses this seam as values: a Record or a Held is copied in
// and copied out, and names nothing the caller owns, so a store may write
// it to disk or to a peer. Messages still queued in this process are the
// hub's (flow keeps its own index of them), not the store's.
//
// # What may block
//
// The per-message methods (Messages' and UpstreamIDs' methods, Hold,
// Release and Ack) run on event loops and connector workers. They may take
// a short lock, and must never wait for disk I/O, an fsync, the network or
// another goroutine's progress. A store that persists hands its writes to a
// goroutine of its own; when it cannot take one now (a full buffer, a full
// disk, a failed device) the write returns an error at once and the caller
// refuses or counts it, never waits. Lease, Expire, Sweep, Stats and Close
// run on the hub's background goroutine or at start and stop: they may
// block on I/O. So may Recover, Ledger.Balances and DeadLetters.List, which
// run at start or for the operator, and Committer.WaitCommitted, which only
// connector goroutines call.
//
// # Durability
//
// A write that returned nil is in the store's order but not yet on disk:
// Committer says when it is. A caller that must not acknowledge before
// that (an ESME_ROK, a deliver_sm_resp to an upstream) compares
// Committer.Written after its writes with Committer.Committed and defers
// its answer until OnCommit reports the position. A store that is not
// durable reports 0 for both, so nothing waits.
package storage

import (
	"errors"
	"time"

	"github.com/smppd/smppd/msg"
)

// Errors of the store interfaces. Any other error from a write means it
// could not be made (a durable store's full disk or failed device).
var (
	// ErrNotFound: no record for the id (never stored, deleted, evicted or
	// past its lifetime), no upstream id, or no held item for the key.
	ErrNotFound = errors.New("storage: not found")
	// ErrHeldFull: Hold is refused because the held-item limit is reached.
	ErrHeldFull = errors.New("storage: held-item limit reached")
	// ErrBadUpstreamID: an upstream id that is empty or longer than
	// MaxUpstreamID octets is not kept.
	ErrBadUpstreamID = errors.New("storage: upstream id empty or too long")
	// ErrFinal: SetState or Finish on a record whose recorded state is
	// already final. The first final state wins (a late or duplicate
	// receipt changes nothing); the store counts these in Stats.LateFinal.
	ErrFinal = errors.New("storage: record already final")
	// ErrBadLedgerEntry: a ledger entry of an unknown kind or with a
	// negative amount is not written.
	ErrBadLedgerEntry = errors.New("storage: ledger entry of an unknown kind or a negative amount")
	// ErrBusy: a write could not be taken now because the store's device
	// is behind the arrivals (a durable store's full write buffer). It is
	// transient: nothing was written, and the same write may succeed a
	// moment later, so a caller that can wait retries rather than refuse.
	ErrBusy = errors.New("storage: busy, try again")
)

// Address lengths kept in a Record: source_addr and destination_addr are at
// most 20 octets before the NUL (SMPP v3.4 §5.2.8-9, 21 with it); receipts
// quote the first 20 characters of the text (Appendix B).
const (
	MaxAddr = 20
	MaxText = 20
)

// MaxUpstreamID is the longest upstream message id kept: SMPP v3.4
// message_id is a C-octet string of at most 65 octets with its NUL
// (§5.2.23).
const MaxUpstreamID = 64

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
	// Expires is the message's validity end (Unix ns) from the submit; 0
	// takes the store's default lifetime. A durable store keeps a record
	// until max(Submitted, Done, Expires) plus its TTL.
	Expires int64
	// Charge is what the message was charged at acceptance (micro-units,
	// accounts.Amount), 0 if nothing. Put writes it to the ledger with the
	// record, in one write: see Ledger.
	Charge int64
	// ChargeParts is the quota parts taken at acceptance (0 when the
	// user's quota is unlimited): charged to the user's quota account
	// (QuotaAccount) as Charge is to the user's.
	ChargeParts uint16
	// MTRoute is the name of the [[mt_route]] that matched at acceptance
	// (a shared string of the routing table), "" when unknown. It is not
	// msg.Message.Route, which names the connector.
	MTRoute string
	// Rewritten: the traffic policy changed an address (docs/POLICY.md).
	// The Up fields then hold what routing saw and the connector sent (the
	// CDR's and the lookups' addresses), the plain ones what the ESME
	// submitted (its receipt, query_sm and cancel_sm match them). Without
	// it the Up fields are unused and a store need not keep them.
	Rewritten                                      bool
	UpSourceTON, UpSourceNPI, UpDestTON, UpDestNPI byte
	UpSourceLen, UpDestLen                         uint8
	UpSource, UpDest                               [MaxAddr]byte
}

// QuotaAccount is the ledger account of systemID's quota: its balance is
// the quota's base less the parts used. accounts refuses a system_id with
// a space, so the name never collides with a user's.
func QuotaAccount(systemID string) string { return systemID + quotaSuffix }

const quotaSuffix = " quota"

// SourceAddr returns the source address octets (a view into r).
func (r *Record) SourceAddr() []byte { return r.Source[:r.SourceLen] }

// DestAddr returns the destination address octets (a view into r).
func (r *Record) DestAddr() []byte { return r.Dest[:r.DestLen] }

// TextPrefix returns the stored text prefix (a view into r).
func (r *Record) TextPrefix() []byte { return r.Text[:r.TextLen] }

// UpstreamSource returns the source as sent upstream: the rewritten one
// when Rewritten, else the submitted one (a view into r).
func (r *Record) UpstreamSource() (ton, npi byte, addr []byte) {
	if r.Rewritten {
		return r.UpSourceTON, r.UpSourceNPI, r.UpSource[:min(int(r.UpSourceLen), MaxAddr)]
	}
	return r.SourceTON, r.SourceNPI, r.SourceAddr()
}

// UpstreamDest returns the destination as sent upstream, as UpstreamSource.
func (r *Record) UpstreamDest() (ton, npi byte, addr []byte) {
	if r.Rewritten {
		return r.UpDestTON, r.UpDestNPI, r.UpDest[:min(int(r.UpDestLen), MaxAddr)]
	}
	return r.DestTON, r.DestNPI, r.DestAddr()
}

// SetUpstream records the rewritten addresses (Rewritten), truncating to
// the array sizes.
func (r *Record) SetUpstream(srcTON, srcNPI byte, src []byte, dstTON, dstNPI byte, dst []byte) {
	r.Rewritten = true
	r.UpSourceTON, r.UpSourceNPI, r.UpDestTON, r.UpDestNPI = srcTON, srcNPI, dstTON, dstNPI
	r.UpSourceLen = uint8(copy(r.UpSource[:], src))
	r.UpDestLen = uint8(copy(r.UpDest[:], dst))
}

// SetAddrs copies source, destination and the text prefix, truncating to
// the array sizes.
func (r *Record) SetAddrs(src, dst, text []byte) {
	r.SourceLen = uint8(copy(r.Source[:], src))
	r.DestLen = uint8(copy(r.Dest[:], dst))
	r.TextLen = uint8(copy(r.Text[:], text))
}

// Messages stores Records by our message id. Safe for concurrent use; in
// steady state no method allocates. Lookups of an unknown id return
// ErrNotFound.
type Messages interface {
	// Put stores r (copied); a Submitted of 0 is stamped with the store's
	// clock. A record with the same id is replaced (submit_multi
	// destinations share one id: the last Put wins for the addresses, the
	// state is that of the latest SetState). An error means the record is
	// not stored: the caller must not acknowledge the message.
	//
	// r.Charge goes to the ledger: a new id charges its owner r.Charge; a
	// Put that replaces a record charges only r.Charge minus the replaced
	// record's Charge (a failover's second Put charges nothing more, a
	// submit_multi's destinations carry the running total). r.ChargeParts
	// goes to the owner's QuotaAccount by the same rule.
	Put(r *Record) error
	// PutMessage is Put that also keeps m (msg.Message's binary form,
	// msg.AppendBinary; copied) until a connector accepts the message or
	// its record is final, so a durable store can send it again after a
	// restart (see Store.Recover). The memory store keeps no body.
	PutMessage(r *Record, m []byte) error
	// Get copies the record for id into out; on an error out is unchanged.
	Get(id msg.ID, out *Record) error
	// SetState records a new state, error code and done time (0 while not
	// final). ErrFinal when the record's recorded state is already final:
	// the first final state wins.
	SetState(id msg.ID, st msg.State, errCode uint16, done int64) error
	// Finish is SetState followed by Get, in one step: the final receipt's
	// path. For a record whose RegisteredDelivery is 0 (no receipt can be
	// asked) out may get only ID, State, Err, Connector, Submitted and Done.
	// On ErrFinal nothing changes and out gets the record as stored (its
	// first final state).
	Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *Record) error
	// SetAccepted is the connector's acceptance: when final is not 0 the
	// record reads as final (Err errCode, Done at) from at on and ENROUTE
	// before; a SetState or Finish replaces that (such a decided state is
	// not a recorded one: no ErrFinal). A record already final (a receipt
	// that overtook the acceptance) keeps its state. Without final nothing
	// a Get shows changes. A durable store notes the acceptance and drops
	// the message body: the upstream owns the message now.
	SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) error
	// SetReplaced applies a replace_sm to id's record: RegisteredDelivery,
	// the text prefix (Text, TextLen), Parts and Submitted are copied from
	// r, nothing else, so a state recorded meanwhile (a receipt) is kept.
	SetReplaced(id msg.ID, r *Record) error
	// Delete drops the record of a message that was never acknowledged
	// (every connector queue was full), so refusals do not keep records;
	// an operator's erasure of a number deletes its records with it.
	Delete(id msg.ID) error
	// Find copies into dst the records matching q with the highest ids
	// below q.Before, newest first (ids sort by issue order within a
	// scheduler P's run of ids, msg/idrun.go), at most len(dst), and
	// returns how many; the last id returned is the next page's Before.
	// It walks every record, one shard lock at a time: for the lookup APIs
	// and erasure, never per message. Records past their lifetime are not
	// found.
	Find(q *Query, dst []Record) (int, error)
	// Len is the number of records held.
	Len() int
}

// AddrField says which address of a record Query.Addr is compared with.
type AddrField uint8

// Address fields of a Query; 0 means MatchDest.
const (
	MatchDest AddrField = 1 << iota
	MatchSource
)

// Query selects the records Messages.Find returns.
type Query struct {
	// Addr is the number looked for, compared with the fields Fields names
	// ignoring one leading '+' on either side ("+4917..." finds
	// "4917..."); empty finds nothing.
	Addr []byte
	// Fields: MatchDest (also when 0), MatchSource, or both (either
	// address matches).
	Fields AddrField
	// SystemID keeps only that user's records; "" keeps every user's.
	SystemID string
	// Since keeps records submitted at or after it (Unix ns); 0 keeps all.
	Since int64
	// Before keeps ids below it (the paging cursor); 0 keeps all.
	Before msg.ID
}

// Matches reports whether a record owned by systemID, submitted at
// submitted, with id and addresses src and dst, is one q selects. Stores
// call it under their shard lock, so it allocates nothing; for a record
// the policy rewrote they call it with either pair of addresses.
func (q *Query) Matches(id msg.ID, systemID string, submitted int64, src, dst []byte) bool {
	if q.Before != 0 && id >= q.Before || submitted < q.Since || q.SystemID != "" && q.SystemID != systemID {
		return false
	}
	f := q.Fields
	if f == 0 {
		f = MatchDest
	}
	return f&MatchDest != 0 && SameNumber(dst, q.Addr) || f&MatchSource != 0 && SameNumber(src, q.Addr)
}

// SameNumber reports whether a and b are the same address once one
// leading '+' is dropped from each; an empty address matches nothing.
func SameNumber(a, b []byte) bool {
	if len(a) > 0 && a[0] == '+' {
		a = a[1:]
	}
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	return len(a) > 0 && string(a) == string(b)
}

// UpstreamIDs maps (connector, upstream id) to our id; with its errors
// dropped (cmd/smppd does that, logging them) it is a connector.IDMap. It
// also keeps the reverse direction, our id to the upstream id exactly as
// the upstream wrote it, which cancel_sm and replace_sm sent upstream must
// name. Entries expire with the same lifetime as Records. Upstream ids are
// copied: the callers' slices may be views valid only during the call.
type UpstreamIDs interface {
	// PutUpstream records that connector's upstreamID is our id,
	// replacing an earlier mapping of the pair; ErrBadUpstreamID for an
	// empty or over-long id.
	PutUpstream(connector int, upstreamID []byte, id msg.ID) error
	// Upstream finds our id for connector's upstreamID.
	Upstream(connector int, upstreamID []byte) (msg.ID, bool)
	// PutUpstreamOf records that our id is upstreamID upstream, replacing
	// an earlier one; ErrBadUpstreamID as PutUpstream.
	PutUpstreamOf(id msg.ID, upstreamID []byte) error
	// UpstreamOf appends id's upstream id to dst; false if unknown.
	UpstreamOf(id msg.ID, dst []byte) ([]byte, bool)
}

// HeldKind says what a held item is.
type HeldKind uint8

// Held item kinds.
const (
	HeldMO HeldKind = iota + 1
	HeldReceipt
	// HeldCallback is an HTTP request waiting for its target (a receipt
	// callback to a dlr-url, an MO to a URL): Body is package webhook's
	// encoding, SystemID a queue name of webhook's that no system_id can
	// be, so only webhook leases it.
	HeldCallback
)

// HeldKey names one held item for as long as it is held; never 0.
type HeldKey uint64

// Held is an MO or a receipt waiting for a receiver of SystemID to bind:
// a value, copied in by Hold and out by Lease. Body is the encoded
// deliver_sm body (after the header).
type Held struct {
	Key      HeldKey // set by the store
	SystemID string
	Kind     HeldKind
	ID       msg.ID // the receipted message id (receipts), 0 for MO
	Body     []byte
	Expires  int64 // Unix nanoseconds; the item is dropped (and reported) after this
	Attempts int   // deliveries tried so far
	// LeaseUntil, read by Hold only: > 0 makes the item start leased until
	// then (Unix ns), as if a Lease had just handed it out, for a caller
	// that delivers it at once; Release, Ack and Expire treat it as any
	// leased item. Lease never sets it, and no lease survives a restart.
	LeaseUntil int64
}

// HeldLimit returns systemID's share of the held items: Hold refuses an
// item (ErrHeldFull) while its user holds that many, so one user's backlog
// cannot take every other user's room. 0 or less: no share, only the
// store's total limit. It is called on every Hold, so it must be cheap and
// safe for concurrent use.
type HeldLimit func(systemID string) int

// Holds keeps items for users with no receiver bound, in arrival order per
// user. An item is taken by lease and removed by acknowledgement: Lease
// copies the oldest items out and hides them from other Leases while the
// caller tries to deliver them; Ack removes one for good (delivered,
// refused for good, expired); Release gives one back, in its place. So an
// item a process held when it stopped is offered again by a durable store.
// Safe for concurrent use.
type Holds interface {
	// Hold stores a copy of h (Body copied, Key ignored) at the end of its
	// user's queue and returns its key; ErrHeldFull at the store's limit
	// or when the user holds its share (HeldLimit) (the caller counts,
	// logs and drops it).
	Hold(h *Held) (HeldKey, error)
	// Lease copies up to len(dst) of systemID's oldest unleased items into
	// dst (each Body appended to dst[i].Body[:0], so a reused dst does not
	// allocate), leases them until the Unix ns until, and returns how many.
	// Expired items are leased too: the caller acknowledges them.
	Lease(systemID string, until int64, dst []Held) (int, error)
	// Release ends key's lease: the item is offered again, in its place,
	// with its Attempts set to attempts. Releasing an item not leased only
	// sets Attempts.
	Release(key HeldKey, attempts int) error
	// Ack removes key's item, leased or not.
	Ack(key HeldKey) error
	// Expire removes every unleased item whose Expires is before now and
	// passes each to fn (on the caller's goroutine, without the store's
	// lock held; h is valid during the call only), returning how many it
	// removed. It also ends the leases that ran out before now: those items
	// are offered again (or removed, when expired themselves).
	Expire(now int64, fn func(h *Held)) (int, error)
	// Len is the number of items held, leased ones included; Users the
	// number of users with any.
	Len() int
	Users() int
}

// RecipeHolds is a Holds that can keep an item in a compact form: recipe,
// which its Body can be built again from (a receipt's, package
// delivery/dlr), logged in place of the Body by a durable store.
type RecipeHolds interface {
	// HoldRecipe is Hold with h's recipe (copied or logged during the
	// call); Lease gives the item back with its Body, as Hold's.
	HoldRecipe(h *Held, recipe []byte) (HeldKey, error)
}

// HeldCounts is a Holds that tells how many items each user holds
// (leased ones included): the delivery service reads it to slow a user's
// MT asking receipts before its share is full.
type HeldCounts interface {
	// HeldByUser calls fn once for each user holding items, with their
	// number, under the store's lock: fn must be quick and must not call
	// the store.
	HeldByUser(fn func(systemID string, n int))
}

// Sweeper is a store that reclaims its own expired records and upstream
// ids when asked: the hub calls Sweep about once a second from its
// background goroutine, and Sweep returns how many entries went.
type Sweeper interface {
	Sweep(now int64) int
}

// Committer tells how far a store's writes are on disk. Positions are
// opaque, increasing numbers: a write returned at or before Written, and
// it is durable once Committed has reached the Written read after it. A
// write no answer waits on (the disk store's acceptance entry) may be left
// out of Written: it is durable once any later write is.
type Committer interface {
	// Written is the position after the last write that returned.
	Written() uint64
	// Committed is the position up to which writes are durable (with a
	// sync mode that does not wait for the disk: equal to Written).
	Committed() uint64
	// OnCommit sets fn, called on the store's goroutine after each commit
	// with the new Committed; set it before traffic. fn must not block.
	OnCommit(fn func(committed uint64))
	// WaitCommitted blocks until pos is committed, or returns the error
	// that stops it from ever being (a failed device). Connector
	// goroutines only: never an event loop.
	WaitCommitted(pos uint64) error
}

// LedgerKind is what a ledger entry does to a user's balance.
type LedgerKind uint8

// Ledger entry kinds.
const (
	LedgerSet    LedgerKind = iota + 1 // the balance is Amount from here on
	LedgerTopUp                        // adds Amount
	LedgerCharge                       // subtracts Amount (a charge not written with a record)
	LedgerRefund                       // adds Amount back (a refused, failed or deleted message's charge)
)

// String returns the kind's name.
func (k LedgerKind) String() string {
	switch k {
	case LedgerSet:
		return "set"
	case LedgerTopUp:
		return "top-up"
	case LedgerCharge:
		return "charge"
	case LedgerRefund:
		return "refund"
	}
	return "unknown"
}

// LedgerEntry is one change of a user's balance, written with the message
// it belongs to (ID, 0 if none).
type LedgerEntry struct {
	SystemID string
	Kind     LedgerKind
	Amount   int64 // micro-units (accounts.Amount); never negative
	ID       msg.ID
}

// Valid reports whether e can be written (ErrBadLedgerEntry otherwise).
func (e *LedgerEntry) Valid() bool {
	return e.Kind >= LedgerSet && e.Kind <= LedgerRefund && e.Amount >= 0
}

// Ledger keeps the balance changes, so a balance after a restart is the
// last set plus everything after it: nothing lost, nothing applied twice.
// A record's Charge (Messages.Put) is a charge in the same order.
type Ledger interface {
	// Append writes e. It never blocks (like every per-message write): an
	// error means it is not written.
	Append(e *LedgerEntry) error
	// Balances calls fn once per user the ledger knows: the balance the
	// entries give in order, and whether one of them was a LedgerSet
	// (false: the balance is only the changes since the log began, to add
	// to the users file's balance). At start, before traffic.
	Balances(fn func(systemID string, balance int64, set bool)) error
}

// DeadLetter is an MO or receipt from an upstream that can never be
// delivered (no route, an unknown message id): answered ESME_ROK so the
// upstream does not retry it forever, and kept for the operator.
type DeadLetter struct {
	Kind      HeldKind
	Connector int32  // the connector it came from
	SystemID  string // the user it was for, "" if none
	ID        msg.ID // our message id (receipts), 0 if unknown
	Reason    string
	Body      []byte // the deliver_sm body (after the header)
	At        int64  // Unix ns of arrival
}

// DeadLetters is a store's bounded dead-letter list: the oldest go first
// when it is full (counted in Stats.DeadLettersDropped), and a durable
// store drops those older than its TTL.
type DeadLetters interface {
	// Add keeps a copy of d (Body copied); At 0 is stamped with the
	// store's clock.
	Add(d *DeadLetter) error
	// List calls fn with up to max letters (max <= 0: all), newest first;
	// d and its Body are valid during the call only.
	List(max int, fn func(d *DeadLetter)) error
	// Len is the number of letters kept.
	Len() int
}

// Callback methods and levels (Jasmin's dlr-method and dlr-level).
const (
	CallbackPOST uint8 = 0
	CallbackGET  uint8 = 1

	CallbackAccepted uint8 = 1 // level 1: the upstream's answer to the submit
	CallbackFinal    uint8 = 2 // level 2: the final state (the receipt)
	CallbackBoth     uint8 = 3 // level 3: both
)

// MaxCallbackURL is the longest callback URL kept, in octets.
const MaxCallbackURL = 2048

// ErrBadCallback: a callback with an empty or over-long URL, or a level
// or method out of range, is not kept.
var ErrBadCallback = errors.New("storage: callback URL empty or too long, or level or method out of range")

// Callback is where the receipts of a message submitted over HTTP go
// (Jasmin's dlr-url, dlr-level and dlr-method): a side record of the
// message's Record, kept as long as the Record at most.
type Callback struct {
	ID     msg.ID
	Level  uint8 // CallbackAccepted, CallbackFinal or CallbackBoth
	Method uint8 // CallbackPOST or CallbackGET
	// Done has the bits of the levels whose callback is already made (a
	// level-3 message's acceptance, when its final state is still to
	// come, or the other way round: a receipt may overtake the answer).
	Done uint8
	URL  string
	// Expires is the message's validity end (Unix ns), 0 if none: the
	// callback is kept until the later of that and now, plus the TTL.
	Expires int64
}

// Valid reports whether c can be kept (ErrBadCallback otherwise).
func (c *Callback) Valid() bool {
	return len(c.URL) > 0 && len(c.URL) <= MaxCallbackURL && c.Level >= CallbackAccepted &&
		c.Level <= CallbackBoth && c.Method <= CallbackGET && c.Done&^CallbackBoth == 0
}

// Callbacks keeps the Callback of each message submitted with one. The
// writer puts it before the message reaches a connector (which may
// report on it at once), so with a durable store it is in the log before
// the Record. Safe for concurrent use; PutCallback and DeleteCallback are
// per-message writes (never block), Callback a read.
type Callbacks interface {
	// PutCallback keeps a copy of c, replacing id's earlier one, for as
	// long as the store keeps records: the TTL from now, or from
	// c.Expires when that is later. ErrBadCallback when !c.Valid().
	PutCallback(c *Callback) error
	// Callback copies id's callback into out; ErrNotFound when none.
	Callback(id msg.ID, out *Callback) error
	// DeleteCallback drops id's callback (its last request is built);
	// ErrNotFound when none.
	DeleteCallback(id msg.ID) error
}

// NumStates bounds msg.State values: Stats.RecordsByState is indexed by
// state.
const NumStates = int(msg.StateRejected) + 1

// Stats are a store's sizes and counters since it was opened.
type Stats struct {
	Records          int    // records held (expired ones not yet swept included)
	Upstream         int    // upstream id entries held
	Reverse          int    // our id -> upstream id entries held
	Held             int    // held items (leased ones included)
	HeldUsers        int    // users with held items
	Evicted          uint64 // records evicted before their lifetime (a size limit)
	Expired          uint64 // records reclaimed after their lifetime
	UpstreamEvicted  uint64 // upstream ids evicted by a size limit (both directions)
	UpstreamExpired  uint64 // upstream ids reclaimed after their lifetime (both directions)
	UpstreamRejected uint64 // PutUpstream(Of) calls refused with ErrBadUpstreamID
	HeldRefused      uint64 // Hold calls refused with ErrHeldFull (both reasons)
	HeldShareRefused uint64 // of those, refused because the user held its share (HeldLimit)

	// RecordsByState counts the records held by recorded state (index: the
	// msg.State; a state decided at acceptance counts as ENROUTE).
	RecordsByState     [NumStates]int
	LateFinal          uint64 // SetState/Finish calls refused with ErrFinal
	DeadLetters        int    // dead letters kept
	DeadLettersAdded   uint64 // dead letters added
	DeadLettersDropped uint64 // dead letters dropped by the list's bound or age
	Recovered          uint64 // records handed to Recover's fn (non-final at start)
	Callbacks          int    // message callbacks kept (Callbacks)

	// A durable store's files; 0 for the memory store.
	BytesUsed        int64         // bytes of the log's segments
	MaxDisk          int64         // the disk budget (max_disk)
	Segments         int           // segment files
	CompactBacklog   int64         // bytes in segments compaction could reclaim now
	Compactions      uint64        // segments removed by compaction
	Compacted        uint64        // entries re-appended by compaction
	WriteErrors      uint64        // writes refused: full disk (past the high-water mark) or failed device
	DiskFull         bool          // new submits are refused now (high-water mark or ENOSPC)
	DeviceFailed     bool          // the device failed a write or an fsync (EIO): refused until a retry succeeds
	Fsyncs           uint64        // fsyncs made
	FsyncLast        time.Duration // the latest fsync's duration
	FsyncP50         time.Duration // over the recent fsyncs
	FsyncP99         time.Duration
	FsyncMax         time.Duration // the longest fsync
	FsyncTotal       time.Duration // time spent in fsyncs (with Fsyncs: the mean)
	GroupCommitBatch float64       // mean entries per group commit (one write, one fsync)
	GroupCommitMax   uint64        // most entries in one group commit
	GroupCommits     uint64        // group commits (writes of a group)
	// GroupWait: summed over the group commits an entry that wakes the log
	// started (GroupsWoken), the time from that entry to the start of the
	// group's write; over GroupsWoken, the mean wait of a submit arriving
	// at an idle log. (A group only lazy entries or a sync started waits
	// for nothing and is not in either.)
	// CommitAnswer: time the log spent answering each commit (the
	// deferred answers posted, the messages handed over) before the next
	// group's write could start.
	GroupsWoken             uint64
	GroupWait, CommitAnswer time.Duration
	Recovery                time.Duration // time Open took to replay the log and rebuild the index
	ReplayEntries           uint64        // entries replayed at Open
	ReplayCorrupt           uint64        // corrupt entries or segments skipped at Open
	// LazyRode and LazyAlone are the acceptance entries (written without
	// waking the log: no answer waits on them) that went with the group,
	// and fsync, a later write started, and those written alone after
	// the log's 2 ms wait or for a sync.
	LazyRode, LazyAlone uint64
	// LingerFilled and LingerCut are the log's waits after a commit
	// (sync = "always", window-1 traffic) that ended with the requests
	// the commit's answers brought back, and those cut short by their
	// deadline (each cut makes the log skip the next 1, 2, 4 ... 64).
	LingerFilled, LingerCut uint64
	// FsyncFailures: failed fsyncs; with sync = always or interval what
	// each covered is written again from memory before the retry.
	FsyncFailures uint64
}

// Store is one implementation of everything above: what cmd/smppd opens
// and hands to the hub (Messages, UpstreamIDs, Holds), to the connectors
// (UpstreamIDs) and to the metrics (Stats).
type Store interface {
	Messages
	UpstreamIDs
	Sweeper
	// Holds returns the store's held items (a separate value because
	// Messages and Holds both name a Len with different meanings).
	Holds() Holds
	// Recover calls fn once per record whose recorded state is not final,
	// oldest first, with its message bytes (r and m valid during the call
	// only): m is nil when a connector accepted the message (the upstream
	// has it: do not send it again) and the bytes given to PutMessage when
	// its fate upstream is unknown (send it again, same id). A final state
	// decided at acceptance shows in r.State, Err and Done even before its
	// time (re-drive its receipt at Done). At start, before traffic; an
	// error from fn stops it and is returned. The memory store calls
	// nothing.
	Recover(fn func(r *Record, m []byte) error) error
	// Committer tells when writes are durable; a store that is not durable
	// returns one whose Written and Committed are always 0.
	Committer() Committer
	// Ledger returns the store's balance ledger.
	Ledger() Ledger
	// DeadLetters returns the store's dead-letter list.
	DeadLetters() DeadLetters
	// Callbacks returns the store's message callbacks.
	Callbacks() Callbacks
	// IDFloor is the persisted high-water mark of the message-id generator
	// (a msg.ID's raw value), 0 if none; SetIDFloor raises it (a lower v
	// changes nothing), so ids stay unique across a clock step between
	// runs. SetIDFloor never blocks: an error means it is not written.
	IDFloor() uint64
	SetIDFloor(v uint64) error
	// Stats returns a snapshot of the sizes and counters: for metrics,
	// not per message.
	Stats() Stats
	// Close releases the store (a durable one flushes and unlocks its
	// files); nothing may be called after it.
	Close() error
}
