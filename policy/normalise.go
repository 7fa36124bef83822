package policy

import (
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/charset"
)

// TON and NPI values (SMPP 3.4 §5.2.5, §5.2.6).
const (
	tonUnknown       = 0
	tonInternational = 1
	tonNational      = 2
	tonNetwork       = 3
	tonAlphanumeric  = 5
	tonAbbreviated   = 6
	npiUnknown       = 0
	npiISDN          = 1
)

// maxAlnumSeptets is an alphanumeric TP-Originating-Address's length: 11
// GSM 7-bit characters (3GPP TS 23.040 §9.1.2.5, 10 octets of septets).
const maxAlnumSeptets = 11

// gsmSeptets is the septet count of each ASCII octet in the GSM 7-bit
// default alphabet (2 for the extension table), 0 when it has none.
var gsmSeptets = func() (t [128]uint8) {
	for c := range t {
		if n, ok := charset.Septets(string(rune(c))); ok {
			t[c] = uint8(n)
		}
	}
	return t
}()

// alnumOK reports whether b is a valid alphanumeric sender: 1..11 GSM
// 7-bit characters.
func alnumOK(b []byte) bool {
	n := 0
	for _, c := range b {
		if c >= 0x80 || gsmSeptets[c] == 0 {
			return false
		}
		n += int(gsmSeptets[c])
	}
	return n > 0 && n <= maxAlnumSeptets
}

type outForm uint8

const (
	outInternational outForm = iota
	outPlus
	outNational
)

// normaliser is one compiled [[normalise]].
type normaliser struct {
	users, groups, conns map[string]struct{}
	every                bool // no selector: every MT message

	cc, natPfx, intlPfx []byte
	src, dst            bool
	minD, maxD          int
	alnum               bool
	shortMax            int
	srcStatus           codec.Status
	dstStatus           codec.Status
	out                 outForm
}

// selects reports whether n applies to an MT message of user in group.
func (n *normaliser) selectsMT(user, group string) bool {
	if n.every {
		return true
	}
	if _, ok := n.users[user]; ok {
		return true
	}
	_, ok := n.groups[group]
	return ok
}

// apply normalises m's selected fields; a refusal carries its status.
func (n *normaliser) apply(m *Msg) Verdict {
	if n.src && len(m.Src) > 0 {
		out, ton, npi, ok := n.canon(m.SrcScratch(), m.Src, m.SrcTON, true)
		if !ok {
			return Verdict{Action: Refuse, Status: n.srcStatus, Stage: stageNormalise}
		}
		if out != nil {
			m.SetSrc(out)
		}
		m.SrcTON, m.SrcNPI = ton, npi
	}
	if n.dst {
		out, ton, npi, ok := n.canon(m.DstScratch(), m.Dst, m.DstTON, false)
		if !ok {
			return Verdict{Action: Refuse, Status: n.dstStatus, Stage: stageNormalise}
		}
		if out != nil {
			m.SetDst(out)
		}
		m.DstTON, m.DstNPI = ton, npi
	}
	return Verdict{}
}

const stageNormalise = "normalise"

// canon brings addr (sent with ton) to the canonical form in buf. out is
// nil when addr stays as it is; ok false is a refusal.
func (n *normaliser) canon(buf, addr []byte, ton uint8, src bool) (out []byte, outTON, outNPI uint8, ok bool) {
	plus := len(addr) > 0 && addr[0] == '+'
	digits := addr
	if plus {
		digits = addr[1:]
	}
	if ton == tonAlphanumeric || !allDigits(digits) || len(digits) == 0 {
		if !src || plus || !n.alnum || !alnumOK(addr) {
			return nil, 0, 0, false
		}
		return nil, tonAlphanumeric, npiUnknown, true
	}
	switch {
	case ton == tonNetwork || ton == tonAbbreviated:
		return nil, ton, npiForShort(ton), true // short codes and service numbers stay
	case plus || ton == tonInternational:
		if !plus && hasPrefix(digits, n.intlPfx) {
			digits = digits[len(n.intlPfx):] // international prefix sent with TON 1 anyway
		}
		out = append(buf, digits...)
	case ton == tonNational:
		if hasPrefix(digits, n.natPfx) {
			digits = digits[len(n.natPfx):]
		}
		out = append(append(buf, n.cc...), digits...)
	case hasPrefix(digits, n.intlPfx):
		out = append(buf, digits[len(n.intlPfx):]...)
	case hasPrefix(digits, n.natPfx):
		out = append(append(buf, n.cc...), digits[len(n.natPfx):]...)
	case len(digits) <= n.shortMax:
		return nil, tonNetwork, npiUnknown, true
	default:
		out = append(buf, digits...) // already international, without '+'
	}
	// No country code starts with 0 (ITU-T E.164): a national number
	// sent as international is refused, not guessed at.
	if len(out) < n.minD || len(out) > n.maxD || out[0] == '0' {
		return nil, 0, 0, false
	}
	if len(out) == len(addr) && string(out) == string(addr) {
		out = nil
	}
	return out, tonInternational, npiISDN, true
}

func npiForShort(ton uint8) uint8 {
	if ton == tonAbbreviated {
		return npiUnknown
	}
	return npiISDN
}

// outbound rewrites m's canonical numbers to the connector's form.
func (n *normaliser) outbound(m *Msg) {
	if n.out == outInternational {
		return
	}
	if n.src && m.SrcTON == tonInternational {
		if out, ton := n.outForm(m.SrcScratch(), m.Src); out != nil {
			m.SetSrc(out)
			m.SrcTON = ton
		}
	}
	if n.dst && m.DstTON == tonInternational {
		if out, ton := n.outForm(m.DstScratch(), m.Dst); out != nil {
			m.SetDst(out)
			m.DstTON = ton
		}
	}
}

func (n *normaliser) outForm(buf, addr []byte) ([]byte, uint8) {
	if len(addr) == 0 || addr[0] == '+' || !allDigits(addr) {
		return nil, 0
	}
	switch n.out {
	case outPlus:
		return append(append(buf, '+'), addr...), tonInternational
	case outNational:
		if hasPrefix(addr, n.cc) {
			return append(append(buf, n.natPfx...), addr[len(n.cc):]...), tonNational
		}
	}
	return nil, 0
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func hasPrefix(b, p []byte) bool {
	return len(p) > 0 && len(b) >= len(p) && string(b[:len(p)]) == string(p)
}
