package codec

import (
	"errors"
	"time"

	"github.com/smppd/smppd/codec/internal/yymmdd"
)

// SMPP time fields (schedule_delivery_time, validity_period, final_date;
// SMPP 3.4 §7.1.1) are empty ("not set") or the 16
// characters YYMMDDhhmmsstnnp:
//
//	YYMMDDhhmmss  date and time; for p = 'R' counts of years ... seconds
//	t             tenths of a second
//	nn            offset from UTC in quarter hours, 00-48
//	p             '+' local time ahead of UTC, '-' behind, 'R' relative
//
// Years follow spec Appendix C: 00-37 are 2000-2037, 38-99 are 1938-1999.
// The 12-character short form YYMMDDhhmmss that SMSCs may report in
// query_sm_resp.final_date is accepted and read as UTC.

// TimeKind says what an SMPP time field holds.
type TimeKind uint8

// Time kinds.
const (
	TimeNotSet   TimeKind = iota // empty field: at once / SMSC default / not final
	TimeAbsolute                 // an instant (p = '+' or '-', or the 12-character form)
	TimeRelative                 // an offset from the moment the SMSC received the PDU (p = 'R')
)

// Time is a parsed SMPP time field. For TimeAbsolute, At is the instant in
// UTC; for TimeRelative, the six counts are the offset (each 0-99).
type Time struct {
	Kind                                      TimeKind
	At                                        time.Time
	Years, Months, Days, Hours, Minutes, Secs int
}

// Errors of ParseTime. The caller picks the status: ESME_RINVSCHED for
// schedule_delivery_time, ESME_RINVEXPIRY for validity_period.
var (
	// ErrTimeSyntax: not 0, 12 or 16 characters, a non-digit where a
	// digit belongs, or p not one of '+', '-', 'R'.
	ErrTimeSyntax = errors.New("codec: SMPP time: malformed (want YYMMDDhhmmsstnnp)")
	// ErrTimeRange: an absolute time with a month, day, hour, minute,
	// second or quarter-hour offset out of range.
	ErrTimeRange = errors.New("codec: SMPP time: field out of range")
)

// ParseTime parses an SMPP time field as decoded (without its NUL). It
// does not allocate.
func ParseTime(b []byte) (Time, error) {
	switch len(b) {
	case 0:
		return Time{}, nil
	case 12, 16:
	default:
		return Time{}, ErrTimeSyntax
	}
	for _, c := range b[:12] {
		if c < '0' || c > '9' {
			return Time{}, ErrTimeSyntax
		}
	}
	yy, mo, dd, hh, mi, ss := yymmdd.Digits(b[0:]), yymmdd.Digits(b[2:]), yymmdd.Digits(b[4:]), yymmdd.Digits(b[6:]), yymmdd.Digits(b[8:]), yymmdd.Digits(b[10:])
	tenths, off, p := 0, 0, byte('+')
	if len(b) == 16 {
		if b[12] < '0' || b[12] > '9' || b[13] < '0' || b[13] > '9' || b[14] < '0' || b[14] > '9' {
			return Time{}, ErrTimeSyntax
		}
		tenths, off, p = int(b[12]-'0'), yymmdd.Digits(b[13:]), b[15]
	}
	switch p {
	case 'R':
		// The spec wants t = 0 and nn = 00 here; peers send other digits,
		// which carry no meaning for an offset, so they are ignored.
		return Time{Kind: TimeRelative, Years: yy, Months: mo, Days: dd, Hours: hh, Minutes: mi, Secs: ss}, nil
	case '+', '-':
	default:
		return Time{}, ErrTimeSyntax
	}
	year := yymmdd.Year(yy)
	if !yymmdd.Valid(year, mo, dd, hh, mi, ss) || off > 48 {
		return Time{}, ErrTimeRange
	}
	at := time.Date(year, time.Month(mo), dd, hh, mi, ss, tenths*int(100*time.Millisecond), time.UTC)
	// UTC = local - offset for '+', local + offset for '-'.
	shift := time.Duration(off) * 15 * time.Minute
	if p == '+' {
		at = at.Add(-shift)
	} else {
		at = at.Add(shift)
	}
	return Time{Kind: TimeAbsolute, At: at}, nil
}

// Resolve returns the instant t names for a PDU received at now: At for an
// absolute time; now plus the offset for a relative one (years, months and
// days by the calendar, as time.AddDate does); the zero time when not set.
func (t Time) Resolve(now time.Time) time.Time {
	switch t.Kind {
	case TimeAbsolute:
		return t.At
	case TimeRelative:
		d := time.Duration(t.Hours)*time.Hour + time.Duration(t.Minutes)*time.Minute + time.Duration(t.Secs)*time.Second
		return now.AddDate(t.Years, t.Months, t.Days).Add(d)
	}
	return time.Time{}
}

// AppendAbsoluteTime appends t as a 16-character absolute SMPP time in t's
// own zone offset (an offset that is not a whole number of quarter hours,
// or beyond 12 hours, is written as UTC instead). Years outside 1938-2037
// keep only their last two digits. It does not allocate when dst has room
// for 16 more bytes; the NUL is the encoder's job.
func AppendAbsoluteTime(dst []byte, t time.Time) []byte {
	_, off := t.Zone()
	if off%(15*60) != 0 || off > 48*15*60 || off < -48*15*60 {
		t, off = t.UTC(), 0
	}
	dst = yymmdd.AppendDateTime(dst, t, true)
	dst = append(dst, byte('0'+t.Nanosecond()/int(100*time.Millisecond)))
	p := byte('+')
	if off < 0 {
		p, off = '-', -off
	}
	dst = yymmdd.AppendDigits(dst, off/(15*60))
	return append(dst, p)
}

// AppendRelativeTime appends d (clamped to 0 .. 99 days 23:59:59) as a
// 16-character relative SMPP time: 0000DDhhmmss000R. Years and months are
// left at zero because their length depends on the calendar.
func AppendRelativeTime(dst []byte, d time.Duration) []byte {
	const maxRel = 99*24*time.Hour + 23*time.Hour + 59*time.Minute + 59*time.Second
	d = min(max(d, 0), maxRel)
	s := int(d / time.Second)
	dst = append(dst, "0000"...)
	dst = yymmdd.AppendDigits(dst, s/86400)
	dst = yymmdd.AppendDigits(dst, s/3600%24)
	dst = yymmdd.AppendDigits(dst, s/60%60)
	dst = yymmdd.AppendDigits(dst, s%60)
	return append(dst, "000R"...)
}
