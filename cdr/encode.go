package cdr

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Version is the schema version every line carries as "v" (docs/CDR.md).
// A field may be added within a version; renaming, removing or changing
// the meaning of one takes a new version.
const Version = 1

// timeLayout is how times are written: RFC 3339 in UTC with milliseconds,
// fixed width so lines sort as text.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// microsPerUnit: charges are kept in micro-units of the balance's currency
// (accounts.Amount).
const microsPerUnit = 1_000_000

// view is what one line or lookup answer says of a message: its record,
// with the final state the event reports over the record's (a state
// decided at acceptance reads ENROUTE in the store until its time).
type view struct {
	rec        *storage.Record
	state      msg.State
	err        uint16
	done       int64 // 0: not final (a lookup of a message under way)
	upstreamID []byte
	refunded   bool
	cdr        bool // a CDR line: refunded is known and written
	missing    bool // the record was gone when the line was written: only the event's fields are known
}

// encoder turns views into JSON. It is not safe for concurrent use; it
// keeps its scratch between calls, so a warm encoder allocates nothing.
type encoder struct {
	connectors  []string              // routing id -> connector name
	name        func(id int32) string // overrides connectors (Options.ConnectorName)
	maskContent bool
	text        []byte
	// The text of the last second written per time field: each field's
	// times mostly share a second with the line before's, so most are
	// only their milliseconds appended to the cached text.
	submitted, expires, final secondText
}

// secondText caches the text of one second ("2026-12-07T10:00:00.").
type secondText struct {
	at   int64 // Unix seconds of text, when ok
	ok   bool
	text [20]byte
}

// appendView appends v as one JSON object (no newline) to dst.
func (e *encoder) appendView(dst []byte, v *view) []byte {
	r := v.rec
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, Version, 10)
	dst = append(dst, `,"id":"`...)
	dst = r.ID.AppendHex(dst)
	dst = append(dst, '"')
	if !v.missing {
		dst = appendField(dst, `,"user":`, r.SystemID)
		// The addresses as sent upstream; the ESME's own beside them when
		// the policy rewrote them (docs/POLICY.md).
		ton, npi, a := r.UpstreamSource()
		dst = appendBytesField(dst, `,"source":`, a)
		dst = appendInt(dst, `,"source_ton":`, int64(ton))
		dst = appendInt(dst, `,"source_npi":`, int64(npi))
		ton, npi, a = r.UpstreamDest()
		dst = appendBytesField(dst, `,"destination":`, a)
		dst = appendInt(dst, `,"destination_ton":`, int64(ton))
		dst = appendInt(dst, `,"destination_npi":`, int64(npi))
		if r.Rewritten {
			dst = appendBytesField(dst, `,"submitted_source":`, r.SourceAddr())
			dst = appendBytesField(dst, `,"submitted_destination":`, r.DestAddr())
		}
		dst = appendInt(dst, `,"parts":`, int64(r.Parts))
		dst = appendField(dst, `,"route":`, r.MTRoute)
		dst = appendField(dst, `,"connector":`, e.connector(r.Connector))
	}
	dst = appendBytesField(dst, `,"upstream_id":`, v.upstreamID)
	if !v.missing {
		dst = appendTime(dst, `,"submitted":`, r.Submitted, &e.submitted)
		if r.Expires != 0 {
			dst = appendTime(dst, `,"expires":`, r.Expires, &e.expires)
		}
	}
	if v.done != 0 {
		dst = appendTime(dst, `,"final":`, v.done, &e.final)
	}
	dst = appendField(dst, `,"state":`, v.state.String())
	dst = appendInt(dst, `,"error":`, int64(v.err))
	if !v.missing {
		dst = append(dst, `,"charge":`...)
		dst = appendAmount(dst, r.Charge)
		dst = appendInt(dst, `,"quota_parts":`, int64(r.ChargeParts))
	}
	if v.cdr {
		dst = append(dst, `,"refunded":`...)
		dst = strconv.AppendBool(dst, v.refunded)
	}
	if !v.missing {
		dst = appendInt(dst, `,"registered_delivery":`, int64(r.RegisteredDelivery))
		dst = appendInt(dst, `,"data_coding":`, int64(r.DataCoding))
		if !e.maskContent && r.TextLen > 0 {
			dst = e.appendText(dst, r)
		}
	}
	return append(dst, '}')
}

// connector names routing id c; "" when unknown (-1: never routed).
func (e *encoder) connector(c int32) string {
	if e.name != nil {
		return e.name(c)
	}
	if c < 0 || int(c) >= len(e.connectors) {
		return ""
	}
	return e.connectors[c]
}

