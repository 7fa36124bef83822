package accounts

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// MicrosPerUnit is the fixed-point scale of balances and rates: one unit of
// currency is 1,000,000 micro-units, so sums are exact integers.
const MicrosPerUnit = 1_000_000

// MaxMicros is the largest limited balance: just under 10^12 units. The
// cap keeps every balance far below the ledger's mark of an unlimited one
// (LedgerUnlimited).
const MaxMicros int64 = 1e18 - 1

// ErrAmount is returned for a balance that is neither "unlimited" nor a
// non-negative decimal with at most six fraction digits.
var ErrAmount = errors.New(`accounts: balance must be "unlimited" or a non-negative number with at most 6 decimals`)

// errAmountTooLarge is ErrAmount for a well-formed amount beyond what the
// micro-unit counter holds.
var errAmountTooLarge = fmt.Errorf("%w: too large", ErrAmount)

// Amount is a configured balance: unlimited (the zero value, so an absent
// `balance` key means unlimited) or a number of micro-units. It decodes from
// TOML as a string ("unlimited", "12.5") or a number (12.5, 100): the TOML
// decoder hands numbers to UnmarshalText as text.
type Amount struct {
	limited bool
	micros  int64
}

// Unlimited is the unlimited Amount.
var Unlimited = Amount{}

// Micros returns an Amount of m micro-units; m < 0 is treated as 0.
func Micros(m int64) Amount { return Amount{limited: true, micros: max(m, 0)} }

// IsUnlimited reports whether a is unlimited.
func (a Amount) IsUnlimited() bool { return !a.limited }

// Micros is the amount in micro-units (0 when unlimited).
func (a Amount) Micros() int64 { return a.micros }

// ParseAmount parses "unlimited" (any case, or empty) or a decimal such as
// "12", "+0.25", "12.500000". The decimal is parsed exactly, never through
// float64.
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "unlimited") {
		return Unlimited, nil
	}
	s = strings.TrimPrefix(s, "+")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && (!dot || frac == "") || len(frac) > 6 || !digits(whole) || !digits(frac) {
		return Amount{}, ErrAmount
	}
	var w int64
	if whole != "" {
		v, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || v > MaxMicros/MicrosPerUnit {
			return Amount{}, errAmountTooLarge
		}
		w = v
	}
	var f int64
	for i := 0; i < 6; i++ {
		f *= 10
		if i < len(frac) {
			f += int64(frac[i] - '0')
		}
	}
	return Micros(w*MicrosPerUnit + f), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String is "unlimited" or the decimal with trailing zeros trimmed ("12.5").
func (a Amount) String() string {
	if !a.limited {
		return "unlimited"
	}
	s := strconv.FormatInt(a.micros/MicrosPerUnit, 10)
	if f := a.micros % MicrosPerUnit; f != 0 {
		fs := strconv.FormatInt(f+MicrosPerUnit, 10)[1:] // zero-padded to 6
		s += "." + strings.TrimRight(fs, "0")
	}
	return s
}

// UnmarshalText implements encoding.TextUnmarshaler (TOML decoding).
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalText implements encoding.TextMarshaler (writing the users file back).
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// RateMicros converts a route rate per part to micro-units, rounding to the
// nearest micro-unit. It reports false for a negative, NaN or infinite rate
// or one above 1e12 units.
func RateMicros(rate float64) (int64, bool) {
	if !(rate >= 0) || rate > 1e12 {
		return 0, false
	}
	return int64(math.Round(rate * MicrosPerUnit)), true
}

// counter is a non-negative int64 that is taken from with a CAS loop, so
// concurrent takers can never drive it below zero, and given back with an
// atomic add.
type counter struct {
	v         atomic.Int64
	unlimited bool
}

func (c *counter) take(n int64) bool {
	if c.unlimited || n == 0 {
		return n >= 0
	}
	if n < 0 {
		return false
	}
	for {
		cur := c.v.Load()
		if cur < n {
			return false
		}
		if c.v.CompareAndSwap(cur, cur-n) {
			return true
		}
	}
}

