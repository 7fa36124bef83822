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
		if want := i > 3; (s.Get(msg.ID(i), &out) == nil) != want {
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
	if s.Get(1, &out) != nil {
		t.Fatal("a record exactly TTL old was dropped")
	}
	clk.advance(1)
	if s.Get(1, &out) == nil || s.SetState(1, msg.StateDelivered, 0, 1) == nil {
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
	if s.Get(2, &out) == nil {
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
		if got := s.Get(msg.ID(i), &out) == nil; got != want {
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
			for i := 0; i < per; i++ {
				// Ids are private to a worker, except every 8th which
				// all workers share, to contend on the same records.
				id := msg.ID(w<<32 | i)
				if i%8 == 0 {
					id = msg.ID(i)
				}
				r := rec(id, t0)
				_ = s.Put(&r)
				if s.Get(id, &out) == nil && out.ID != id {
					errs <- fmt.Errorf("Get(%v) returned %v", id, out.ID)
					return
				}
				_ = s.SetState(id, msg.StateDelivered, uint16(w), t0+1)
				if i%8 != 0 && s.Get(id, &out) == nil && (out.State != msg.StateDelivered || out.Err != uint16(w)) {
					errs <- fmt.Errorf("id %v: state %v err %d after SetState", id, out.State, out.Err)
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
	if s.now() != at+int64(30*time.Minute) || s.Get(5, &out) != nil {
		t.Fatal("Get did not use the latest sweep's now")
	}
}

// SetAccepted with a decided final state: ENROUTE (no error, no done date)
// before its time on the precise clock, the state from then on; Finish or
// SetState replace it, a record already final keeps its state, and a Put
// of the id starts over.
func TestSetAcceptedShowsFinalFromItsTime(t *testing.T) {
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := New(Options{Now: clk.now})
	r := rec(21, clk.now())
	s.Put(&r)
	at := clk.now() + int64(time.Second)
	if err := s.SetAccepted(21, msg.StateUndeliverable, 7, at); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, 21)
	if got.State != msg.StateEnroute || got.Err != 0 || got.Done != 0 {
		t.Fatalf("before its time: %+v", got)
	}
	clk.advance(time.Second)
	got = mustGet(t, s, 21)
	if got.State != msg.StateUndeliverable || got.Err != 7 || got.Done != at {
		t.Fatalf("at its time: %+v", got)
	}
	var out storage.Record
	if s.Finish(21, msg.StateDelivered, 0, at+5, &out) != nil || out.State != msg.StateDelivered {
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

// A deleted record frees its slot when it is its shard's newest; an older
// one stays in the ring, dead, until eviction or a sweep reaches it: not
// counted as evicted, expired or held, and skipped when the ring grows.
func TestDeleteLeavesDeadSlots(t *testing.T) {
	clk := newClock()
	s := newStore(Options{Now: clk.now, MaxRecords: 4, TTL: time.Hour}, 0) // one shard of four
	for i := msg.ID(1); i <= 3; i++ {
		r := rec(i, t0)
		s.Put(&r)
	}
	if err := s.Delete(3); err != nil {
		t.Fatal(err)
	}
	sh := &s.recs[0]
	if sh.n != 2 || sh.dead != 0 {
		t.Fatalf("newest deleted: n %d dead %d, want the slot freed", sh.n, sh.dead)
	}
	if err := s.Delete(1); err != nil { // the oldest: left dead
		t.Fatal(err)
	}
	if sh.n != 2 || sh.dead != 1 || s.Len() != 1 || s.Stats().Records != 1 {
		t.Fatalf("older deleted: n %d dead %d Len %d", sh.n, sh.dead, s.Len())
	}
	for i := msg.ID(4); i <= 6; i++ { // the ring fills and evicts the dead slot first
		r := rec(i, t0)
		s.Put(&r)
	}
	if st := s.Stats(); st.Evicted != 0 || st.Records != 4 || sh.dead != 0 {
		t.Fatalf("evicting a dead slot: %+v, dead %d", st, sh.dead)
	}
	r := rec(7, t0)
	s.Put(&r) // now a live record goes
	if st := s.Stats(); st.Evicted != 1 {
		t.Fatalf("evicted %d, want 1", st.Evicted)
	}
	// A dead slot at the head goes with the next sweep, uncounted.
	if err := s.Delete(4); err != nil {
		t.Fatal(err)
	}
	if n := s.Sweep(clk.now()); n != 0 || sh.dead != 0 || sh.n != 3 || s.Stats().Expired != 0 {
		t.Fatalf("sweep of a dead head: %d reclaimed, n %d dead %d", n, sh.n, sh.dead)
	}
	// Growth skips dead slots: none is indexed in the new arrays.
	g := newStore(Options{Now: clk.now, MaxRecords: 4000}, 0)
	for i := msg.ID(1); i <= firstRing; i++ {
		x := rec(i, t0)
		g.Put(&x)
	}
	for i := msg.ID(1); i <= firstRing-1; i += 2 {
		if err := g.Delete(i); err != nil {
			t.Fatal(err)
		}
	}
	x := rec(firstRing+1, t0)
	g.Put(&x) // grows
	var out storage.Record
	for i := msg.ID(1); i <= firstRing+1; i++ {
		if (g.Get(i, &out) == nil) != (i%2 == 0 || i == firstRing+1) {
			t.Fatalf("id %d after growth: found %v", i, g.Get(i, &out) == nil)
		}
	}
	if gl := g.Len(); gl != firstRing/2+1 {
		t.Fatalf("Len %d after growth, want %d", gl, firstRing/2+1)
	}
}

// Each slot holds its own record's system_id (its number in the store's
// names) through eviction, and a deleted slot holds none.
func TestNamesFollowSlots(t *testing.T) {
	s := newStore(Options{MaxRecords: minShardCap}, 0)
	for i := msg.ID(1); i <= 2*minShardCap; i++ {
		r := rec(i, time.Now().UnixNano())
		r.SystemID = fmt.Sprint("user", i)
		r.MTRoute = fmt.Sprint("route", i%3)
		s.Put(&r)
	}
	sh := &s.recs[0]
	for i := range sh.n {
		e := &sh.ents[sh.pos(i)].v
		if want := fmt.Sprint("user", e.id); s.names.name(e.user) != want {
			t.Fatalf("slot of id %v holds %q", e.id, s.names.name(e.user))
		}
		if want := fmt.Sprint("route", e.id%3); s.names.name(e.route) != want {
			t.Fatalf("slot of id %v holds route %q", e.id, s.names.name(e.route))
		}
	}
	if err := s.Delete(2 * minShardCap); err != nil {
		t.Fatal(err)
	}
	if e := sh.ents[sh.pos(sh.n)].v; e.user != 0 || e.route != 0 {
		t.Fatalf("a deleted record's slot keeps names %d, %d", e.user, e.route)
	}
	var out storage.Record
	r := rec(1, time.Now().UnixNano()) // no route
	r.SystemID, r.MTRoute = fmt.Sprint("user", msg.ID(1)), ""
	s.Put(&r)
	if err := s.Get(1, &out); err != nil || out.SystemID != r.SystemID || out.MTRoute != "" {
		t.Fatalf("Get = %v, %q, %q; want %q and no route", err, out.SystemID, out.MTRoute, r.SystemID)
	}
	if n := s.names.count(); n != 2*minShardCap+3 {
		t.Fatalf("%d names, want each user and route once", n)
	}
}

// Names taken and read from several goroutines at once: each keeps its
// number, and every number reads back its own name.
func TestNamesConcurrent(t *testing.T) {
	var n names
	var wg sync.WaitGroup
	ids := make([][]uint32, 4)
	for g := range ids {
		wg.Go(func() {
			for i := range 200 {
				ids[g] = append(ids[g], n.of(fmt.Sprint("name", i)))
			}
		})
	}
	wg.Wait()
	for i := range 200 {
		for g := range ids {
			if ids[g][i] != ids[0][i] || n.name(ids[g][i]) != fmt.Sprint("name", i) {
				t.Fatalf("name%d: number %d in goroutine %d, %d in 0, reads %q", i, ids[g][i], g, ids[0][i], n.name(ids[g][i]))
			}
		}
	}
}

// Numbering a name costs the same however many there are: the bytes
// allocated by 1,000 new names after 20,000 stay small (copying the
// whole table per name allocated about 1 MB each), and names past
// several chunks read back while others are added.
func TestNamesAddDoesNotCopy(t *testing.T) {
	var n names
	for i := range 20_000 {
		n.of(fmt.Sprint("u", i))
	}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("v", i)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { // a reader of the first chunks meanwhile
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got := n.name(n.of("u17")); got != "u17" {
				t.Errorf("u17 reads %q", got)
				return
			}
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, k := range keys {
		n.of(k)
	}
	runtime.ReadMemStats(&after)
	close(stop)
	wg.Wait()
	if b := after.TotalAlloc - before.TotalAlloc; b > 1<<20 {
		t.Fatalf("1,000 new names after 20,000 allocated %d bytes, want < 1 MiB", b)
	}
	for i, k := range keys {
		if got := n.name(n.of(k)); got != k || n.of(k) != uint32(20_001+i) {
			t.Fatalf("%s: number %d reads %q", k, n.of(k), got)
		}
	}
}
