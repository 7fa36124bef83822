package delivery

import (
	"testing"
	"time"

	"github.com/smppd/smppd/storage/memory"
)

func TestDefaults(t *testing.T) {
	if _, err := New(Options{}); err != ErrNoStorage {
		t.Fatalf("New without storage: %v", err)
	}
	st := memory.New(memory.Options{MaxRecords: 16, MaxHeld: 16})
	s, err := New(Options{Messages: st, Holds: st.Holds()})
	if err != nil {
		t.Fatal(err)
	}
	o := s.opts
	if o.HoldLifetime != DefaultHoldLifetime || o.RetryMin != DefaultRetryMin || o.RetryMax != DefaultRetryMax ||
		o.ReassemblyTimeout != DefaultReassemblyTimeout || o.MaxWaiting != DefaultMaxWaiting {
		t.Fatalf("defaults %+v", o)
	}
	if got := s.backoff(1); got != DefaultRetryMin {
		t.Fatalf("first backoff %v", got)
	}
	if got := s.backoff(100); got != DefaultRetryMax {
		t.Fatalf("capped backoff %v", got)
	}
	if d := s.tickEvery(); d < 50*time.Millisecond || d > time.Second {
		t.Fatalf("tick %v", d)
	}
}
