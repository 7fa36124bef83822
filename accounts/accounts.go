// Package accounts authenticates SMPP binds and holds what each user may
// send: users and groups with PBKDF2-SHA256 password hashes, per-user bind
// types, bind-count limits (in total and per bind type), IP allow-lists,
// source-address patterns, sending limits (throughput, balance, quota,
// priority, validity: see UserLimits and Admission), a cache of recently
// verified credentials, and a limiter that slows and then refuses binds from
// sources that keep failing.
//
// A Store holds an immutable snapshot of the users and swaps it atomically on
// Reload (SIGHUP) or a runtime change (the operations API). Everything that
// must outlive a snapshot lives in one entry per system_id: the bind counts,
// an atomic pointer to the user's current record (so a Bind always sees the
// current limits), and the live counters, which a reload carries over (see
// Store.Reload). Every method of Store is safe for concurrent use.
// Authenticate may block for a password hash (tens of milliseconds), so
// callers run it off the event loops; Gate never blocks, and tells the
// caller how long to wait before it (slow_delay) so that the wait holds no
// worker.
package accounts

import (
	"errors"
	"net/netip"
	"time"
)

// Sentinel errors of Authenticate; match with errors.Is. The engine maps
// ErrBadCredentials to ESME_RINVPASWD, ErrThrottled to its choice, and the
// rest to ESME_RBINDFAIL.
var (
	// ErrBadCredentials: unknown system_id or wrong password (deliberately
	// the same error, and the same time spent, for both).
	ErrBadCredentials = errors.New("accounts: bad credentials")
	// ErrDisabled: the user exists but is disabled.
	ErrDisabled = errors.New("accounts: user disabled")
	// ErrBindTypeNotAllowed: the user may not bind with this bind type.
	ErrBindTypeNotAllowed = errors.New("accounts: bind type not allowed")
	// ErrTooManyBinds: the user already holds max_binds binds.
	ErrTooManyBinds = errors.New("accounts: too many binds")
	// ErrIPNotAllowed: the source address is outside the user's allow-list.
	ErrIPNotAllowed = errors.New("accounts: source address not allowed")
	// ErrThrottled: the failed-bind limiter refuses this source address or
	// (address, system_id) pair for now; the password was not checked.
	ErrThrottled = errors.New("accounts: too many failed binds, try later")
)

// Errors of the runtime changes (Upsert, SetEnabled, SetBalance, TopUp,
// Persist); see also ErrLedger.
var (
	// ErrUnknownUser: no current user has this system_id.
	ErrUnknownUser = errors.New("accounts: unknown user")
	// ErrUnknownGroup: a user names a group that is not defined (at load,
	// Reload or Upsert).
	ErrUnknownGroup = errors.New("accounts: unknown group")
	// ErrUnlimitedBalance: TopUp on a user whose balance is unlimited.
	ErrUnlimitedBalance = errors.New("accounts: balance is unlimited")
	// ErrNotSaved wraps the Persist hook's error: the change is in force in
	// memory, the users file is behind, and the Store stays dirty so the
	// next Persist retries.
	ErrNotSaved = errors.New("accounts: change not saved to the users file")
)

// BindType is the kind of bind an ESME asks for.
type BindType uint8

// Bind types (SMPP 3.4 §4.1).
const (
	BindTransmitter BindType = 1 << iota
	BindReceiver
	BindTransceiver
)

// AllBindTypes is the mask of every bind type.
const AllBindTypes = BindTransmitter | BindReceiver | BindTransceiver

// Index is b's position in User.MaxBindsPerType: 0 transmitter, 1 receiver,
// 2 transceiver; -1 for anything but a single bind type.
func (b BindType) Index() int {
	switch b {
	case BindTransmitter:
		return 0
	case BindReceiver:
		return 1
	case BindTransceiver:
		return 2
	}
	return -1
}

// String returns the config spelling: transmitter, receiver, transceiver.
func (b BindType) String() string {
	switch b {
	case BindTransmitter:
		return "transmitter"
	case BindReceiver:
		return "receiver"
	case BindTransceiver:
		return "transceiver"
	}
	return "BindType(invalid)"
}

// ParseBindTypes turns config names into a mask (a set of BindType bits).
func ParseBindTypes(names []string) (BindType, error) {
	var m BindType
	for _, n := range names {
		switch n {
		case "transmitter":
			m |= BindTransmitter
		case "receiver":
			m |= BindReceiver
		case "transceiver":
			m |= BindTransceiver
		default:
			return 0, errors.New("accounts: unknown bind type " + n)
		}
	}
	return m, nil
}

