package cdr

import (
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// burst plays the hub and its upstream against a writer stalled (its lock
// held, as a slow disk or a starved goroutine holds it): messages are
// accepted while admit says so, at most inFlight of them wait for their
// final state, and once nothing more is accepted the upstream reports
// every final state still due. It returns how many were accepted.
func burst(e *env, total, inFlight int, admit func() bool) int {
	var pending []uint64
	accepted := 0
	e.s.mu.Lock()
	for accepted < total {
		if !admit() {
			break
		}
		accepted++
		id := uint64(accepted)
		e.put(id, "alice", "ACME", "4917000001", "x")
		pending = append(pending, id)
		if len(pending) > inFlight {
			e.final(pending[0])
			pending = pending[1:]
		}
	}
	for _, id := range pending {
		e.final(id)
	}
	e.s.mu.Unlock()
	return accepted
}

// The burst that overflowed the queue before: with the writer stalled,
// final states arrive faster than they are written. Without the
// admission check it drops lines; with it, new messages stop at the
// high-water mark, the headroom holds the final states of those in flight,
// and every accepted message gets its line. Bounded in time (the writer
// is waited for at most 10 s); nothing is asserted on speed.
func TestBacklogKeepsEveryLineOfABurst(t *testing.T) {
	const queue, inFlight, total = 1024, 400, 3000 // headroom: 1024 - 512 slots > 400 in flight

	blind := newEnv(t, func(o *Options) { o.QueueSize = queue })
	blind.s.Start()
	if n := burst(blind, total, inFlight, func() bool { return true }); n != total {
		t.Fatalf("accepted %d", n)
	}
	if d := blind.s.Stats().Dropped; d == 0 {
		t.Fatalf("without backpressure the burst dropped nothing: it does not test the headroom")
	}

	e := newEnv(t, func(o *Options) { o.QueueSize = queue })
	e.s.Start()
	backlog := e.s.Backlog()
	accepted := 0
	for accepted < total {
		n := burst(e, total-accepted, inFlight, func() bool { return !backlog.Load() })
		accepted += n
		if n == 0 || backlog.Load() { // refused: the client retries once the writer caught up
			deadline := time.Now().Add(10 * time.Second)
			for backlog.Load() {
				if time.Now().After(deadline) {
					t.Fatalf("backlog raised 10 s after the writer was let go: %+v", e.s.Stats())
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	st := e.s.Stats()
	if st.Dropped != 0 || st.Written != uint64(total) || st.Backlogs == 0 {
		t.Fatalf("Stats = %+v, want %d written, none dropped, the backlog raised", st, total)
	}
	if got := len(e.lines()); got != total {
		t.Fatalf("%d lines in the files, want %d", got, total)
	}
	if !strings.Contains(e.logs.String(), `"event":"cdr_backlog"`) {
		t.Fatalf("no cdr_backlog log line: %s", e.logs)
	}
}

// The high-water mark: raised by the push that reaches it, not before,
// and lowered by the writer once the queue is below half of it.
func TestBacklogMarks(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 1024; o.HighWater = 25 }) // raised at 256, lowered below 128
	for i := uint64(1); i <= 255; i++ {
		e.final(i)
	}
	if e.s.Backlog().Load() {
		t.Fatal("raised below the mark")
	}
	e.final(256)
	if !e.s.Backlog().Load() || !e.s.Stats().Backlog || e.s.Stats().Backlogs != 1 {
		t.Fatalf("not raised at the mark: %+v", e.s.Stats())
	}
	e.step() // the writer drains everything
	e.s.lowerBacklog()
	if e.s.Backlog().Load() {
		t.Fatalf("still raised with the queue drained: %+v", e.s.Stats())
	}
	for i := uint64(1); i <= 200; i++ {
		e.final(i)
	}
	e.s.lowerBacklog()
	if e.s.Backlog().Load() {
		t.Fatal("raised again below the mark")
	}
	if _, err := Open(Options{Dir: t.TempDir(), Messages: e.store, HighWater: 95}); err == nil ||
		!strings.Contains(err.Error(), "queue_high_water 95 is out of range 10..90") {
		t.Fatalf("HighWater 95: %v", err)
	}
}

// The writer lowers the flag as soon as its queue is below half the mark,
// while it still drains the rest, not once the queue is empty: while the
// flag is up every session waits unread.
func TestBacklogLoweredWhileDraining(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 4096; o.HighWater = 25 }) // raised at 1024, lowered below 512
	const n = 1024                                                            // two of the writer's batches (batchLen)
	for i := uint64(1); i <= n; i++ {
		e.final(i)
	}
	if !e.s.Backlog().Load() {
		t.Fatal("not raised at the mark")
	}
	up := make(map[msg.ID]bool, n)
	get := e.s.get
	e.s.get = func(id msg.ID, r *storage.Record) error {
		up[id] = e.s.Backlog().Load()
		return get(id, r)
	}
	e.step()
	if len(up) != n {
		t.Fatalf("the writer read %d records, want %d", len(up), n)
	}
	if !up[1] {
		t.Fatal("lowered before the queue was below half the mark")
	}
	if up[n] {
		t.Fatalf("still raised while the writer encoded the last batch: lowered only once the queue was empty")
	}
	if e.s.Backlog().Load() || e.s.Stats().Written != n {
		t.Fatalf("after the step: %+v", e.s.Stats())
	}
}

// Readiness follows a backlog only once it has lasted ReadyGrace (a
// load balancer must not eject the node for a burst of milliseconds),
// while admission follows the flag at once; lowered, the backlog is
// forgotten, and the next raise is timed from its own start.
func TestBacklogLastingReadyGrace(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 1024; o.HighWater = 10; o.ReadyGrace = time.Minute }) // raised at 102
	if d, ok := e.s.BacklogLasting(time.Now()); d != 0 || ok {
		t.Fatalf("idle stream: lasted %v, reported %v", d, ok)
	}
	raise := func() time.Time {
		t.Helper()
		before := time.Now()
		for i := uint64(1); i <= 102; i++ {
			e.final(i)
		}
		if !e.s.Backlog().Load() {
			t.Fatal("the flag (admission) is not raised at the mark")
		}
		return before
	}
	at := raise()
	if d, ok := e.s.BacklogLasting(at.Add(time.Second)); ok || d > time.Second {
		t.Fatalf("a second into the backlog: lasted %v, reported %v; want not reported before a minute", d, ok)
	}
	if d, ok := e.s.BacklogLasting(time.Now().Add(time.Minute)); !ok || d < time.Minute {
		t.Fatalf("a minute into the backlog: lasted %v, reported %v", d, ok)
	}
	e.step()
	e.s.lowerBacklog()
	if d, ok := e.s.BacklogLasting(time.Now().Add(time.Hour)); d != 0 || ok {
		t.Fatalf("lowered: lasted %v, reported %v", d, ok)
	}
	at = raise()
	if d, ok := e.s.BacklogLasting(at.Add(time.Second)); ok || d > time.Second {
		t.Fatalf("raised again: lasted %v, reported %v (timed from the first raise?)", d, ok)
	}

	at0 := newEnv(t, func(o *Options) { o.QueueSize = 1024; o.HighWater = 10 })
	for i := uint64(1); i <= 102; i++ {
		at0.final(i)
	}
	if _, ok := at0.s.BacklogLasting(time.Now()); !ok {
		t.Fatal("ReadyGrace 0: the backlog is not reported at once")
	}
	if _, err := Open(Options{Dir: t.TempDir(), Messages: e.store, ReadyGrace: -time.Second}); err == nil ||
		!strings.Contains(err.Error(), "ready_grace -1s is negative") {
		t.Fatalf("ReadyGrace -1s: %v", err)
	}
}
