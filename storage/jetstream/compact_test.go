package jetstream

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// view is what a node's index says about the state the test wrote.
type view struct {
	records  map[msg.ID]msg.State
	upstream map[string]msg.ID
	held     int
	balances map[string]int64
	sets     map[string]bool
	cbs      map[msg.ID]string
	dead     int
}

func look(t *testing.T, s *Store, ids []msg.ID) view {
	t.Helper()
	v := view{records: map[msg.ID]msg.State{}, upstream: map[string]msg.ID{}, balances: map[string]int64{},
		sets: map[string]bool{}, cbs: map[msg.ID]string{}}
	for _, id := range ids {
		var r storage.Record
		if s.Get(id, &r) == nil {
			v.records[id] = r.State
		}
		if got, ok := s.Upstream(0, []byte(fmt.Sprint("UP-", uint64(id)))); ok {
			v.upstream[fmt.Sprint(uint64(id))] = got
		}
		var c storage.Callback
		if s.Callbacks().Callback(id, &c) == nil {
			v.cbs[id] = c.URL
		}
	}
	v.held = s.Holds().Len()
	_ = s.Ledger().Balances(func(id string, b int64, set bool) { v.balances[id], v.sets[id] = b, set })
	v.dead = s.DeadLetters().Len()
	return v
}

func sameView(t *testing.T, what string, got, want view) {
	t.Helper()
	if !maps.Equal(got.records, want.records) || !maps.Equal(got.upstream, want.upstream) || got.held != want.held ||
		!maps.Equal(got.balances, want.balances) || !maps.Equal(got.sets, want.sets) || !maps.Equal(got.cbs, want.cbs) ||
		got.dead != want.dead {
		t.Fatalf("%s:\n got  %d records, %d upstream, %d held, balances %v %v, %d callbacks, %d dead\n want %d records, %d upstream, %d held, balances %v %v, %d callbacks, %d dead",
			what, len(got.records), len(got.upstream), got.held, got.balances, got.sets, len(got.cbs), got.dead,
			len(want.records), len(want.upstream), want.held, want.balances, want.sets, len(want.cbs), want.dead)
	}
}

