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
	// Per time field, the text of the last millisecond and second written
	// (timeText): most lines share them with the line before.
	submitted, expires, final timeText
	seg                       segments // the runs of fields that repeat from line to line
}

// timeText caches one time field's text: the whole field of its last
// millisecond (key, time and closing quote), copied as it is by the lines
// of that millisecond (hundreds at 500,000 lines a second), and the text
// of its last second, which the other times of that second complete with
// their milliseconds. One timeText serves one key.
type timeText struct {
	ms    int64 // Unix milliseconds of field[:n], when n > 0
	n     int
	field [48]byte
	sec   secondText
}

// secondText caches the text of one second ("2026-12-07T10:00:00.").
type secondText struct {
	at   int64 // Unix seconds of text, when ok
	ok   bool
	text [20]byte
}

// lineHead opens every object, up to the id's digits.
var lineHead = `{"v":` + strconv.Itoa(Version) + `,"id":"`

// appendView appends v as one JSON object (no newline) to dst. The keys
// are literals that also close the value before them and open a string
// value's quote: one copy each.
func (e *encoder) appendView(dst []byte, v *view) []byte {
	r := v.rec
	dst = append(dst, lineHead...)
	dst = r.ID.AppendHex(dst)
	if !v.missing {
		dst = e.seg.user[strWay(r.SystemID)&(segWays-1)].append(dst, r.SystemID)
		// The addresses as sent upstream; the ESME's own beside them when
		// the policy rewrote them (docs/POLICY.md).
		ton, npi, a := r.UpstreamSource()
		dst = appendString(dst, a, utf8.DecodeRune)
		dst = e.seg.source[(int(ton)*5+int(npi))&(segWays-1)].append(dst, ton, npi, `,"source_ton":`, `,"source_npi":`, `,"destination":"`)
		ton, npi, a = r.UpstreamDest()
		dst = appendString(dst, a, utf8.DecodeRune)
		dst = e.seg.dest[(int(ton)*5+int(npi))&(segWays-1)].append(dst, ton, npi, `,"destination_ton":`, `,"destination_npi":`, "")
		if r.Rewritten {
			dst = append(dst, `,"submitted_source":"`...)
			dst = appendString(dst, r.SourceAddr(), utf8.DecodeRune)
			dst = append(dst, `,"submitted_destination":"`...)
			dst = appendString(dst, r.DestAddr(), utf8.DecodeRune)
		}
		conn := e.connector(r.Connector)
		dst = e.seg.tail[(strWay(r.MTRoute)+3*strWay(conn)+int(r.Parts))&(segWays-1)].append(dst, r.Parts, r.MTRoute, conn)
	} else {
		dst = append(dst, `","upstream_id":"`...)
	}
	dst = appendString(dst, v.upstreamID, utf8.DecodeRune)
	if !v.missing {
		dst = appendTime(dst, `,"submitted":"`, r.Submitted, &e.submitted)
		if r.Expires != 0 {
			dst = appendTime(dst, `,"expires":"`, r.Expires, &e.expires)
		}
	}
	if v.done != 0 {
		dst = appendTime(dst, `,"final":"`, v.done, &e.final)
	}
	dst = appendSmall(append(dst, stateText[v.state]...), uint64(v.err))
	if v.missing {
		return append(appendRefunded(dst, v.cdr, v.refunded), '}')
	}
	way := int(uint64(r.Charge)/10_000) + int(r.ChargeParts) + 3*int(r.RegisteredDelivery) + 5*int(r.DataCoding)
	dst = e.seg.end[way&(segWays-1)].append(dst, r, v.cdr, v.refunded)
	if !e.maskContent && r.TextLen > 0 {
		dst = e.appendText(dst, r)
	}
	return append(dst, '}')
}

