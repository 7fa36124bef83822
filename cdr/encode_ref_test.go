package cdr

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/storage"
)

// refEncoder is the encoder as it was before the table-driven one
// (commit 13f490c): TestEncoderMatchesReference compares the new one's
// lines against it, byte for byte.
type refEncoder struct {
	connectors                []string
	name                      func(id int32) string
	maskContent               bool
	text                      []byte
	submitted, expires, final secondText
}

// refAppendView appends v as one JSON object (no newline) to dst.
func (e *refEncoder) refAppendView(dst []byte, v *view) []byte {
	r := v.rec
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, Version, 10)
	dst = append(dst, `,"id":"`...)
	dst = r.ID.AppendHex(dst)
	dst = append(dst, '"')
	if !v.missing {
		dst = refAppendField(dst, `,"user":`, r.SystemID)
		// The addresses as sent upstream; the ESME's own beside them when
		// the policy rewrote them (docs/POLICY.md).
		ton, npi, a := r.UpstreamSource()
		dst = refAppendBytesField(dst, `,"source":`, a)
		dst = refAppendInt(dst, `,"source_ton":`, int64(ton))
		dst = refAppendInt(dst, `,"source_npi":`, int64(npi))
		ton, npi, a = r.UpstreamDest()
		dst = refAppendBytesField(dst, `,"destination":`, a)
		dst = refAppendInt(dst, `,"destination_ton":`, int64(ton))
		dst = refAppendInt(dst, `,"destination_npi":`, int64(npi))
		if r.Rewritten {
			dst = refAppendBytesField(dst, `,"submitted_source":`, r.SourceAddr())
			dst = refAppendBytesField(dst, `,"submitted_destination":`, r.DestAddr())
		}
		dst = refAppendInt(dst, `,"parts":`, int64(r.Parts))
		dst = refAppendField(dst, `,"route":`, r.MTRoute)
		dst = refAppendField(dst, `,"connector":`, e.refConnector(r.Connector))
	}
	dst = refAppendBytesField(dst, `,"upstream_id":`, v.upstreamID)
	if !v.missing {
		dst = refAppendTime(dst, `,"submitted":`, r.Submitted, &e.submitted)
		if r.Expires != 0 {
			dst = refAppendTime(dst, `,"expires":`, r.Expires, &e.expires)
		}
	}
	if v.done != 0 {
		dst = refAppendTime(dst, `,"final":`, v.done, &e.final)
	}
	dst = refAppendField(dst, `,"state":`, v.state.String())
	dst = refAppendInt(dst, `,"error":`, int64(v.err))
	if !v.missing {
		dst = append(dst, `,"charge":`...)
		dst = refAppendAmount(dst, r.Charge)
		dst = refAppendInt(dst, `,"quota_parts":`, int64(r.ChargeParts))
	}
	if v.cdr {
		dst = append(dst, `,"refunded":`...)
		dst = strconv.AppendBool(dst, v.refunded)
	}
	if !v.missing {
		dst = refAppendInt(dst, `,"registered_delivery":`, int64(r.RegisteredDelivery))
		dst = refAppendInt(dst, `,"data_coding":`, int64(r.DataCoding))
		if !e.maskContent && r.TextLen > 0 {
			dst = e.refAppendText(dst, r)
		}
	}
	return append(dst, '}')
}

// refConnector names routing id c; "" when unknown (-1: never routed).
func (e *refEncoder) refConnector(c int32) string {
	if e.name != nil {
		return e.name(c)
	}
	if c < 0 || int(c) >= len(e.connectors) {
		return ""
	}
	return e.connectors[c]
}

// refAppendText writes the stored text prefix: "text" when its data_coding
// decodes, "text_hex" (the octets) for binary or unknown codings.
func (e *refEncoder) refAppendText(dst []byte, r *storage.Record) []byte {
	var err error
	if e.text, err = charset.Decode(e.text[:0], r.DataCoding, r.TextPrefix()); err == nil {
		return refAppendBytesField(dst, `,"text":`, e.text)
	}
	dst = append(dst, `,"text_hex":"`...)
	const hexDigits = "0123456789abcdef"
	for _, c := range r.TextPrefix() {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(dst, '"')
}

// refAppendField and the other field writers take key as the literal that
// opens the field (`,"user":`): one copy a field.
func refAppendField(dst []byte, key, val string) []byte {
	dst = append(dst, key...)
	return refAppendString(dst, val, utf8.DecodeRuneInString)
}

func refAppendBytesField(dst []byte, key string, val []byte) []byte {
	dst = append(dst, key...)
	return refAppendString(dst, val, utf8.DecodeRune)
}

func refAppendInt(dst []byte, key string, n int64) []byte {
	dst = append(dst, key...)
	return strconv.AppendInt(dst, n, 10)
}

// refAppendTime writes ns as a JSON string in timeLayout: c's text of its
// second when c has it, else that of appendUTCMilli (kept in c when it is
// the fixed 24-byte form), then the milliseconds.
func refAppendTime(dst []byte, key string, ns int64, c *secondText) []byte {
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

// refAppendAmount writes micro-units as an exact JSON decimal number ("0.05").
func refAppendAmount(dst []byte, micros int64) []byte {
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

// refAppendString writes s as a JSON string: control characters, quotes and
// backslashes escaped, invalid UTF-8 as U+FFFD. decode is utf8's
// DecodeRune or DecodeRuneInString, as T is.
// refPlainJSON: c is ASCII a JSON string holds as is.
func refPlainJSON(c byte) bool { return c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' }

func refAppendString[T string | []byte](dst []byte, s T, decode func(T) (rune, int)) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if refPlainJSON(c) {
			j := i + 1 // a run of ASCII that needs no escape goes in one copy
			for j < len(s) && refPlainJSON(s[j]) {
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
