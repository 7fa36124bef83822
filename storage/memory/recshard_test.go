package memory

import (
	"testing"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// One generator's ids spread evenly over the record tables, and within a
// table their index words stay apart: after a store full of them has
// evicted as many again, no run of occupied words is longer than one, so
// an eviction's removal (index.remove) never walks far.
func TestRecordIDsSpreadWithoutRuns(t *testing.T) {
	g, err := msg.NewIDGen(5)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1 << 14
	s := New(Options{MaxRecords: limit})
	if len(s.recs) < 2 {
		t.Fatalf("%d tables", len(s.recs))
	}
	var r storage.Record
	for range 2 * limit {
		r.ID = g.Next()
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range s.recs {
		tb := &s.recs[i]
		if n := tb.live(); n < limit/len(s.recs)-1 {
			t.Fatalf("table %d holds %d of %d", i, n, limit)
		}
		run, longest := 0, 0
		for _, w := range tb.ix.w {
			if w == 0 {
				run = 0
				continue
			}
			run++
			longest = max(longest, run)
		}
		if longest > 1 {
			t.Fatalf("table %d: a run of %d occupied index words", i, longest)
		}
	}
	// The newest is found.
	var out storage.Record
	if err := s.Get(r.ID, &out); err != nil || out.ID != r.ID {
		t.Fatalf("newest: %v", err)
	}
}
