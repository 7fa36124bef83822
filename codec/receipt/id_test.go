package receipt

import "testing"

func TestNormalizeID(t *testing.T) {
	f := func(id string, base IDBase, want string) {
		t.Helper()
		got := NormalizeID([]byte("k="), []byte(id), base)
		if string(got) != "k="+want {
			t.Errorf("NormalizeID(%q, %d) = %q, want %q", id, base, got, "k="+want)
		}
	}
	f("1a2b", IDHex, "1A2B")
	f("0x001A2B", IDHex, "1A2B")
	f("0X1a2b", IDHex, "1A2B")
	f("6699", IDDecimal, "1A2B")
	f("0000006699", IDDecimal, "1A2B")
	f("0", IDDecimal, "0")
	f("000", IDHex, "0")
	f("18446744073709551615", IDDecimal, "FFFFFFFFFFFFFFFF")
	f("18446744073709551616", IDDecimal, "18446744073709551616") // over 64 bits: text key
	f("9b2f1c0e7a6d4e3f8a1b2c3d4e5f6071", IDHex, "9B2F1C0E7A6D4E3F8A1B2C3D4E5F6071")
	f("12ab", IDDecimal, "12AB") // not decimal: text key
	f("xyz", IDHex, "XYZ")       // not hex: text key
	f("0x", IDHex, "X")          // prefix only: text key
	f("00c0ffee-0000-4000", IDText, "C0FFEE-0000-4000")
	f("", IDText, "")
	f("", IDDecimal, "")

	// The same message under both bases gives the same key.
	a := NormalizeID(nil, []byte("33E95179"), IDHex)
	b := NormalizeID(nil, []byte("870928761"), IDDecimal)
	if string(a) != string(b) {
		t.Errorf("hex key %q != decimal key %q", a, b)
	}
}

func TestIDEqual(t *testing.T) {
	f := func(a, b string, want bool) {
		t.Helper()
		if got := IDEqual([]byte(a), []byte(b)); got != want {
			t.Errorf("IDEqual(%q, %q) = %v, want %v", a, b, got, want)
		}
		if got := IDEqual([]byte(b), []byte(a)); got != want {
			t.Errorf("IDEqual(%q, %q) = %v, want %v (swapped)", b, a, got, want)
		}
	}
	f("0x1A", "1a", true)
	f("1a", "26", true)
	f("0x1A", "26", true)
	f("0x1A", "0000026", true)
	f("33E95179", "870928761", true)
	f("33e95179", "0033E95179", true)
	f("1234567890", "0001234567890", true)
	f("abc-DEF", "ABC-def", true)
	f("10", "16", false) // both all-digit: compared as written
	f("1a", "27", false)
	f("1a", "1b", false)
	f("uuid-1", "uuid-2", false)
	f("", "", false)
	f("0", "", false)
	f("0", "000", true)
	f("0x0", "0", true)
	f("ffffffffffffffffff", "4722366482869645213695", false) // over 64 bits
	f("0xZZ", "0", false)
}