// Compaction replaces the journal's history with the state it left: a
// node opened afterwards (a new one, and one that had written the purged
// batches) sees what a full replay showed, plus what came after; the
// journal's batches before the cut are gone.
func TestCompactionKeepsTheState(t *testing.T) {
	dir := t.TempDir()
	open := func(node int) *Store {
		js, nc := testJS(t, dir)
		s, err := Open(Options{JS: js, Stream: testStream, Subject: fmt.Sprint("smppd.journal.", node), Node: node,
			Dir: fmt.Sprint(dir, "/n", node), TTL: time.Hour, MaxDeadLetters: 5, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b := open(1), open(2)
	var ids []msg.ID
	now := time.Now().UnixNano()
	must(a.Ledger().Append(&storage.LedgerEntry{SystemID: "alice", Kind: storage.LedgerSet, Amount: 1_000_000}))
	for i := uint64(1); i <= 300; i++ {
		id := msg.ID(i<<12 | 1)
		ids = append(ids, id)
		r := storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute, Submitted: now, Charge: 7, ChargeParts: 1}
		must(a.PutMessage(&r, []byte(fmt.Sprint("body-", i))))
		must(a.PutUpstream(0, []byte(fmt.Sprint("UP-", uint64(id))), id))
		switch {
		case i <= 100: // final: kept for query_sm
			must(a.SetState(id, msg.StateDelivered, 0, now))
		case i <= 200: // deleted: dropped, their charges stay in the balance
			must(a.Delete(id))
		}
	}
	must(a.Ledger().Append(&storage.LedgerEntry{SystemID: "alice", Kind: storage.LedgerRefund, Amount: 3}))
	must(b.Ledger().Append(&storage.LedgerEntry{SystemID: "bob", Kind: storage.LedgerTopUp, Amount: 50}))
	must(b.Ledger().Append(&storage.LedgerEntry{SystemID: "carol", Kind: storage.LedgerSet, Amount: 0}))
	must(b.Ledger().Append(&storage.LedgerEntry{SystemID: "carol", Kind: storage.LedgerCharge, Amount: 9}))
	var keys []storage.HeldKey
	for i := range 10 {
		k, err := a.Holds().Hold(&storage.Held{SystemID: "alice", Kind: storage.HeldMO, Body: []byte{byte(i)}, Expires: now + int64(time.Hour)})
		must(err)
		keys = append(keys, k)
	}
	for _, k := range keys[:6] {
		must(a.Holds().Ack(k))
	}
	for i, id := range ids[250:260] {
		must(a.Callbacks().PutCallback(&storage.Callback{ID: id, Level: storage.CallbackFinal, URL: fmt.Sprint("http://cb/", i)}))
		if i%2 == 0 {
			must(a.Callbacks().DeleteCallback(id))
		}
	}
	for i := range 8 {
		must(b.DeadLetters().Add(&storage.DeadLetter{SystemID: "alice", ID: ids[i], Reason: fmt.Sprint("r", i)}))
	}
	must(a.SetIDFloor(500 << 12))
	must(b.SetIDFloor(900 << 12))
	must(a.Committer().WaitCommitted(a.Committer().Written()))
	must(b.Committer().WaitCommitted(b.Committer().Written()))

	ref := look(t, open(3), ids) // a full replay
	if len(ref.records) != 200 || ref.held != 4 || len(ref.cbs) != 5 || ref.dead != 5 || ref.balances["alice"] != 1_000_000-300*7+3 {
		t.Fatalf("the reference replay is not what was written: %+v", ref)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := a.o.JS.Stream(ctx, testStream)
	must(err)
	info, err := st.Info(ctx)
	must(err)
	last := info.State.LastSeq
	eventually(t, "both nodes apply the whole journal", func() bool { return a.Applied() >= last && b.Applied() >= last })

	cs, err := a.Compact(ctx, last)
	must(err)
	if cs.Cut != last || cs.Chunks == 0 || cs.Dropped == 0 || cs.Kept >= cs.Read {
		t.Fatalf("compaction: %+v", cs)
	}
	t.Logf("compaction at %d: %d entries read, %d kept, %d dropped, %d chunks of %d bytes in %v", cs.Cut, cs.Read, cs.Kept, cs.Dropped, cs.Chunks, cs.Bytes, cs.Took)
	if again, err := a.Compact(ctx, last); err != nil || again.Chunks != 0 {
		t.Fatalf("a second compaction at the same cut: %+v, %v", again, err)
	}
	info, err = st.Info(ctx, natsjs.WithSubjectFilter(JournalFilter))
	must(err)
	if n := info.State.Subjects; len(n) != 0 {
		t.Fatalf("batches before the cut are still in the journal: %v", n)
	}

	// Writes after the cut, on both nodes.
	must(b.SetState(ids[250], msg.StateDelivered, 0, now))
	must(a.Holds().Ack(keys[6]))
	must(a.Ledger().Append(&storage.LedgerEntry{SystemID: "alice", Kind: storage.LedgerCharge, Amount: 11}))
	must(a.Committer().WaitCommitted(a.Committer().Written()))
	must(b.Committer().WaitCommitted(b.Committer().Written()))
	want := ref
	want.records = maps.Clone(ref.records)
	want.records[ids[250]] = msg.StateDelivered
	want.held--
	want.balances = maps.Clone(ref.balances)
	want.balances["alice"] -= 11

	sameView(t, "a new node after the compaction", look(t, open(4), ids), want)
	eventually(t, "node 2 follows on after the compaction", func() bool {
		var r storage.Record
		return b.Get(ids[250], &r) == nil && r.State == msg.StateDelivered && look(t, b, ids).held == want.held
	})

	// Node 1 restarts: its own non-final messages come back with their
	// bodies and its id floor, from the base.
	must(a.Close())
	a2 := open(1)
	sameView(t, "node 1 reopened", look(t, a2, ids), want)
	if f := a2.IDFloor(); f != 500<<12 {
		t.Fatalf("node 1's id floor after the compaction: %d", f)
	}
	bodies := 0
	must(a2.Recover(func(r *storage.Record, m []byte) error {
		if string(m) != fmt.Sprint("body-", uint64(r.ID)>>12) {
			return fmt.Errorf("record %d: body %q", r.ID, m)
		}
		bodies++
		return nil
	}))
	if bodies != 99 { // 201..300 but 250, finalised after the cut
		t.Fatalf("node 1 recovered %d of its 99 unfinished messages", bodies)
	}
}
