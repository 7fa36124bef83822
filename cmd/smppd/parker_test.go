package main

import (
	"testing"
	"time"

	"github.com/smppd/smppd/storage/memory"
)

// A parked copy is held under its connector's queue; Parked hands each
// one over and leaves those not unparked for a later instance.
func TestStoreParker(t *testing.T) {
	st := memory.New(memory.Options{MaxHeld: 16})
	p := storeParker{holds: st.Holds(), queue: parkQueue + "up", life: time.Hour}
	k1, err := p.Park([]byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Park([]byte("two")); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = p.Parked(func(key uint64, body []byte) {
		got = append(got, string(body))
		if key == k1 {
			if err := p.Unpark(key); err != nil {
				t.Fatal(err)
			}
		}
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("Parked: %v %q", err, got)
	}
	got = got[:0]
	if err := p.Parked(func(_ uint64, body []byte) { got = append(got, string(body)) }); err != nil || len(got) != 1 || got[0] != "two" {
		t.Fatalf("a later instance got %q (%v): want the copy still parked", got, err)
	}
	other := storeParker{holds: st.Holds(), queue: parkQueue + "other", life: time.Hour}
	if err := other.Parked(func(uint64, []byte) { t.Fatal("another connector's copy") }); err != nil {
		t.Fatal(err)
	}
}
