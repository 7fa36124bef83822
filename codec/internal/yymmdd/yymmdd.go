// Package yymmdd is the two-digit calendar arithmetic that SMPP time fields
// (SMPP 3.4 §7.1.1) and delivery receipt dates (SMPP 3.4 Appendix B)
// share: the Appendix C year window, date validity and two-digit fields.
// Nothing here allocates.
package yymmdd

import "time"

// pivot is the first two-digit year read as 19YY (SMPP 3.4 Appendix C).
const pivot = 38

// Year maps a two-digit year: 00-37 are 2000-2037, 38-99 are 1938-1999.
func Year(yy int) int {
	if yy >= pivot {
		return 1900 + yy
	}
	return 2000 + yy
}

// Valid reports whether the fields name a real date and time of day (leap
// years counted; no leap seconds).
func Valid(year, mo, dd, hh, mi, ss int) bool {
	return mo >= 1 && mo <= 12 && dd >= 1 && dd <= daysIn(mo, year) && hh <= 23 && mi <= 59 && ss <= 59
}

// Digits reads two ASCII digits the caller has checked.
func Digits(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }

// AppendDigits appends v (0-99) as two ASCII digits.
func AppendDigits(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// AppendDateTime appends t's wall clock as YYMMDDhhmm, then ss when seconds
// is true. Years outside 1938-2037 keep only their last two digits.
func AppendDateTime(dst []byte, t time.Time, seconds bool) []byte {
	year, mo, dd := t.Date()
	hh, mi, ss := t.Clock()
	yy := year % 100
	if yy < 0 {
		yy += 100
	}
	dst = AppendDigits(dst, yy)
	dst = AppendDigits(dst, int(mo))
	dst = AppendDigits(dst, dd)
	dst = AppendDigits(dst, hh)
	dst = AppendDigits(dst, mi)
	if seconds {
		dst = AppendDigits(dst, ss)
	}
	return dst
}

func daysIn(mo, year int) int {
	switch mo {
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
