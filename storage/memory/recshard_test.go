package memory

import (
	"runtime"
	"testing"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// One generator's ids spread evenly over the record tables, and within a
// table their index words stay apart: after a store full of them has
// evicted as many again, no run of occupied words is longer than one, so
// an eviction's removal (index.remove) never walks far.
func TestRecordIDsSpreadWithoutRuns(t *testing.T) {
	// One P: the generator hands each P its own runs of ids, and a test
	// goroutine moved to another P mid-loop would interleave two runs in
	// one table (it did once in CI: a run of 65 occupied words). The layout
	// under test is that of one event loop's ids, in order.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
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

// A run of msg.IDRun ids (one event loop's, msg/idrun.go) goes to one
// table, its ids on consecutive positions (every other index word), and
// consecutive runs go round the tables; a table too small to hold 8 runs
// takes shorter ones.
func TestRecordRunsOnOneTable(t *testing.T) {
	const node = 5
	id := func(k uint64) msg.ID { return msg.ID((1<<30+k)<<idNodeBits | node) }
	s := New(Options{MaxRecords: 50_000})
	if s.runBits != idRunBits {
		t.Fatalf("runBits %d at 50,000 records, want %d", s.runBits, idRunBits)
	}
	first, tag0 := s.recHash(id(0))
	for k := range uint64(msg.IDRun) {
		tb, tag := s.recHash(id(k))
		if tb != first || tag != tag0+2*uint32(k) {
			t.Fatalf("id %d of the run: table %p tag %d, want %p and %d", k, tb, tag, first, tag0+2*uint32(k))
		}
	}
	seen := map[*recTable]bool{}
	for r := range uint64(len(s.recs)) {
		tb, _ := s.recHash(id(r * msg.IDRun))
		seen[tb] = true
	}
	if len(seen) != len(s.recs) {
		t.Fatalf("%d runs in a row took %d of %d tables", len(s.recs), len(seen), len(s.recs))
	}
	// The run after a table's last continues its positions.
	next, tagN := s.recHash(id(uint64(len(s.recs)) * msg.IDRun))
	last, tagL := s.recHash(id(msg.IDRun - 1))
	if next != last || tagN != tagL+2 {
		t.Fatalf("a table's next run: table %p tag %d, want %p and %d", next, tagN, last, tagL+2)
	}
	small := New(Options{MaxRecords: 1000}) // 32 tables of 31 or 32
	if small.runBits != 1 {
		t.Fatalf("runBits %d at 31 records a table, want 1", small.runBits)
	}
}
