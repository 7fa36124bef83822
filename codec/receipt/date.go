package receipt

import (
	"time"

	"github.com/smppd/smppd/codec/internal/yymmdd"
)

// Receipt dates (SMPP 3.4 Appendix B) are YYMMDDhhmm, or YYMMDDhhmmss as
// some carriers send (jasmin#70, node-smpp#199). They carry no zone: they
// are the SMSC's wall clock. Years follow spec Appendix C as the SMPP time
// fields do: 00-37 are 2000-2037, 38-99 are 1938-1999.

// ParseDate reads a 10- or 12-digit receipt date as wall-clock time in loc
// (nil means UTC). An all-zero date means "not set" and returns the zero
// time.Time with a nil error. Errors: ErrDateLength, ErrDateSyntax,
// ErrDateRange. It does not allocate.
func ParseDate(b []byte, loc *time.Location) (time.Time, error) {
	if len(b) != 10 && len(b) != 12 {
		return time.Time{}, ErrDateLength
	}
	zero := true
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, ErrDateSyntax
		}
		if c != '0' {
			zero = false
		}
	}
	if zero {
		return time.Time{}, nil
	}
	yy, mo, dd, hh, mi := yymmdd.Digits(b[0:]), yymmdd.Digits(b[2:]), yymmdd.Digits(b[4:]), yymmdd.Digits(b[6:]), yymmdd.Digits(b[8:])
	ss := 0
	if len(b) == 12 {
		ss = yymmdd.Digits(b[10:])
	}
	year := yymmdd.Year(yy)
	if !yymmdd.Valid(year, mo, dd, hh, mi, ss) {
		return time.Time{}, ErrDateRange
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(year, time.Month(mo), dd, hh, mi, ss, 0, loc), nil
}

// AppendDate appends t as YYMMDDhhmm (or YYMMDDhhmmss when seconds is
// true) using t's own wall clock: convert with t.In(loc) first to report in
// the SMSC's zone. The zero time is written as all zeros ("not set"). Years
// outside 1938-2037 keep only their last two digits and read back into that
// window. It does not allocate when dst has room for 12 more bytes.
func AppendDate(dst []byte, t time.Time, seconds bool) []byte {
	if t.IsZero() {
		if seconds {
			return append(dst, "000000000000"...)
		}
		return append(dst, "0000000000"...)
	}
	return yymmdd.AppendDateTime(dst, t, seconds)
}

// DateCache remembers the receipt dates it last wrote, two of them (a
// receipt's submit and done dates), by second and zone: a receipt made in
// the same second as the one before writes its dates as a copy. The zero
// value is ready; one goroutine at a time.
type DateCache struct {
	e [2]cachedDate
}

type cachedDate struct {
	sec     int64
	loc     *time.Location
	seconds bool
	n       uint8
	b       [12]byte
}

// append writes t as AppendDate does, through entry i of c (nil: no cache).
func (c *DateCache) append(dst []byte, i int, t time.Time, seconds bool) []byte {
	if c == nil || t.IsZero() {
		return AppendDate(dst, t, seconds)
	}
	e := &c.e[i]
	// Every zone offset is whole seconds, so the same second in the same
	// zone is the same date.
	if sec, loc := t.Unix(), t.Location(); e.n == 0 || e.sec != sec || e.loc != loc || e.seconds != seconds {
		e.sec, e.loc, e.seconds = sec, loc, seconds
		e.n = uint8(len(AppendDate(e.b[:0], t, seconds)))
	}
	return append(dst, e.b[:e.n]...)
}