// User is one account. The Store keeps its own copy of what it is given
// (the value is not retained) and hands out its records through
// Bind.User(); a record is immutable once published: a change makes a new
// record.
type User struct {
	SystemID     string
	PasswordHash string // "$pbkdf2-sha256$<iter>$<b64 salt>$<b64 hash>"
	Enabled      bool
	// Group names the user's Group; "" = none. A user of a disabled group
	// cannot bind (ErrDisabled).
	Group     string
	BindTypes BindType       // mask of allowed bind types
	MaxBinds  int            // binds of any type held at once; 0 = unlimited
	AllowIPs  []netip.Prefix // empty = any source address
	// Auth is what a bind must prove: the password (PasswordHash), a TLS
	// client certificate pinned by CertSubjects or CertSHA256, or both.
	// With AuthCert, PasswordHash may be "".
	Auth         AuthMethod
	CertSubjects []string   // pinned subjects (PeerCert.Subject), exact match
	CertSHA256   [][32]byte // pinned certificate fingerprints
	// MaxBindsPerType caps the binds of each type held at once, indexed by
	// BindType.Index (transmitter, receiver, transceiver); 0 = unlimited.
	// Checked in addition to MaxBinds.
	MaxBindsPerType [3]int
	// DefaultSource is the source_addr the flow uses when a submit leaves
	// it empty; "" = none. It must pass SourceAddrs.
	DefaultSource string
	// SourceAddrs are the source_addr values the user may send from; empty
	// = any. Each is exact ("12345"), a prefix ending in '*' ("336*"; a
	// lone "*" allows any), or "re:" and an RE2 regexp that must match the
	// whole address ("re:33[67][0-9]{8}"). Compiled by Prepare.
	SourceAddrs []string
	// Receipts allows the user to ask for delivery receipts; the flow
	// answers registered_delivery != 0 from a user without it with
	// StatusInvRegDlvFlg.
	Receipts bool
	// Deny lists the HTTP API rights the user does not have (Right);
	// every other is granted.
	Deny Rights
	// APIKeyHash is the hash of the user's HTTP API key (NewAPIKey,
	// "sha256$<hex>"); "" = no key.
	APIKeyHash string
	// CallbackSecret signs the user's receipt callbacks to a dlr-url
	// (X-Smppd-Signature); "" = unsigned.
	CallbackSecret string
	// Limits are the sending limits with their live counters; the flow
	// passes &bind.User().Limits to Admission.Admit.
	Limits UserLimits
	// MaxHeldPerUser is the user's share of the held receipts and MO
	// (Store.HeldLimit); 0 = its group's, else Options.HeldShare.
	MaxHeldPerUser int

	src      []srcPattern // SourceAddrs compiled by Prepare
	compiled bool         // Prepare ran
	inactive bool         // the Store marks users of disabled groups and removed users
}

// Active reports whether the record allows sending: Enabled, its group
// enabled, and still present in the Store (a Bind of a removed user keeps
// its last record, marked inactive). The flow may check it per message to
// stop a session whose user was disabled after it bound.
func (u *User) Active() bool { return u.Enabled && !u.inactive }

// Group is a set of users that can be disabled together.
type Group struct {
	Name    string
	Enabled bool
	// MaxHeldPerUser is the held-item share of each user of the group that
	// sets none itself; 0 = Options.HeldShare.
	MaxHeldPerUser int
}

// Options configures a Store. The zero value disables the cache and the
// limiter and uses the real clock.
type Options struct {
	CacheTTL  time.Duration // how long a verified password is trusted; 0 = no cache
	CacheSize int           // entries; 0 = no cache
	Limits    Limits
	Clock     Clock // nil = the system clock
	// Persist writes the users back to the users file (config.SaveUsers,
	// atomically); nil = runtime changes stay in memory. The Store calls it
	// after every runtime change and from Store.Persist, with a fresh
	// snapshot it may keep, never two at once, and with no lock held that
	// Authenticate, Bind or the read methods need. It must not call the
	// Store's changing methods (Reload, ReloadWith, Upsert, Set*, TopUp,
	// Persist): they wait for it.
	Persist func(users []User) error
	// Ledger, when set, keeps balances and quotas durable: NewStore takes
	// the live values from it (see Store.Restored) and every set, top-up,
	// logged charge and refund is written to it (see Ledger). nil = the
	// users file's values at start, as without a durable store.
	Ledger Ledger
	// HeldShare is the held-item share (Store.HeldLimit) of a user that
	// sets no max_held_per_user, nor its group: [delivery]
	// max_held_per_user as resolved by config. 0 = no share.
	HeldShare int
}

// Limits configures the failed-bind limiter ([bind-limits]). Failures are
// counted per source address (IPv6 per /64), per (address, system_id) pair
// and per system_id; the strictest key decides, and a system_id alone is
// only ever slowed, never blocked (see Store.Gate).
type Limits struct {
	FailWindow time.Duration // failures are counted in windows of this length
	SlowAfter  int           // after this many failures of any key, each bind waits SlowDelay; 0 = never
	SlowDelay  time.Duration
	BlockAfter int           // after this many failures of a pair, its binds get ErrThrottled; 0 = never
	BlockFor   time.Duration // for this long after the blocking failure
	MaxKeys    int           // tracked keys per kind; the least recently failed is evicted (0 = 65536)
	// AddressBlockAfter: after this many failures from an address, for any
	// system_ids, all its binds get ErrThrottled; 0 = never.
	AddressBlockAfter int
}

// Clock is the time source, injected for tests.
type Clock interface {
	Now() time.Time
}

// Stats are cumulative counters of a Store.
type Stats struct {
	CacheHits   uint64 // binds answered from the verified-credential cache
	CacheMisses uint64 // binds that ran the password hash
	Slowed      uint64 // binds Gate delayed by slow_delay
	Throttled   uint64 // binds refused with ErrThrottled
	// LedgerErrors counts ledger entries the Ledger refused: changes not
	// made, and refunds in force but not written.
	LedgerErrors uint64
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
