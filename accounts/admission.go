package accounts

import (
	"errors"
	"math"
	"math/bits"
	"time"

	"github.com/smppd/smppd/msg"
)

// UserLimits are a user's sending limits as written in the users file, plus
// the live counters (token bucket, balance, quota) that Prepare builds.
// Copies made after Prepare share those counters, so one user has one bucket
// and one balance however many binds hold it.
type UserLimits struct {
	// Throughput is the sustained rate in message parts per second; 0 = unlimited.
	Throughput float64 `toml:"throughput"`
	// Burst is how many parts may go back to back; 0 = ceil(throughput).
	Burst int `toml:"burst"`
	// Balance is prepaid credit charged per part at the route's rate;
	// absent or "unlimited" = unlimited.
	Balance Amount `toml:"balance"`
	// Quota is the number of parts the user may send in all; 0 = unlimited.
	Quota int64 `toml:"quota"`
	// QuotaUsed is how many of them are used: the runtime state that
	// smppd writes back to the users file (Store.Users), so a used-up
	// quota (QuotaUsed >= Quota) is never confused with 0 = unlimited.
	// Ignored when Quota is 0.
	QuotaUsed int64 `toml:"quota_used"`
	// MaxValidity is the longest validity period a submit may ask for, as a
	// duration string ("48h"); 0 = unlimited.
	MaxValidity time.Duration `toml:"max_validity"`
	// MaxPriority is the highest priority_flag allowed, 0-3; absent = 3.
	MaxPriority *uint8 `toml:"max_priority"`

	live *liveLimits
}

// liveLimits are the mutable counters; one allocation per user.
type liveLimits struct {
	bucket *Bucket
	credit *Credit
	quota  *Quota
	maxPri uint8
}

// ErrLimits is returned by Prepare for values out of range.
var ErrLimits = errors.New("accounts: bad limits: throughput, burst, quota, quota_used and max_validity must be >= 0, max_priority 0-3")

// Prepare checks the configured values and builds fresh live counters from
// them (a full bucket, the configured balance, Quota-QuotaUsed parts left).
// Call it once, before the limits are shared; it is not safe concurrently
// with Admit on u.
func (u *UserLimits) Prepare() error {
	if err := u.check(); err != nil {
		return err
	}
	u.live = u.newLive(NewBucket(u.Throughput, u.Burst), NewCredit(u.Balance), u.newQuota(u.QuotaUsed))
	return nil
}

func (u *UserLimits) check() error {
	if !(u.Throughput >= 0) || math.IsInf(u.Throughput, 1) || u.Burst < 0 || u.Quota < 0 || u.QuotaUsed < 0 ||
		u.MaxValidity < 0 || (u.MaxPriority != nil && *u.MaxPriority > 3) {
		return ErrLimits
	}
	return nil
}

// newLive assembles live counters with u's max_priority.
func (u *UserLimits) newLive(b *Bucket, c *Credit, q *Quota) *liveLimits {
	l := &liveLimits{bucket: b, credit: c, quota: q, maxPri: 3}
	if u.MaxPriority != nil {
		l.maxPri = *u.MaxPriority
	}
	return l
}

// newQuota is a counter for u.Quota with used parts gone (none left, not
// unlimited, when used >= Quota).
func (u *UserLimits) newQuota(used int64) *Quota {
	if u.Quota <= 0 {
		return NewQuota(0)
	}
	q := &Quota{}
	q.c.v.Store(max(u.Quota-max(used, 0), 0))
	return q
}

// used is how many of u.Quota parts the live counter has used (0 when the
// quota is unlimited or not prepared).
func (u *UserLimits) used() int64 {
	left, limited := u.QuotaCounter().Left()
	if !limited || u.Quota <= 0 {
		return 0
	}
	return max(u.Quota-left, 0)
}

// Bucket, Credit and QuotaLeft expose the live counters (nil before Prepare)
// for the operations API and for persisting balances.
func (u *UserLimits) Bucket() *Bucket {
	if u.live == nil {
		return nil
	}
	return u.live.bucket
}

// Credit is the live balance (nil before Prepare).
func (u *UserLimits) Credit() *Credit {
	if u.live == nil {
		return nil
	}
	return u.live.credit
}

// QuotaCounter is the live quota (nil before Prepare).
func (u *UserLimits) QuotaCounter() *Quota {
	if u.live == nil {
		return nil
	}
	return u.live.quota
}

// Refusal says why Admit refused a submit; Admitted (zero) means it did not.
type Refusal uint8

const (
	Admitted          Refusal = iota
	RefuseThrottled           // throughput bucket empty
	RefuseBalance             // balance below rate × parts
	RefuseQuota               // quota has fewer parts left than needed
	RefusePriority            // priority_flag above max_priority (or above 3)
	RefusePriorityOff         // priority_flag != 0 and max_priority is 0
	RefuseValidity            // validity period above max_validity, or negative
	RefuseInternal            // caller bug: parts < 1, bad rate, limits not prepared
)

