package receipt

import "time"

// Receipt dates (SMPP 3.4 Appendix B) are YYMMDDhhmm, or YYMMDDhhmmss as
// some carriers send (jasmin#70, node-smpp#199). They carry no zone: they
// are the SMSC's wall clock. Years follow spec Appendix C as the SMPP time
// fields do: 00-37 are 2000-2037, 38-99 are 1938-1999.

// pivotYY is the first two-digit year read as 19YY (spec Appendix C).
const pivotYY = 38

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
	yy, mo, dd, hh, mi := two(b[0:]), two(b[2:]), two(b[4:]), two(b[6:]), two(b[8:])
	ss := 0
	if len(b) == 12 {
		ss = two(b[10:])
	}
	year := 2000 + yy
	if yy >= pivotYY {
		year = 1900 + yy
	}
	if mo < 1 || mo > 12 || dd < 1 || dd > daysIn(mo, year) || hh > 23 || mi > 59 || ss > 59 {
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
	year, mo, dd := t.Date()
	hh, mi, ss := t.Clock()
	yy := year % 100
	if yy < 0 {
		yy += 100
	}
	dst = appendTwo(dst, yy)
	dst = appendTwo(dst, int(mo))
	dst = appendTwo(dst, dd)
	dst = appendTwo(dst, hh)
	dst = appendTwo(dst, mi)
	if seconds {
		dst = appendTwo(dst, ss)
	}
	return dst
}

// two reads two ASCII digits; the caller has checked they are digits.
func two(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }

func appendTwo(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
