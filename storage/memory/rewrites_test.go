package memory

import (
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// rewritesHeld counts the rewritten-address slots in use.
func rewritesHeld(s *Store) (n int, chunks int) {
	for i := range s.recs {
		s.recs[i].mu.Lock()
		n += s.rewrites[i].Held()
		chunks += s.rewrites[i].Chunks()
		s.recs[i].mu.Unlock()
	}
	return n, chunks
}

// Records the policy rewrote keep their second pair out of line: none is
// allocated without a rewrite; a re-Put without one, a Delete, an
// eviction and an expiry each give the slot back; what is left reads back.
func TestRewrittenAddressesOutOfLine(t *testing.T) {
	c := newClock()
	s := New(Options{MaxRecords: 1000, TTL: time.Hour, Now: c.now})
	id := func(i int) msg.ID { return msg.ID(uint64(i+1) << idNodeBits) }
	put := func(i int, rewritten bool) {
		t.Helper()
		r := rec(id(i), c.now())
		if rewritten {
			r.SetUpstream(1, 1, []byte("+4917"), 1, 1, append([]byte("+49"), r.SourceAddr()...))
		}
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 300 {
		put(i, false)
	}
	if n, chunks := rewritesHeld(s); n != 0 || chunks != 0 {
		t.Fatalf("without a rewrite: %d slots, %d chunks", n, chunks)
	}
	for i := 300; i < 600; i++ {
		put(i, true)
	}
	put(300, false)
	if err := s.Delete(id(301)); err != nil {
		t.Fatal(err)
	}
	if n, _ := rewritesHeld(s); n != 298 {
		t.Fatalf("after a re-Put and a Delete: %d slots, want 298", n)
	}
	for i := 302; i < 600; i++ {
		got := mustGet(t, s, id(i))
		_, _, dst := got.UpstreamDest()
		if !got.Rewritten || string(dst) != "+49"+string(got.SourceAddr()) {
			t.Fatalf("%d: %+v", i, got)
		}
	}
	if got := mustGet(t, s, id(300)); got.Rewritten {
		t.Fatalf("re-Put without the rewrite kept it: %+v", got)
	}
	// 2000 newer plain records evict every older one (each shard's ring
	// holds a share of MaxRecords).
	for i := 1000; i < 3000; i++ {
		put(i, false)
	}
	if n, _ := rewritesHeld(s); n != 0 {
		t.Fatalf("after eviction: %d slots held", n)
	}
	for i := 3000; i < 3100; i++ {
		put(i, true)
	}
	c.advance(2 * time.Hour)
	s.Sweep(c.now())
	if n, _ := rewritesHeld(s); n != 0 {
		t.Fatalf("after the lifetime: %d slots held", n)
	}
}