var refusalNames = [...]string{
	Admitted:          "admitted",
	RefuseThrottled:   "throttled",
	RefuseBalance:     "insufficient balance",
	RefuseQuota:       "quota exhausted",
	RefusePriority:    "priority above max_priority",
	RefusePriorityOff: "priority not allowed",
	RefuseValidity:    "validity above max_validity",
	RefuseInternal:    "internal error",
}

func (r Refusal) String() string {
	if int(r) < len(refusalNames) {
		return refusalNames[r]
	}
	return "refusal(" + itoa(int(r)) + ")"
}

func itoa(v int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// SMPP command_status values used by admission and the user checks the flow
// makes (spec §5.1.3, Table 5-2). accounts does not import codec; the flow
// puts these straight into submit_sm_resp.
const (
	StatusOK           uint32 = 0x00000000 // ESME_ROK
	StatusInvPrtFlg    uint32 = 0x00000006 // ESME_RINVPRTFLG
	StatusInvRegDlvFlg uint32 = 0x00000007 // ESME_RINVREGDLVFLG: registered_delivery from a user without Receipts
	StatusSysErr       uint32 = 0x00000008 // ESME_RSYSERR
	StatusInvSrcAdr    uint32 = 0x0000000A // ESME_RINVSRCADR: source_addr refused by User.SourceAllowed
	StatusInvDstAdr    uint32 = 0x0000000B // ESME_RINVDSTADR: no route, or a filter refused the destination
	StatusInvSysID     uint32 = 0x0000000F // ESME_RINVSYSID
	StatusSubmitFail   uint32 = 0x00000045 // ESME_RSUBMITFAIL
	StatusThrottled    uint32 = 0x00000058 // ESME_RTHROTTLED
	StatusInvValidity  uint32 = 0x00000062 // ESME_RINVEXPIRY
)

// Status table (native / JasminCompat):
//
//	Refusal            native            JasminCompat      why
//	Throttled          ESME_RTHROTTLED   ESME_RTHROTTLED   spec meaning; clients back off and retry
//	Balance            ESME_RSUBMITFAIL  ESME_RSYSERR      permanent until topped up: a retry will not help,
//	Quota              ESME_RSUBMITFAIL  ESME_RSYSERR      and RSYSERR makes clients retry; Jasmin uses RSYSERR
//	Priority           ESME_RINVPRTFLG   ESME_RINVPRTFLG   Jasmin's priority filter answers RINVPRTFLG
//	PriorityOff        ESME_RINVPRTFLG   ESME_RINVSYSID    Jasmin answers RINVSYSID without the priority right
//	Validity           ESME_RINVEXPIRY   ESME_RINVEXPIRY   Jasmin does not check validity on SMPP
//	Internal           ESME_RSYSERR      ESME_RSYSERR      our bug, transient from the client's view
var (
	nativeStatus = [...]uint32{StatusOK, StatusThrottled, StatusSubmitFail, StatusSubmitFail,
		StatusInvPrtFlg, StatusInvPrtFlg, StatusInvValidity, StatusSysErr}
	jasminStatus = [...]uint32{StatusOK, StatusThrottled, StatusSysErr, StatusSysErr,
		StatusInvPrtFlg, StatusInvSysID, StatusInvValidity, StatusSysErr}
)

// Admission applies UserLimits to submits. The zero value gives the native
// statuses; it holds no state of its own, so one Admission serves every
// session concurrently.
type Admission struct {
	// JasminCompat answers balance and quota refusals with ESME_RSYSERR and a
	// priority from a user with max_priority 0 with ESME_RINVSYSID, as Jasmin
	// does, for operators migrating from it.
	JasminCompat bool
}

// Unadmit gives back the throughput tokens an Admit took for parts parts
// when the message then found no room in any queue (its Charge is refunded
// separately): a refused or held message uses none of the user's rate.
func (a *Admission) Unadmit(u *UserLimits, parts int, now int64) {
	if u == nil || u.live == nil || parts < 1 {
		return
	}
	u.live.bucket.Return(now, parts)
}

// Status is the SMPP command_status for r (see the table above); unknown
// refusals map to ESME_RSYSERR.
func (a *Admission) Status(r Refusal) uint32 {
	t := &nativeStatus
	if a.JasminCompat {
		t = &jasminStatus
	}
	if int(r) < len(t) {
		return t[r]
	}
	return StatusSysErr
}

// Charge is what an admitted submit took from a balance and a quota. Keep it
// with the message and put Micros and Parts in the message's record (the
// ledger reads the charge from there); if the message then fails, give it
// back with Refund, or with Undo when its record was never stored.
type Charge struct {
	credit *Credit
	quota  *Quota
	micros int64
	parts  int64
}

// Micros is the amount charged in micro-units (0 when the balance is
// unlimited or the route free).
func (c *Charge) Micros() int64 { return c.micros }

// Parts is the number of parts taken from the quota (0 when unlimited).
func (c *Charge) Parts() int64 { return c.parts }

// Refund gives the balance and the quota back, writes the refund to the
// ledger under id (the message the charge was for), and clears c, so a
// second Refund on the same variable does nothing. Refunding two copies of
// one Charge refunds twice: keep one. Throughput tokens are not given back;
// the submit did use the server. An error (wrapping ErrLedger) means the
// refund is in force but not written: counted in Stats.LedgerErrors.
func (c *Charge) Refund(id msg.ID) error {
	var err error
	if c.micros > 0 {
		c.credit.Refund(c.micros)
		err = c.credit.ref.write(LedgerRefund, c.micros, id)
	}
	if c.parts > 0 {
		c.quota.Refund(c.parts)
		if e := c.quota.ref.write(LedgerRefund, c.parts, id); e != nil {
			err = errors.Join(err, e)
		}
	}
	*c = Charge{}
	return err
}

// Undo gives the balance and the quota back without writing anything: for
// a charge the ledger never saw (the submit's record could not be stored,
// or Log failed). Then c is cleared.
func (c *Charge) Undo() {
	c.credit.Refund(c.micros)
	c.quota.Refund(c.parts)
	*c = Charge{}
}

// Log writes c to the ledger as charges of message id, for a charge that no
// message record carries (the extra parts of a replace_sm). On an error
// (wrapping ErrLedger) nothing stays written and the caller gives the charge
// back with Undo.
func (c *Charge) Log(id msg.ID) error {
	if c.micros > 0 {
		if err := c.credit.ref.write(LedgerCharge, c.micros, id); err != nil {
			return err
		}
	}
	if c.parts > 0 {
		if err := c.quota.ref.write(LedgerCharge, c.parts, id); err != nil {
			if c.micros > 0 {
				// Best effort: the money was written as charged.
				_ = c.credit.ref.write(LedgerRefund, c.micros, id)
			}
			return err
		}
	}
	return nil
}

// Admit decides whether user u may submit a message of parts parts on a
// route costing rate per part, with the given priority_flag and validity
// period (relative to now; 0 = none asked). now is in Unix nanoseconds (any
// steady clock, the same for every call on u). Checks run cheapest first:
// priority, validity, throughput, quota, balance. A refusal leaves nothing
// taken: later failures give back tokens and quota. On Admitted the Charge
// records what was taken.
func (a *Admission) Admit(u *UserLimits, parts int, rate float64, priority uint8, validity time.Duration, now int64) (Charge, Refusal) {
	if u == nil || u.live == nil || parts < 1 {
		return Charge{}, RefuseInternal
	}
	l := u.live
	if priority > l.maxPri {
		if l.maxPri == 0 && priority <= 3 {
			return Charge{}, RefusePriorityOff
		}
		return Charge{}, RefusePriority
	}
	if validity < 0 || (u.MaxValidity > 0 && validity > u.MaxValidity) {
		return Charge{}, RefuseValidity
	}
	per, ok := RateMicros(rate)
	if !ok {
		return Charge{}, RefuseInternal
	}
	var cost int64
	if !l.credit.c.unlimited {
		// per <= 1e18, but parts may be large: refuse a product beyond
		// int64 (a full multiply, not a division per message).
		hi, lo := bits.Mul64(uint64(per), uint64(parts))
		if hi != 0 || lo > math.MaxInt64 {
			return Charge{}, RefuseInternal
		}
		cost = int64(lo)
	}
	if !l.bucket.Take(now, parts) {
		return Charge{}, RefuseThrottled
	}
	var ch Charge
	if !l.quota.c.unlimited {
		if !l.quota.Take(int64(parts)) {
			l.bucket.Return(now, parts)
			if l.quota.lend.short(int64(parts)) {
				return Charge{}, RefuseThrottled // this node's slice is being refilled
			}
			return Charge{}, RefuseQuota
		}
		ch.quota, ch.parts = l.quota, int64(parts)
	}
	if cost > 0 {
		if !l.credit.Charge(cost) {
			ch.quota.Refund(ch.parts)
			l.bucket.Return(now, parts)
			if l.credit.lend.short(cost) {
				return Charge{}, RefuseThrottled // this node's slice is being refilled
			}
			return Charge{}, RefuseBalance
		}
		ch.credit, ch.micros = l.credit, cost
	}
	return ch, Admitted
}