// stateText[s] is the line's `,"state":"<name>","error":`, the name as
// appendString writes it: one copy a line instead of a scan of the name.
var stateText = func() (t [256]string) {
	for s := range 256 {
		b := appendString([]byte(`,"state":"`), msg.State(s).String(), utf8.DecodeRuneInString)
		t[s] = string(append(b, `,"error":`...))
	}
	return t
}()

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
// decodes, "text_hex" (the octets) for binary or unknown codings. A
// prefix whose every octet decodes to itself and needs no escape (most
// GSM7 and IA5 texts) is copied as it is, without decoding it first.
func (e *encoder) appendText(dst []byte, r *storage.Record) []byte {
	p := r.TextPrefix()
	if same := textSame[r.DataCoding]; same != nil {
		i := 0
		for i < len(p) && same[p[i]] {
			i++
		}
		if i == len(p) {
			dst = append(dst, `,"text":"`...)
			dst = append(dst, p...)
			return append(dst, '"')
		}
	}
	var err error
	if e.text, err = charset.Decode(e.text[:0], r.DataCoding, p); err == nil {
		dst = append(dst, `,"text":"`...)
		return appendString(dst, e.text, utf8.DecodeRune)
	}
	dst = append(dst, `,"text_hex":"`...)
	for _, c := range p {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(dst, '"')
}

// textSame[dc], for the data codings charset.Decode converts octet by
// octet (GSM7 unescaped, IA5, Latin-1), marks the octets that decode to
// themselves and go into a JSON string unescaped; nil for the others.
// Derived from charset.Decode itself, so the two cannot disagree.
var textSame = func() (t [256]*[256]bool) {
	same := func(dc byte) *[256]bool {
		var m [256]bool
		for c := range 256 {
			out, err := charset.Decode(nil, dc, []byte{byte(c)})
			m[c] = err == nil && len(out) == 1 && out[0] == byte(c) && jsonPlain[c]
		}
		return &m
	}
	gsm7, ia5, latin1 := same(byte(charset.CodingGSM7)), same(byte(charset.CodingIA5)), same(byte(charset.CodingLatin1))
	for dc := range 256 {
		switch s := charset.Classify(byte(dc)); {
		case dc == int(charset.CodingIA5):
			t[dc] = ia5
		case dc == int(charset.CodingLatin1):
			t[dc] = latin1
		case s.Alphabet == charset.AlphabetGSM7 && !s.Compressed:
			t[dc] = gsm7
		}
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// digitPairs holds "00" to "99": two digits a lookup.
const digitPairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" +
	"60616263646566676869" + "70717273747576777879" + "80818283848586878889" + "90919293949596979899"

// appendSmall writes n in decimal: the fields' values are octets or
// uint16s, three digits at most but for errors and quota parts.
func appendSmall(dst []byte, n uint64) []byte {
	switch {
	case n < 10:
		return append(dst, byte('0'+n))
	case n < 100:
		return append(dst, digitPairs[2*n], digitPairs[2*n+1])
	case n < 1000:
		lo := n % 100
		return append(dst, byte('0'+n/100), digitPairs[2*lo], digitPairs[2*lo+1])
	}
	return strconv.AppendUint(dst, n, 10)
}

// appendTime writes key (which opens the string's quote) and ns as a
// JSON string in timeLayout: c's field when ns is in its millisecond,
// else the field written by appendSecond, then kept in c. A time before
// the epoch is never cached (its millisecond would round towards zero).
func appendTime(dst []byte, key string, ns int64, c *timeText) []byte {
	ms := ns / int64(time.Millisecond)
	if ns >= 0 && c.n > 0 && ms == c.ms {
		return append(dst, c.field[:c.n]...)
	}
	start := len(dst)
	dst = appendSecond(dst, key, ns, &c.sec)
	if c.n = 0; ns >= 0 && len(dst)-start <= len(c.field) {
		c.n, c.ms = copy(c.field[:], dst[start:]), ms
	}
	return dst
}

// appendSecond writes key and ns as appendTime does: c's text of its
// second when c has it, else that of appendUTCMilli (kept in c when it is
// the fixed 24-byte form), then the milliseconds.
func appendSecond(dst []byte, key string, ns int64, c *secondText) []byte {
	dst = append(dst, key...)
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
	u := uint64(micros)
	if micros < 0 {
		dst = append(dst, '-')
		u = -u // the magnitude, MinInt64's too
	}
	dst = appendSmall(dst, u/microsPerUnit)
	f := u % microsPerUnit
	if f == 0 {
		return dst
	}
	hi, mid, lo := f/10_000, f/100%100, f%100
	frac := [6]byte{digitPairs[2*hi], digitPairs[2*hi+1], digitPairs[2*mid], digitPairs[2*mid+1], digitPairs[2*lo], digitPairs[2*lo+1]}
	n := 6
	for frac[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, frac[:n]...)
}

// jsonPlain[c]: octet c goes into a JSON string as it is (printable
// ASCII but '"' and '\\').
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s and the closing quote of a JSON string (the key
// opened it): control characters, quotes and backslashes escaped,
// invalid UTF-8 as U+FFFD. decode is utf8's DecodeRune or
// DecodeRuneInString, as T is. Most values need no escape: they are
// scanned by table and copied in one append.
func appendString[T string | []byte](dst []byte, s T, decode func(T) (rune, int)) []byte {
	i := 0
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	dst = append(dst, s[:i]...)
	if i < len(s) {
		dst = appendEscaped(dst, s[i:], decode)
	}
	return append(dst, '"')
}

// appendEscaped writes the rest of a string whose first octet needs an
// escape or is not ASCII.
func appendEscaped[T string | []byte](dst []byte, s T, decode func(T) (rune, int)) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			j := i + 1 // a run of ASCII that needs no escape goes in one copy
			for j < len(s) && jsonPlain[s[j]] {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // the other control characters, below 0x20
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
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
	return dst
}
