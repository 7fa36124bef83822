package memory

import (
	"bytes"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

func TestUpstreamOf(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.now, TTL: time.Hour})
	if got, ok := s.UpstreamOf(1, nil); ok || got != nil {
		t.Fatalf("empty store: %q %v", got, ok)
	}
	key := []byte("1F0001aB")
	s.PutUpstreamOf(1, key)
	key[0] = 'x' // the store must have copied it
	got, ok := s.UpstreamOf(1, []byte("p:"))
	if !ok || string(got) != "p:1F0001aB" {
		t.Fatalf("UpstreamOf = %q %v: want the exact id appended", got, ok)
	}
	s.PutUpstreamOf(1, []byte("77"))
	if got, _ := s.UpstreamOf(1, nil); string(got) != "77" {
		t.Fatalf("after replace: %q", got)
	}
	long := bytes.Repeat([]byte{'9'}, MaxUpstreamID)
	s.PutUpstreamOf(2, long)
	s.PutUpstreamOf(3, append(long, '9'))
	s.PutUpstreamOf(4, nil)
	if got, ok := s.UpstreamOf(2, nil); !ok || !bytes.Equal(got, long) {
		t.Fatalf("64 octets: %q %v", got, ok)
	}
	for _, id := range []msg.ID{3, 4} {
		if _, ok := s.UpstreamOf(id, nil); ok {
			t.Fatalf("id %v: over-long or empty upstream id kept", id)
		}
	}
	// The forward map is a separate table: our ids are not upstream keys.
	if _, ok := s.Upstream(0, []byte("77")); ok {
		t.Fatal("reverse entry visible through Upstream")
	}
	st := s.Stats()
	if st.Reverse != 2 || st.UpstreamRejected != 2 || st.Upstream != 0 {
		t.Fatalf("stats %+v", st)
	}
	clk.advance(2 * time.Hour)
	if _, ok := s.UpstreamOf(1, nil); ok {
		t.Fatal("expired entry returned")
	}
	if n := s.Sweep(clk.now()); n != 2 || s.Stats().Reverse != 0 {
		t.Fatalf("Sweep reclaimed %d, %d left", n, s.Stats().Reverse)
	}
}

func TestUpstreamOfEviction(t *testing.T) {
	clk := newClock()
	s := newStore(Options{MaxUpstream: 64, Now: clk.now}, 0)
	for id := msg.ID(1); id <= 100; id++ {
		s.PutUpstreamOf(id, id.AppendHex(nil))
	}
	for id := msg.ID(1); id <= 100; id++ {
		got, ok := s.UpstreamOf(id, nil)
		if want := id > 36; ok != want || (ok && string(got) != string(id.AppendHex(nil))) {
			t.Fatalf("id %d: %q %v, want present=%v", id, got, ok, want)
		}
	}
}
