// Package accounts authenticates SMPP binds: users with PBKDF2-SHA256
// password hashes, per-user bind types, bind-count limits and IP allow-lists,
// a cache of recently verified credentials, and a limiter that slows and then
// refuses binds from sources and system_ids that keep failing.
//
// A Store holds an immutable snapshot of the users and swaps it atomically on
// Reload (SIGHUP); bind counts live outside the snapshot, keyed by system_id,
// so a reload never forgets who is bound. Every method of Store is safe for
// concurrent use. Authenticate may block for a password hash (tens of
// milliseconds) or a slow_delay, so callers run it off the event loops.
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
	// ErrThrottled: the failed-bind limiter refuses this source or system_id
	// for now; the password was not checked.
	ErrThrottled = errors.New("accounts: too many failed binds, try later")
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

// User is one account as the Store is given it. The Store keeps its own
// copy; the value is not retained.
type User struct {
	SystemID     string
	PasswordHash string // "$pbkdf2-sha256$<iter>$<b64 salt>$<b64 hash>"
	Enabled      bool
	BindTypes    BindType       // mask of allowed bind types
	MaxBinds     int            // binds of any type held at once; 0 = unlimited
	AllowIPs     []netip.Prefix // empty = any source address
}

// Options configures a Store. The zero value disables the cache and the
// limiter and uses the real clock.
type Options struct {
	CacheTTL  time.Duration // how long a verified password is trusted; 0 = no cache
	CacheSize int           // entries; 0 = no cache
	Limits    Limits
	Clock     Clock // nil = the system clock
}

// Limits configures the failed-bind limiter ([bind-limits]). Failures are
// counted per source address (IPv6 per /64) and per system_id separately;
// the stricter of the two decides.
type Limits struct {
	FailWindow time.Duration // failures are counted in windows of this length
	SlowAfter  int           // after this many failures, each bind waits SlowDelay; 0 = never
	SlowDelay  time.Duration
	BlockAfter int           // after this many, binds get ErrThrottled; 0 = never
	BlockFor   time.Duration // for this long after the blocking failure
	MaxKeys    int           // tracked keys per kind; the least recently failed is evicted (0 = 65536)
}

// Clock is the time source, injected for tests.
type Clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

// Stats are cumulative counters of a Store.
type Stats struct {
	CacheHits   uint64 // binds answered from the verified-credential cache
	CacheMisses uint64 // binds that ran the password hash
	Slowed      uint64 // binds delayed by slow_delay
	Throttled   uint64 // binds refused with ErrThrottled
}

type systemClock struct{}

func (systemClock) Now() time.Time        { return time.Now() }
func (systemClock) Sleep(d time.Duration) { time.Sleep(d) }