// appendText writes the stored text prefix: "text" when its data_coding
// decodes, "text_hex" (the octets) for binary or unknown codings.
func (e *encoder) appendText(dst []byte, r *storage.Record) []byte {
	var err error
	if e.text, err = charset.Decode(e.text[:0], r.DataCoding, r.TextPrefix()); err == nil {
		return appendBytesField(dst, `,"text":`, e.text)
	}
	dst = append(dst, `,"text_hex":"`...)
	const hexDigits = "0123456789abcdef"
	for _, c := range r.TextPrefix() {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(dst, '"')
}

// appendField and the other field writers take key as the literal that
// opens the field (`,"user":`): one copy a field.
func appendField(dst []byte, key, val string) []byte {
	dst = append(dst, key...)
	return appendString(dst, val, utf8.DecodeRuneInString)
}

func appendBytesField(dst []byte, key string, val []byte) []byte {
	dst = append(dst, key...)
	return appendString(dst, val, utf8.DecodeRune)
}

func appendInt(dst []byte, key string, n int64) []byte {
	dst = append(dst, key...)
	return strconv.AppendInt(dst, n, 10)
}

// appendTime writes ns as a JSON string in timeLayout: c's text of its
// second when c has it, else that of appendUTCMilli (kept in c when it is
// the fixed 24-byte form), then the milliseconds.
func appendTime(dst []byte, key string, ns int64, c *secondText) []byte {
	dst = append(dst, key...)
	dst = append(dst, '"')
	sec := ns / int64(time.Second)
	if ns < 0 || (!c.ok || sec != c.at) && !c.set(sec) {
		dst = appendUTCMilli(dst, ns)
		return append(dst, '"')
	}
	ms := ns % int64(time.Second) / int64(time.Millisecond)
	dst = append(dst, c.text[:]...)
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

// set keeps the text of second sec (sec >= 0); false for a year
// appendUTCMilli does not write in the fixed width (nothing kept then).
func (c *secondText) set(sec int64) bool {
	var buf [32]byte
	b := appendUTCMilli(buf[:0], sec*int64(time.Second))
	if len(b) != 24 {
		return false
	}
	copy(c.text[:], b[:20])
	c.at, c.ok = sec, true
	return true
}

// appendUTCMilli appends ns as timeLayout does, digit by digit: the writer
// formats two or three times a line, and time.AppendFormat's layout
// parsing was a tenth of smppd's CPU at 4 x 100 on the demo config. The
// date comes from the days since the epoch by Howard Hinnant's
// civil_from_days; a year outside 0..9999 goes through AppendFormat.
func appendUTCMilli(dst []byte, ns int64) []byte {
	const nsPerDay = 86_400 * int64(time.Second)
	days, rem := ns/nsPerDay, ns%nsPerDay
	if rem < 0 {
		days, rem = days-1, rem+nsPerDay
	}
	z := days + 719_468 // days since 0000-03-01
	era := z / 146_097
	if z < 0 {
		era = (z - 146_096) / 146_097
	}
	doe := z - era*146_097                                    // day of the era, 0..146096
	yoe := (doe - doe/1_460 + doe/36_524 - doe/146_096) / 365 // year of the era, 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)                  // day of the year from March 1st
	mp := (5*doy + 2) / 153                                   // month from March, 0..11
	day, month, year := doy-(153*mp+2)/5+1, mp+3, yoe+era*400
	if month > 12 {
		month -= 12
		year++
	}
	if year < 0 || year > 9999 {
		return time.Unix(0, ns).UTC().AppendFormat(dst, timeLayout)
	}
	ms := rem / int64(time.Millisecond)
	sec := ms / 1000
	dst = append4(dst, year)
	dst = append(dst, '-')
	dst = append2(dst, month)
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, sec/3600)
	dst = append(dst, ':')
	dst = append2(dst, sec/60%60)
	dst = append(dst, ':')
	dst = append2(dst, sec%60)
	dst = append(dst, '.', byte('0'+ms%1000/100), byte('0'+ms%100/10), byte('0'+ms%10))
	return append(dst, 'Z')
}

func append2(dst []byte, v int64) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendAmount writes micro-units as an exact JSON decimal number ("0.05").
func appendAmount(dst []byte, micros int64) []byte {
	if micros < 0 {
		dst = append(dst, '-')
		micros = -micros
	}
	dst = strconv.AppendInt(dst, micros/microsPerUnit, 10)
	f := micros % microsPerUnit
	if f == 0 {
		return dst
	}
	var frac [6]byte
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + f%10)
		f /= 10
	}
	n := 6
	for frac[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, frac[:n]...)
}

// appendString writes s as a JSON string: control characters, quotes and
// backslashes escaped, invalid UTF-8 as U+FFFD. decode is utf8's
// DecodeRune or DecodeRuneInString, as T is.
// plainJSON: c is ASCII a JSON string holds as is.
func plainJSON(c byte) bool { return c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' }

func appendString[T string | []byte](dst []byte, s T, decode func(T) (rune, int)) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSON(c) {
			j := i + 1 // a run of ASCII that needs no escape goes in one copy
			for j < len(s) && plainJSON(s[j]) {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				default:
					dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
				}
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := decode(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
