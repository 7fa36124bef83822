//go:build !race

package bench

import (
	"testing"
)

func TestAllocsPerMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"gsm7 window 100", Config{Addr: "x", Window: 100, Count: 1 << 40, Mix: "gsm7"}},
		{"mix window 10", Config{Addr: "x", Window: 10, Count: 1 << 40, Mix: "gsm7:5,ucs2:3,long:2"}},
		{"receipts window 50", Config{Addr: "x", Window: 50, Count: 1 << 40, Bind: BindTransceiver, Receipts: true, Mix: "gsm7,long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSessionNoAlloc(t, tc.cfg)
			a := &answerer{}
			round := func() {
				now := s.now()
				s.fill(now)
				a.answerWindow(t, s, tc.cfg.Receipts)
				if err := s.consume(s.now()); err != nil {
					t.Fatal(err)
				}
				if err := s.flush(); err != nil {
					t.Fatal(err)
				}
				s.publish()
			}
			for range 50 { // warm: receipt table and histograms settle
				round()
			}
			if a := testing.AllocsPerRun(200, round); a != 0 {
				t.Fatalf("%v allocations per window round, want 0", a)
			}
			if s.win.inFlight() != 0 || s.st.ok != s.st.submitted || s.st.ok == 0 {
				t.Fatalf("in flight %d, ok %d of %d", s.win.inFlight(), s.st.ok, s.st.submitted)
			}
			if tc.cfg.Receipts && (s.st.receipts != s.st.ok || s.st.deliver != s.st.ok) {
				t.Fatalf("receipts %d deliver_sm %d of %d", s.st.receipts, s.st.deliver, s.st.ok)
			}
		})
	}
}
