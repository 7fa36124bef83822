package msg

import "testing"

func TestPrintableNoSpace(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "smppclient1": true, "a~!": true,
		"a b": false, "tab\t": false, "nul\x00": false, "del\x7f": false, "é": false,
	} {
		if got := PrintableNoSpace(s); got != want {
			t.Errorf("PrintableNoSpace(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestNoControl(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "+49 170 1234": true, "é": true,
		"nul\x00": false, "nl\n": false, "del\x7f": false, "esc\x1b": false,
	} {
		if got := NoControl(s); got != want {
			t.Errorf("NoControl(%q) = %v, want %v", s, got, want)
		}
	}
}
