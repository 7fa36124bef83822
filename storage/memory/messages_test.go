package memory

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

func TestShardCaps(t *testing.T) {
	f := func(limit int, maxBits uint, wantShards int) {
		t.Helper()
		caps, bits := shardCaps(limit, maxBits)
		if len(caps) != wantShards || 1<<bits != len(caps) {
			t.Fatalf("shardCaps(%d, %d): %d shards (bits %d), want %d", limit, maxBits, len(caps), bits, wantShards)
		}
		sum := 0
		for _, c := range caps {
			if c < 1 {
				t.Fatalf("shardCaps(%d): a shard with capacity %d", limit, c)
			}
			sum += c
		}
		if sum != limit {
			t.Fatalf("shardCaps(%d): capacities sum to %d", limit, sum)
		}
	}
	f(1, 6, 1)
	f(31, 6, 1)
	f(32, 6, 2)
	f(1000, 6, 32)
	f(1023, 6, 32)
	f(1024, 6, 64)
	f(100_000, 6, 64)
	f(1_000_000, 6, 64)
	f(1_000_001, 6, 64)
	f(5000, 0, 1)
}

func TestMessagesMethods(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.now})
	m1, m2 := msg.NewMessage(), msg.NewMessage()
	defer m1.Release()
	defer m2.Release()
	const id, other = msg.ID(0x0123456789abcdef), msg.ID(42)

	base := rec(id, t0)
	base.Live = m1
	s.Put(&base)

	steps := []struct {
		name string
		do   func() bool
		ok   bool
		want func(r *storage.Record) // expected record after the step, if ok
	}{
		{"get as put", func() bool { return true }, true, func(r *storage.Record) {}},
		{"get unknown", func() bool { var r storage.Record; return s.Get(other, &r) }, false, nil},
		{"setlive other message", func() bool { return s.SetLive(id, m2) }, true, func(r *storage.Record) { r.Live = m2 }},
		{"setlive nil clears", func() bool { return s.SetLive(id, nil) }, true, func(r *storage.Record) { r.Live = nil }},
		{"setlive again", func() bool { return s.SetLive(id, m1) }, true, func(r *storage.Record) { r.Live = m1 }},
		{"withlive sees it", func() bool { var l *msg.Message; s.WithLive(id, func(m *msg.Message) { l = m }); return l == m1 },
			true, func(r *storage.Record) {}},
		{"withlive unknown", func() bool { l := m1; s.WithLive(other, func(m *msg.Message) { l = m }); return l != nil }, false, nil},
		{"setlive back", func() bool { return s.SetLive(id, m1) }, true, func(r *storage.Record) { r.Live = m1 }},
		{"setstate clears live", func() bool { return s.SetState(id, msg.StateDelivered, 0, t0+5) }, true,
			func(r *storage.Record) { r.Live, r.State, r.Done = nil, msg.StateDelivered, t0+5 }},
		{"setstate with error", func() bool { return s.SetState(id, msg.StateUndeliverable, 0x45, t0+6) }, true,
			func(r *storage.Record) { r.State, r.Err, r.Done = msg.StateUndeliverable, 0x45, t0+6 }},
		{"setstate unknown", func() bool { return s.SetState(other, msg.StateDelivered, 0, 1) }, false, nil},
		{"setlive unknown", func() bool { return s.SetLive(other, m1) }, false, nil},
		{"put replaces", func() bool {
			r := rec(id, t0+7)
			r.SystemID, r.State, r.Live = "other", msg.StateAccepted, m2
			r.SetAddrs([]byte("src"), []byte("dst"), nil)
			s.Put(&r)
			return true
		}, true, func(r *storage.Record) {
			*r = rec(id, t0+7)
			r.SystemID, r.State, r.Live = "other", msg.StateAccepted, m2
			r.SetAddrs([]byte("src"), []byte("dst"), nil)
		}},
		{"setreplaced keeps the state", func() bool {
			r := rec(other, t0+8) // only the replaced fields are read
			r.State, r.RegisteredDelivery, r.Parts = msg.StateEnroute, 0, 7
			r.TextLen = uint8(copy(r.Text[:], "new"))
			return s.SetReplaced(id, &r)
		}, true, func(r *storage.Record) {
			r.RegisteredDelivery, r.Parts, r.Submitted = 0, 7, t0+8
			r.TextLen = uint8(copy(r.Text[:], "new"))
		}},
		{"setreplaced unknown", func() bool { r := rec(other, t0); return s.SetReplaced(other, &r) }, false, nil},
	}
	want := base
	for _, st := range steps {
		if got := st.do(); got != st.ok {
			t.Fatalf("%s: returned %v, want %v", st.name, got, st.ok)
		}
		if st.want != nil {
			st.want(&want)
		}
		if got := mustGet(t, s, id); got != want {
			t.Fatalf("%s: record\n got %+v\nwant %+v", st.name, got, want)
		}
		if s.Len() != 1 {
			t.Fatalf("%s: Len %d, want 1", st.name, s.Len())
		}
	}
}

