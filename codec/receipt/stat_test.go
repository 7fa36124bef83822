package receipt

import "testing"

func TestStatMessageState(t *testing.T) {
	// SMPP 3.4 §5.2.28 values and names with the Appendix B receipt word.
	f := func(v uint8, name, word string) {
		t.Helper()
		s, ok := StatFromMessageState(v)
		if !ok {
			t.Fatalf("StatFromMessageState(%d) not ok", v)
		}
		if s.Name() != name || s.String() != word {
			t.Errorf("state %d: Name %q String %q, want %q %q", v, s.Name(), s.String(), name, word)
		}
		if got, ok := s.MessageState(); !ok || got != v {
			t.Errorf("%v.MessageState() = %d, %v; want %d", s, got, ok, v)
		}
		if p := ParseStat([]byte(word)); p != s {
			t.Errorf("ParseStat(%q) = %v, want %v", word, p, s)
		}
	}
	f(1, "ENROUTE", "ENROUTE")
	f(2, "DELIVERED", "DELIVRD")
	f(3, "EXPIRED", "EXPIRED")
	f(4, "DELETED", "DELETED")
	f(5, "UNDELIVERABLE", "UNDELIV")
	f(6, "ACCEPTED", "ACCEPTD")
	f(7, "UNKNOWN", "UNKNOWN")
	f(8, "REJECTED", "REJECTD")

	for _, v := range []uint8{0, 9, 255} {
		if s, ok := StatFromMessageState(v); ok || s != StatNone {
			t.Errorf("StatFromMessageState(%d) = %v, %v; want StatNone, false", v, s, ok)
		}
	}
	for _, s := range []Stat{StatNone, StatOther, 9} {
		if v, ok := s.MessageState(); ok || v != 0 {
			t.Errorf("%v.MessageState() = %d, %v; want 0, false", s, v, ok)
		}
		if s.Name() != "" {
			t.Errorf("Stat(%d).Name() = %q, want empty", uint8(s), s.Name())
		}
	}
	if StatNone.String() != "NONE" || StatOther.String() != "OTHER" || Stat(42).String() != "OTHER" {
		t.Errorf("String of none/other: %q %q %q", StatNone.String(), StatOther.String(), Stat(42).String())
	}
}

func TestParseStatVariants(t *testing.T) {
	f := func(in string, want Stat) {
		t.Helper()
		if got := ParseStat([]byte(in)); got != want {
			t.Errorf("ParseStat(%q) = %v, want %v", in, got, want)
		}
	}
	f("", StatNone)
	f("delivrd", StatDelivered)
	f("Delivered", StatDelivered)
	f("UNDELIVERED", StatUndeliverable)
	f("undeliverable", StatUndeliverable)
	f("accepted", StatAccepted)
	f("Rejected", StatRejected)
	f("EN_ROUTE", StatEnroute)
	f("enroute", StatEnroute)
	f("unknown", StatUnknown)
	f("deleted", StatDeleted)
	f("expired", StatExpired)
	f("FAILED", StatOther)
	f("DELIVRDX", StatOther)
	f("DELIVR", StatOther)
	f("DELIVRD\x00", StatOther)
}