// adjust adds delta (either sign) unless the result would be negative or
// overflow.
func (c *counter) adjust(delta int64) bool {
	if c.unlimited {
		return true
	}
	for {
		cur := c.v.Load()
		next := cur + delta
		if (delta > 0 && next < cur) || (delta < 0 && next > cur) || next < 0 {
			return false
		}
		if c.v.CompareAndSwap(cur, next) {
			return true
		}
	}
}

// set stores v (clamped at 0) in a limited counter. Takes racing with it
// are overwritten: an absolute value set by the operator wins.
func (c *counter) set(v int64) {
	if !c.unlimited {
		c.v.Store(max(v, 0))
	}
}

// shift adds delta (either sign) to a limited counter, clamping at 0 and at
// MaxInt64 instead of refusing; concurrent takes are kept.
func (c *counter) shift(delta int64) {
	if c.unlimited {
		return
	}
	for {
		cur := c.v.Load()
		next := cur + delta
		switch {
		case delta > 0 && next < cur:
			next = math.MaxInt64
		case next < 0:
			next = 0
		}
		if c.v.CompareAndSwap(cur, next) {
			return
		}
	}
}

// Credit is a user's live balance in micro-units. Charge and Refund are
// lock-free and allocation-free; a nil or unlimited Credit accepts every
// charge and keeps no count. Safe for concurrent use.
type Credit struct {
	c    counter
	ref  *ledgerRef // nil: not in a ledger (NewCredit)
	lend *lendRef   // shared mode: this node's slice of a cluster pool
}

// NewCredit returns a Credit holding a.
func NewCredit(a Amount) *Credit {
	cr := &Credit{}
	cr.c.unlimited = a.IsUnlimited()
	cr.c.v.Store(a.Micros())
	return cr
}

// Charge takes m micro-units if the balance holds at least m (m < 0 fails).
func (cr *Credit) Charge(m int64) bool { return cr == nil || cr.c.take(m) }

// Refund gives back m micro-units taken by an earlier Charge. Refunding more
// than was charged is the caller's bug; it is refused only on overflow.
func (cr *Credit) Refund(m int64) {
	if cr != nil && m > 0 {
		cr.c.adjust(m)
	}
}

// Adjust adds delta micro-units (a top-up, or a negative correction) and
// reports false, changing nothing, if the balance would go below zero.
func (cr *Credit) Adjust(delta int64) bool { return cr == nil || cr.c.adjust(delta) }

// Balance is the current balance; in shared mode the cluster-wide one
// (Directory.Total), not this node's slice.
func (cr *Credit) Balance() Amount {
	if cr == nil || cr.c.unlimited {
		return Unlimited
	}
	if r := cr.lend; r != nil {
		if v, unl, ok := r.dir.Total(r.account); ok {
			if unl {
				return Unlimited
			}
			return Micros(v)
		}
	}
	return Micros(cr.c.v.Load())
}

// Quota is a user's remaining message quota, counted in message parts (each
// part is one submit upstream). A nil Quota or one built from 0 is unlimited.
// Safe for concurrent use; Take and Refund are lock-free and allocation-free.
type Quota struct {
	c    counter
	ref  *ledgerRef // nil: not in a ledger (NewQuota)
	lend *lendRef   // shared mode: this node's slice of a cluster pool
}

// NewQuota returns a quota of n parts; n <= 0 is unlimited.
func NewQuota(n int64) *Quota {
	q := &Quota{}
	q.c.unlimited = n <= 0
	q.c.v.Store(max(n, 0))
	return q
}

// Take uses n parts if at least n are left (n < 0 fails).
func (q *Quota) Take(n int64) bool { return q == nil || q.c.take(n) }

// Refund gives back n parts taken by an earlier Take.
func (q *Quota) Refund(n int64) {
	if q != nil && n > 0 {
		q.c.adjust(n)
	}
}

// Left is the number of parts left and whether the quota is limited at
// all; in shared mode the cluster-wide count (Directory.Total).
func (q *Quota) Left() (n int64, limited bool) {
	if q == nil || q.c.unlimited {
		return 0, false
	}
	if r := q.lend; r != nil {
		if v, unl, ok := r.dir.Total(r.account); ok && !unl {
			return v, true
		}
	}
	return q.c.v.Load(), true
}
