// Package proxyproto reads the PROXY protocol header (HAProxy's "The PROXY
// protocol", versions 1 and 2) that a TCP load balancer sends before the
// client's bytes, so that a listener behind it sees the client's address.
//
// Parse works on bytes already read (an event loop's input buffer) and never
// allocates; Listener and ReadHeader serve blocking listeners.
package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"unsafe"
)

// MaxLen is the longest header accepted: a v1 line is at most 107 octets
// (the specification's bound); a v2 header is cut at 512 octets, room for
// its addresses and the TLVs load balancers add (a VPC endpoint id, a
// link id), far below the 64 KiB its length field allows.
const MaxLen = 512

const (
	v1MaxLen = 107
	v2HdrLen = 16
)

// v2Sig opens every v2 header (section 2.2 of the specification).
var v2Sig = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

var v1Sig = [6]byte{'P', 'R', 'O', 'X', 'Y', ' '}

// Errors of Parse. ErrIncomplete alone means "read more".
var (
	ErrIncomplete = errors.New("proxyproto: header incomplete")
	ErrNoHeader   = errors.New("proxyproto: no PROXY header")
	ErrTooLong    = errors.New("proxyproto: header too long")
	ErrMalformed  = errors.New("proxyproto: malformed header")
)

// Parse reads the header at the start of b. Once b holds it whole, Parse
// returns its length n and the client's address src; src is the zero
// AddrPort when the header names none (v1 UNKNOWN, v2 LOCAL, a family other
// than TCP or UDP over IPv4 or IPv6): the caller then keeps the peer's own
// address. While b holds a valid beginning of a header, Parse returns
// ErrIncomplete; once b cannot be one (or the header would pass MaxLen),
// another error at once, so a hostile peer is refused on its first bytes.
func Parse(b []byte) (n int, src netip.AddrPort, err error) {
	if len(b) == 0 {
		return 0, netip.AddrPort{}, ErrIncomplete
	}
	if b[0] == v1Sig[0] {
		return parseV1(b)
	}
	if b[0] == v2Sig[0] {
		return parseV2(b)
	}
	return 0, netip.AddrPort{}, ErrNoHeader
}

// prefixOf reports whether b is sig or a beginning of it, and whether b
// holds all of sig.
func prefixOf(b, sig []byte) (ok, whole bool) {
	m := min(len(b), len(sig))
	return bytes.Equal(b[:m], sig[:m]), m == len(sig)
}

// parseV1 reads "PROXY TCP4|TCP6 src dst sport dport\r\n" or
// "PROXY UNKNOWN ...\r\n" (section 2.1).
func parseV1(b []byte) (int, netip.AddrPort, error) {
	if ok, _ := prefixOf(b, v1Sig[:]); !ok {
		return 0, netip.AddrPort{}, ErrNoHeader
	}
	end := bytes.IndexByte(b[:min(len(b), v1MaxLen)], '\n')
	if end < 0 {
		if len(b) >= v1MaxLen {
			return 0, netip.AddrPort{}, ErrTooLong
		}
		return 0, netip.AddrPort{}, ErrIncomplete
	}
	n := end + 1
	if end < len(v1Sig)+1 || b[end-1] != '\r' {
		return 0, netip.AddrPort{}, ErrMalformed
	}
	line := b[len(v1Sig) : end-1]
	proto, rest := field(line)
	switch string(proto) {
	case "UNKNOWN":
		return n, netip.AddrPort{}, nil // the rest of the line is to be ignored
	case "TCP4", "TCP6":
	default:
		return 0, netip.AddrPort{}, ErrMalformed
	}
	srcB, rest := field(rest)
	dstB, rest := field(rest)
	sportB, rest := field(rest)
	dportB, rest := field(rest)
	if len(rest) != 0 {
		return 0, netip.AddrPort{}, ErrMalformed
	}
	src, ok1 := parseAddr(srcB, proto[3] == '6')
	_, ok2 := parseAddr(dstB, proto[3] == '6')
	sport, ok3 := parsePort(sportB)
	_, ok4 := parsePort(dportB)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, netip.AddrPort{}, ErrMalformed
	}
	return n, netip.AddrPortFrom(src.Unmap(), sport), nil
}

// field splits at the first single space: the specification allows
// exactly one between fields.
func field(b []byte) (f, rest []byte) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// parseAddr parses an address of the family the line named, without a
// zone. The string header over b is not kept past the call (netip copies
// what it parses), so no copy of b is made.
func parseAddr(b []byte, six bool) (netip.Addr, bool) {
	if len(b) == 0 || len(b) > 45 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	if err != nil || a.Is6() != six {
		return netip.Addr{}, false
	}
	return a, true
}

// parsePort parses 0..65535 in decimal without a leading zero (section 2.1).
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 65535 {
		return 0, false
	}
	return uint16(v), true
}

// parseV2 reads the binary header (section 2.2): the signature, version and
// command, family and protocol, the length of what follows, the addresses,
// then TLVs, which are skipped.
func parseV2(b []byte) (int, netip.AddrPort, error) {
	if ok, whole := prefixOf(b, v2Sig[:]); !ok {
		return 0, netip.AddrPort{}, ErrNoHeader
	} else if !whole || len(b) < v2HdrLen {
		if len(b) > len(v2Sig) && b[len(v2Sig)]>>4 != 2 {
			return 0, netip.AddrPort{}, ErrMalformed
		}
		return 0, netip.AddrPort{}, ErrIncomplete
	}
	verCmd, fam := b[12], b[13]
	if verCmd>>4 != 2 || verCmd&0xF > 1 {
		return 0, netip.AddrPort{}, ErrMalformed
	}
	n := v2HdrLen + int(binary.BigEndian.Uint16(b[14:16]))
	if n > MaxLen {
		return 0, netip.AddrPort{}, ErrTooLong
	}
	if len(b) < n {
		return 0, netip.AddrPort{}, ErrIncomplete
	}
	body := b[v2HdrLen:n]
	if verCmd&0xF == 0 { // LOCAL: the proxy's own connection (a health check)
		return n, netip.AddrPort{}, nil
	}
	switch fam >> 4 {
	case 1: // AF_INET
		if len(body) < 12 {
			return 0, netip.AddrPort{}, ErrMalformed
		}
		if !transport(fam) {
			return n, netip.AddrPort{}, nil
		}
		a := netip.AddrFrom4([4]byte(body[0:4]))
		return n, netip.AddrPortFrom(a, binary.BigEndian.Uint16(body[8:10])), nil
	case 2: // AF_INET6
		if len(body) < 36 {
			return 0, netip.AddrPort{}, ErrMalformed
		}
		if !transport(fam) {
			return n, netip.AddrPort{}, nil
		}
		a := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		return n, netip.AddrPortFrom(a, binary.BigEndian.Uint16(body[32:34])), nil
	case 0, 3: // AF_UNSPEC, AF_UNIX: no address to use
		return n, netip.AddrPort{}, nil
	}
	return 0, netip.AddrPort{}, ErrMalformed
}

// transport reports a STREAM or DGRAM protocol, the ones whose addresses
// are IP addresses and ports.
func transport(fam byte) bool { p := fam & 0xF; return p == 1 || p == 2 }