func TestGetMissLeavesOut(t *testing.T) {
	s := New(Options{})
	out := rec(9, t0)
	keep := out
	if s.Get(1, &out) || out != keep {
		t.Fatalf("Get on an empty store: changed out or found")
	}
}

func TestPutClampsLengths(t *testing.T) {
	s := New(Options{})
	r := rec(1, time.Now().UnixNano())
	r.SourceLen, r.DestLen, r.TextLen = 200, 255, 21
	s.Put(&r)
	got := mustGet(t, s, 1)
	if got.SourceLen != storage.MaxAddr || got.DestLen != storage.MaxAddr || got.TextLen != storage.MaxText {
		t.Fatalf("lengths %d %d %d not clamped", got.SourceLen, got.DestLen, got.TextLen)
	}
	if len(got.SourceAddr()) != storage.MaxAddr {
		t.Fatal("SourceAddr view length")
	}
}

func TestPutStampsZeroSubmitted(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.now, TTL: time.Hour})
	r := rec(1, 0)
	s.Put(&r)
	if got := mustGet(t, s, 1); got.Submitted != t0 {
		t.Fatalf("Submitted %d, want the Put time %d", got.Submitted, t0)
	}
	clk.advance(time.Hour + 1)
	var out storage.Record
	if s.Get(1, &out) {
		t.Fatal("a record stamped at Put outlived the TTL")
	}
}

