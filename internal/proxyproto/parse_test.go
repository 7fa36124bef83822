package proxyproto

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func v2(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, v2Sig[:]...)
	b = append(b, 0x20|cmd, fam, 0, 0)
	binary.BigEndian.PutUint16(b[14:], uint16(len(body)))
	return append(b, body...)
}

func v2inet4(src, dst [4]byte, sport, dport uint16, tlvs []byte) []byte {
	body := append(append([]byte{}, src[:]...), dst[:]...)
	body = binary.BigEndian.AppendUint16(body, sport)
	body = binary.BigEndian.AppendUint16(body, dport)
	return append(body, tlvs...)
}

func v2inet6(src, dst netip.Addr, sport, dport uint16) []byte {
	s, d := src.As16(), dst.As16()
	body := append(append([]byte{}, s[:]...), d[:]...)
	body = binary.BigEndian.AppendUint16(body, sport)
	return binary.BigEndian.AppendUint16(body, dport)
}

func TestParse(t *testing.T) {
	longTLV := make([]byte, MaxLen-v2HdrLen-12+1) // one octet past MaxLen
	okTLV := make([]byte, MaxLen-v2HdrLen-12)
	tests := []struct {
		name string
		in   string
		n    int
		src  string // "" = none named
		err  error
	}{
		{"v1 tcp4", "PROXY TCP4 192.0.2.7 198.51.100.1 40000 2775\r\nrest", 46, "192.0.2.7:40000", nil},
		{"v1 tcp6", "PROXY TCP6 2001:db8::7 2001:db8::1 40000 2775\r\n", 47, "[2001:db8::7]:40000", nil},
		{"v1 tcp6 mapped v4 is unmapped", "PROXY TCP6 ::ffff:192.0.2.7 ::1 1 2\r\n", 37, "192.0.2.7:1", nil},
		{"v1 unknown", "PROXY UNKNOWN\r\n", 15, "", nil},
		{"v1 unknown with addresses", "PROXY UNKNOWN ffff:f::1 ffff:f::2 65535 65535\r\n", 47, "", nil},
		{"v1 port 0", "PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n", 32, "1.2.3.4:0", nil},
		{"v1 empty", "", 0, "", ErrIncomplete},
		{"v1 prefix", "PROX", 0, "", ErrIncomplete},
		{"v1 no CRLF yet", "PROXY TCP4 192.0.2.7 198.51.100.1 40000", 0, "", ErrIncomplete},
		{"v1 too long", "PROXY TCP4 " + strings.Repeat("1", 120), 0, "", ErrTooLong},
		{"v1 LF without CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 0, "", ErrMalformed},
		{"v1 family mismatch", "PROXY TCP4 2001:db8::7 2001:db8::1 1 2\r\n", 0, "", ErrMalformed},
		{"v1 tcp6 with v4", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", 0, "", ErrMalformed},
		{"v1 zone refused", "PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n", 0, "", ErrMalformed},
		{"v1 port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", 0, "", ErrMalformed},
		{"v1 port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", 0, "", ErrMalformed},
		{"v1 port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", 0, "", ErrMalformed},
		{"v1 two spaces", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 0, "", ErrMalformed},
		{"v1 extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 0, "", ErrMalformed},
		{"v1 missing field", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 0, "", ErrMalformed},
		{"v1 unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, "", ErrMalformed},
		{"v1 lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, "", ErrNoHeader},
		{"v1 bad signature", "PROXZ TCP4", 0, "", ErrNoHeader},
		{"smpp bind instead", "\x00\x00\x00\x2f\x00\x00\x00\x02", 0, "", ErrNoHeader},
		{"http instead", "GET / HTTP/1.1\r\n", 0, "", ErrNoHeader},
		{"tls instead", "\x16\x03\x01\x02\x00", 0, "", ErrNoHeader},

		{"v2 inet4", string(v2(1, 0x11, v2inet4([4]byte{192, 0, 2, 7}, [4]byte{10, 0, 0, 1}, 40000, 2775, nil))) + "rest", 28, "192.0.2.7:40000", nil},
		{"v2 inet4 udp", string(v2(1, 0x12, v2inet4([4]byte{192, 0, 2, 7}, [4]byte{10, 0, 0, 1}, 5, 6, nil))), 28, "192.0.2.7:5", nil},
		{"v2 inet4 with TLVs", string(v2(1, 0x11, v2inet4([4]byte{192, 0, 2, 8}, [4]byte{10, 0, 0, 1}, 1, 2, []byte{0xEA, 0, 3, 'v', 'p', 'c'}))), 34, "192.0.2.8:1", nil},
		{"v2 at MaxLen", string(v2(1, 0x11, v2inet4([4]byte{1, 2, 3, 4}, [4]byte{}, 1, 2, okTLV))), MaxLen, "1.2.3.4:1", nil},
		{"v2 inet6", string(v2(1, 0x21, v2inet6(netip.MustParseAddr("2001:db8::9"), netip.MustParseAddr("::1"), 7, 8))), 52, "[2001:db8::9]:7", nil},
		{"v2 inet6 mapped", string(v2(1, 0x21, v2inet6(netip.MustParseAddr("::ffff:192.0.2.9"), netip.MustParseAddr("::1"), 7, 8))), 52, "192.0.2.9:7", nil},
		{"v2 local", string(v2(0, 0x00, nil)), 16, "", nil},
		{"v2 local with body", string(v2(0, 0x11, make([]byte, 12))), 28, "", nil},
		{"v2 unspec", string(v2(1, 0x00, nil)), 16, "", nil},
		{"v2 unix", string(v2(1, 0x31, make([]byte, 216))), 232, "", nil},
		{"v2 inet4 unspec protocol", string(v2(1, 0x10, make([]byte, 12))), 28, "", nil},
		{"v2 signature prefix", string(v2Sig[:5]), 0, "", ErrIncomplete},
		{"v2 header prefix", string(v2(1, 0x11, nil)[:14]), 0, "", ErrIncomplete},
		{"v2 body incomplete", string(v2(1, 0x11, v2inet4([4]byte{1, 2, 3, 4}, [4]byte{}, 1, 2, nil))[:20]), 0, "", ErrIncomplete},
		{"v2 too long", string(v2(1, 0x11, v2inet4([4]byte{1, 2, 3, 4}, [4]byte{}, 1, 2, longTLV))[:16]), 0, "", ErrTooLong},
		{"v2 length 65535", string(append(append([]byte{}, v2Sig[:]...), 0x21, 0x11, 0xFF, 0xFF)), 0, "", ErrTooLong},
		{"v2 bad signature", "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B", 0, "", ErrNoHeader},
		{"v2 version 1", string(append(append([]byte{}, v2Sig[:]...), 0x11)), 0, "", ErrMalformed},
		{"v2 version 3 whole", string(append(append([]byte{}, v2Sig[:]...), 0x31, 0x11, 0, 0)), 0, "", ErrMalformed},
		{"v2 command 2", string(append(append([]byte{}, v2Sig[:]...), 0x22, 0x11, 0, 12)), 0, "", ErrMalformed},
		{"v2 inet4 short body", string(v2(1, 0x11, make([]byte, 11))), 0, "", ErrMalformed},
		{"v2 inet6 short body", string(v2(1, 0x21, make([]byte, 35))), 0, "", ErrMalformed},
		{"v2 family 4", string(v2(1, 0x41, make([]byte, 12))), 0, "", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, src, err := Parse([]byte(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if n != tc.n {
				t.Errorf("n = %d, want %d", n, tc.n)
			}
			got := ""
			if src.IsValid() {
				got = src.String()
			}
			if got != tc.src {
				t.Errorf("src = %q, want %q", got, tc.src)
			}
		})
	}
}

// Every proper prefix of a valid header is ErrIncomplete, never a wrong
// answer: an event loop parses whatever part has arrived.
func TestParsePrefixesAreIncomplete(t *testing.T) {
	for _, h := range []string{
		"PROXY TCP4 192.0.2.7 198.51.100.1 40000 2775\r\n",
		"PROXY UNKNOWN\r\n",
		string(v2(1, 0x21, v2inet6(netip.MustParseAddr("2001:db8::9"), netip.MustParseAddr("::1"), 7, 8))),
	} {
		for i := range len(h) {
			if _, _, err := Parse([]byte(h[:i])); err != ErrIncomplete {
				t.Fatalf("%q[:%d]: err = %v, want ErrIncomplete", h, i, err)
			}
		}
	}
}

// The parse runs on an event loop for every proxied connection: no
// allocation.
func TestParseDoesNotAllocate(t *testing.T) {
	v1 := []byte("PROXY TCP6 2001:db8::7 2001:db8::1 40000 2775\r\n")
	v2b := v2(1, 0x11, v2inet4([4]byte{192, 0, 2, 7}, [4]byte{10, 0, 0, 1}, 40000, 2775, nil))
	bad := []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n")
	if a := testing.AllocsPerRun(1000, func() {
		_, _, _ = Parse(v1)
		_, _, _ = Parse(v2b)
		_, _, _ = Parse(bad)
	}); a != 0 {
		t.Fatalf("Parse allocates %.1f times per run", a)
	}
}

func TestTrusted(t *testing.T) {
	tr := Trusted{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for ip, want := range map[string]bool{
		"10.1.2.3": true, "::ffff:10.1.2.3": true, "11.0.0.1": false, "2001:db8::1": true, "2001:db9::1": false,
	} {
		if got := tr.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", ip, got, want)
		}
	}
	if (Trusted{}).Contains(netip.MustParseAddr("10.0.0.1")) {
		t.Error("an empty list trusts an address")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000 2775\r\n"))
	f.Add(v2(1, 0x21, v2inet6(netip.MustParseAddr("2001:db8::9"), netip.MustParseAddr("::1"), 7, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, _, err := Parse(b)
		if err == nil && (n <= 0 || n > len(b) || n > MaxLen) {
			t.Fatalf("n = %d for %d octets", n, len(b))
		}
		if err != nil && n != 0 {
			t.Fatalf("n = %d with %v", n, err)
		}
	})
}