func TestEvictionOrder(t *testing.T) {
	clk := newClock()
	// Below 32 records the store has one shard, so eviction is global.
	s := New(Options{MaxRecords: 10, Now: clk.now})
	for i := 1; i <= 10; i++ {
		r := rec(msg.ID(i), t0)
		s.Put(&r)
	}
	// Replacing id 1 keeps its place: it is still the oldest.
	r := rec(1, t0+1)
	s.Put(&r)
	for i := 11; i <= 13; i++ {
		r := rec(msg.ID(i), t0)
		s.Put(&r)
	}
	var out storage.Record
	for i := 1; i <= 13; i++ {
		if want := i > 3; s.Get(msg.ID(i), &out) != want {
			t.Fatalf("id %d: present %v, want %v", i, !want, want)
		}
	}
	if s.Len() != 10 {
		t.Fatalf("Len %d, want 10", s.Len())
	}
	if st := s.Stats(); st.Evicted != 3 || st.Records != 10 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEvictionPerShard(t *testing.T) {
	s := New(Options{MaxRecords: 1024}) // 64 shards of 16
	for i := 1; i <= 100_000; i++ {
		r := rec(msg.ID(i), time.Now().UnixNano())
		s.Put(&r)
		if i%997 == 0 && s.Len() > 1024 {
			t.Fatalf("after %d puts Len %d exceeds 1024", i, s.Len())
		}
	}
	if s.Len() != 1024 {
		t.Fatalf("Len %d, want 1024", s.Len())
	}
	// Each shard keeps its 16 newest: the newest id overall survives.
	mustGet(t, s, 100_000)
	if st := s.Stats(); st.Evicted != 100_000-1024 {
		t.Fatalf("evicted %d", st.Evicted)
	}
}

func TestTTL(t *testing.T) {
	clk := newClock()
	s := New(Options{TTL: time.Hour, Now: clk.now})
	old, young := rec(1, t0-int64(59*time.Minute)), rec(2, t0)
	s.Put(&old)
	s.Put(&young)
	var out storage.Record

	clk.advance(time.Minute) // old is exactly TTL old: still there
	if !s.Get(1, &out) {
		t.Fatal("a record exactly TTL old was dropped")
	}
	clk.advance(1)
	if s.Get(1, &out) || s.SetState(1, msg.StateDelivered, 0, 1) || s.SetLive(1, nil) {
		t.Fatal("an expired record is still visible")
	}
	mustGet(t, s, 2)
	if n := s.Sweep(clk.now()); n != 1 {
		t.Fatalf("Sweep reclaimed %d, want 1", n)
	}
	if s.Len() != 1 {
		t.Fatalf("Len %d after sweep", s.Len())
	}
	clk.advance(time.Hour)
	if n := s.Sweep(clk.now()); n != 1 || s.Len() != 0 {
		t.Fatalf("second Sweep reclaimed %d, Len %d", n, s.Len())
	}
	if st := s.Stats(); st.Expired != 2 {
		t.Fatalf("Expired %d, want 2", st.Expired)
	}
	// An emptied shard gave its arrays back and still works.
	for i := range s.recs {
		if s.recs[i].ents != nil {
			t.Fatalf("shard %d kept its arrays after emptying", i)
		}
	}
	r := rec(3, clk.now())
	s.Put(&r)
	mustGet(t, s, 3)
}

// TestSweepStopsAtLiveHead: a record inserted behind a younger one is
// hidden by Get at once and reclaimed when the younger one goes.
func TestSweepStopsAtLiveHead(t *testing.T) {
	clk := newClock()
	s := New(Options{MaxRecords: 8, TTL: time.Hour, Now: clk.now})
	young, old := rec(1, t0), rec(2, t0-2*int64(time.Hour))
	s.Put(&young)
	s.Put(&old)
	var out storage.Record
	if s.Get(2, &out) {
		t.Fatal("expired record visible")
	}
	if n := s.Sweep(clk.now()); n != 0 {
		t.Fatalf("Sweep reclaimed %d behind a live head", n)
	}
	clk.advance(time.Hour + 1)
	if n := s.Sweep(clk.now()); n != 2 {
		t.Fatalf("Sweep reclaimed %d, want 2", n)
	}
}

func TestGrowthWithWrap(t *testing.T) {
	clk := newClock()
	s := newStore(Options{MaxRecords: 1000, TTL: time.Hour, Now: clk.now}, 0)
	// 50 old records, then 10 sweeps' worth pushes head off slot 0.
	for i := 0; i < 50; i++ {
		r := rec(msg.ID(i), t0-int64(2*time.Hour))
		s.Put(&r)
	}
	for i := 50; i < 60; i++ {
		r := rec(msg.ID(i), t0)
		s.Put(&r)
	}
	if n := s.Sweep(clk.now()); n != 50 {
		t.Fatalf("swept %d", n)
	}
	// Now fill past several growth steps (64 -> 128 -> ... -> 1000) with
	// the ring wrapped at the first one.
	for i := 60; i < 1200; i++ {
		r := rec(msg.ID(i), t0)
		s.Put(&r)
	}
	var out storage.Record
	for i := 0; i < 1200; i++ {
		want := i >= 200 // 1000 newest of the 1150 live ones
		if i < 50 {
			want = false
		}
		if got := s.Get(msg.ID(i), &out); got != want {
			t.Fatalf("id %d present %v, want %v", i, got, want)
		}
		if want && out != rec(msg.ID(i), t0) {
			t.Fatalf("id %d: record damaged by growth", i)
		}
	}
	if len(s.recs[0].ents) != 1000 {
		t.Fatalf("ring size %d, want the 1000 limit", len(s.recs[0].ents))
	}
}

func TestMessagesConcurrent(t *testing.T) {
	clk := newClock()
	s := New(Options{MaxRecords: 4096, Now: clk.now})
	const workers, per = 8, 3000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var out storage.Record
			m := msg.NewMessage()
			defer m.Release()
			for i := 0; i < per; i++ {
				// Ids are private to a worker, except every 8th which
				// all workers share, to contend on the same records.
				id := msg.ID(w<<32 | i)
				if i%8 == 0 {
					id = msg.ID(i)
				}
				r := rec(id, t0)
				r.Live = m
				s.Put(&r)
				if s.Get(id, &out) && out.ID != id {
					errs <- fmt.Errorf("Get(%v) returned %v", id, out.ID)
					return
				}
				s.SetLive(id, nil)
				s.SetState(id, msg.StateDelivered, uint16(w), t0+1)
				if i%8 != 0 && s.Get(id, &out) && (out.State != msg.StateDelivered || out.Err != uint16(w) || out.Live != nil) {
					errs <- fmt.Errorf("id %v: state %v err %d live %p after SetState", id, out.State, out.Err, out.Live)
					return
				}
				if i%64 == 0 {
					s.Sweep(clk.now())
					_ = s.Len()
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.Len(); n > 4096 || n == 0 {
		t.Fatalf("Len %d", n)
	}
}

// TestIdleStoreSmall: New allocates shard headers only; entry arrays come
// with use.
func TestIdleStoreSmall(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := New(Options{})
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Fatalf("an empty store with the default limits allocated %d bytes", n)
	}
	runtime.KeepAlive(s)
}

func TestDeleteFreesTheNewestSlot(t *testing.T) {
	clk := newClock()
	s := newStore(Options{Now: clk.now, MaxRecords: 2}, 0) // one shard of two
	a, b, c := rec(1, t0), rec(2, t0), rec(3, t0)
	s.Put(&a)
	s.Put(&b)
	if !s.Delete(2) || s.Len() != 1 {
		t.Fatalf("newest not deleted: len %d", s.Len())
	}
	var out storage.Record
	if s.Get(2, &out) {
		t.Fatal("deleted record still found")
	}
	if s.Delete(2) || s.Delete(99) {
		t.Fatal("deleted an unknown id")
	}
	// The freed slot takes the next record without evicting the oldest.
	s.Put(&c)
	if !s.Get(1, &out) || !s.Get(3, &out) || s.Stats().Evicted != 0 {
		t.Fatalf("after reuse: evicted %d", s.Stats().Evicted)
	}
	// An older record is not the shard's newest: kept.
	if s.Delete(1) || !s.Get(1, &out) {
		t.Fatal("an older record was deleted")
	}
}

func TestDefaultClockFollowsSweeps(t *testing.T) {
	s := New(Options{TTL: time.Hour})
	before := time.Now().UnixNano()
	if d := s.now() - before; d < 0 || d > int64(time.Minute) {
		t.Fatalf("before any sweep the clock is off by %v", time.Duration(d))
	}
	at := time.Now().Add(-3 * time.Hour).UnixNano()
	r := rec(5, at+int64(time.Minute))
	s.Put(&r)
	s.Sweep(at + int64(30*time.Minute)) // the record is 29 minutes old at that now
	var out storage.Record
	if s.now() != at+int64(30*time.Minute) || !s.Get(5, &out) {
		t.Fatal("Get did not use the latest sweep's now")
	}
}

func TestFinishSetsStateAndCopies(t *testing.T) {
	s := New(Options{})
	m := msg.NewMessage()
	defer m.Release()
	r := rec(9, time.Now().UnixNano())
	r.Live = m
	s.Put(&r)
	var out storage.Record
	if !s.Finish(9, msg.StateDelivered, 0, 42, &out) || out.State != msg.StateDelivered || out.Done != 42 || out.Live != nil ||
		string(out.DestAddr()) != string(r.DestAddr()) {
		t.Fatalf("Finish: %+v", out)
	}
	if s.Finish(10, msg.StateDelivered, 0, 42, &out) {
		t.Fatal("Finish of an unknown id")
	}
}

// Without a receipt request Finish gives the counters' fields only; the
// record keeps everything for a later Get (query_sm), and Live is cleared.
func TestFinishWithoutReceiptCopiesLess(t *testing.T) {
	s := New(Options{})
	m := msg.NewMessage()
	defer m.Release()
	r := rec(11, time.Now().UnixNano())
	r.RegisteredDelivery = 0
	r.Live = m
	s.Put(&r)
	var out storage.Record
	if !s.Finish(11, msg.StateUndeliverable, 7, 42, &out) {
		t.Fatal("Finish: not found")
	}
	want := storage.Record{ID: 11, State: msg.StateUndeliverable, Err: 7, Connector: 3, Submitted: r.Submitted, Done: 42}
	if out != want {
		t.Fatalf("Finish copied %+v, want %+v", out, want)
	}
	got := mustGet(t, s, 11)
	if got.SystemID != "user" || string(got.DestAddr()) != string(r.DestAddr()) || got.State != msg.StateUndeliverable || got.Live != nil {
		t.Fatalf("record after Finish: %+v", got)
	}
	var live *msg.Message
	s.WithLive(11, func(l *msg.Message) { live = l })
	if live != nil {
		t.Fatal("Finish left the Live message")
	}
}

// Evicting a record with a Live message lets go of it; SetLive(nil) and
// SetState keep the flag in step with refs.
func TestLiveFlagFollowsRefs(t *testing.T) {
	s := newStore(Options{MaxRecords: minShardCap}, 0)
	m := msg.NewMessage()
	defer m.Release()
	r := rec(1, time.Now().UnixNano())
	r.Live = m
	s.Put(&r)
	sh, _ := s.recHash(1)
	if !sh.ents[0].live || sh.refs[0].live != m {
		t.Fatal("Put with Live: flag or ref not set")
	}
	s.SetLive(1, nil)
	if sh.ents[0].live || sh.refs[0].live != nil {
		t.Fatal("SetLive(nil): flag or ref left")
	}
	s.SetLive(1, m)
	for i := msg.ID(2); i <= minShardCap+1; i++ { // evicts id 1
		x := rec(i, time.Now().UnixNano())
		s.Put(&x)
	}
	for i := range sh.refs {
		if sh.refs[i].live != nil {
			t.Fatalf("slot %d still holds the evicted record's Live message", i)
		}
	}
}

// SetAccepted with a decided final state: ENROUTE (no error, no done date)
// before its time, the state from then on; Finish or SetState replace it,
// and a record already final keeps its state.
func TestSetAcceptedShowsFinalFromItsTime(t *testing.T) {
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := New(Options{Now: clk.now})
	m := msg.NewMessage()
	defer m.Release()
	r := rec(21, clk.now())
	r.Live = m
	s.Put(&r)
	at := clk.now() + int64(time.Second)
	if !s.SetAccepted(21, msg.StateUndeliverable, 7, at) {
		t.Fatal("SetAccepted: not found")
	}
	got := mustGet(t, s, 21)
	if got.State != msg.StateEnroute || got.Err != 0 || got.Done != 0 || got.Live != nil {
		t.Fatalf("before its time: %+v", got)
	}
	clk.advance(time.Second)
	got = mustGet(t, s, 21)
	if got.State != msg.StateUndeliverable || got.Err != 7 || got.Done != at {
		t.Fatalf("at its time: %+v", got)
	}
	var out storage.Record
	if !s.Finish(21, msg.StateDelivered, 0, at+5, &out) || out.State != msg.StateDelivered {
		t.Fatalf("Finish after SetAccepted: %+v", out)
	}
	clk.advance(time.Hour)
	if got = mustGet(t, s, 21); got.State != msg.StateDelivered || got.Done != at+5 {
		t.Fatalf("after Finish: %+v", got)
	}
	// A receipt that came first (an upstream's receipt before its response)
	// is not overwritten by the acceptance.
	r2 := rec(22, clk.now())
	s.Put(&r2)
	s.SetState(22, msg.StateRejected, 3, clk.now())
	s.SetAccepted(22, msg.StateDelivered, 0, clk.now()-1)
	if got = mustGet(t, s, 22); got.State != msg.StateRejected || got.Err != 3 {
		t.Fatalf("acceptance after a final state: %+v", got)
	}
	// A Put reusing the id starts over.
	s.SetAccepted(22, 0, 0, 0)
	r3 := rec(23, clk.now())
	s.Put(&r3)
	s.SetAccepted(23, msg.StateExpired, 2, clk.now())
	s.Put(&r3)
	if got = mustGet(t, s, 23); got.State != msg.StateEnroute {
		t.Fatalf("Put after SetAccepted kept the decided state: %+v", got)
	}
}
