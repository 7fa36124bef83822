package flow

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// fakeCommitter is a store's Committer the test moves by hand.
type fakeCommitter struct {
	written, committed atomic.Uint64
	mu                 sync.Mutex
	fn                 func(uint64)
	waits              atomic.Int32
}

func (c *fakeCommitter) Written() uint64   { return c.written.Load() }
func (c *fakeCommitter) Committed() uint64 { return c.committed.Load() }
func (c *fakeCommitter) OnCommit(fn func(uint64)) {
	c.mu.Lock()
	c.fn = fn
	c.mu.Unlock()
}
func (c *fakeCommitter) WaitCommitted(pos uint64) error {
	c.waits.Add(1)
	for c.committed.Load() < pos {
		time.Sleep(time.Millisecond)
	}
	return nil
}

// commit makes everything up to pos durable and reports it as the store's
// goroutine does.
func (c *fakeCommitter) commit(pos uint64) {
	c.committed.Store(pos)
	c.mu.Lock()
	fn := c.fn
	c.mu.Unlock()
	fn(pos)
}

// answers records deferred answers (the engine's Respond).
type answers struct {
	mu  sync.Mutex
	ids []string
	st  []codec.Status
}

func (a *answers) Respond(_ engine.SubmitToken, st codec.Status, id []byte) error {
	a.mu.Lock()
	a.ids, a.st = append(a.ids, string(id)), append(a.st, st)
	a.mu.Unlock()
	return nil
}

func (a *answers) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

// durableHub is a hub on a store that is not durable until the test
// commits (sync = "always"), keeping message bodies.
func durableHub(t *testing.T, spec hubSpec) (*testHub, *fakeCommitter, *answers) {
	t.Helper()
	c, out := &fakeCommitter{}, &answers{}
	mod := spec.mod
	spec.mod = func(o *Options) {
		o.Committer, o.Durable = c, true
		if mod != nil {
			mod(o)
		}
	}
	th := newHub(t, spec)
	th.Attach(out)
	if err := th.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = th.Stop(t.Context()) })
	return th, c, out
}

// submitDeferred runs HandleSubmit and returns the result.
func submitDeferred(th *testHub, p principal, sm *codec.SM) *engine.SubmitResult {
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm, Principal: p.Bind}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, res)
	return res
}

// A submit whose record is not on disk yet is answered once the store
// commits it, in order, and not before; one whose writes are durable
// already is answered at once.
func TestSubmitAnsweredAfterCommit(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	c.written.Store(10) // the store has writes not yet committed
	var ids []string
	for i := range 3 {
		res := submitDeferred(th, p, sm("1", "491", "x"))
		if res.Status != codec.StatusOK || !res.Deferred {
			t.Fatalf("submit %d: status %v deferred %v", i, res.Status, res.Deferred)
		}
		ids = append(ids, string(res.MessageID))
	}
	c.commit(5) // not far enough
	if got := out.got(); len(got) != 0 {
		t.Fatalf("answered before the commit covered the records: %v", got)
	}
	if s := th.Stats(); s.Deferred != 3 || s.DeferredNow != 3 {
		t.Fatalf("stats %+v", s.hubStats)
	}
	c.commit(10)
	eventually(t, "answers", func() bool { return len(out.got()) == 3 })
	for i, id := range out.got() {
		if id != ids[i] {
			t.Fatalf("answers %v, want %v in order", out.got(), ids)
		}
	}
	// Everything committed: no wait.
	if res := submitDeferred(th, p, sm("1", "491", "x")); res.Status != codec.StatusOK || res.Deferred || len(res.MessageID) == 0 {
		t.Fatalf("durable at once: %+v", res)
	}
	if s := th.Stats(); s.DeferredNow != 0 {
		t.Fatalf("%d answers still waiting", s.DeferredNow)
	}
}

// Past MaxDeferred waiting answers a submit is refused before it takes
// anything; a refused or waiting submit gives its reservation back.
func TestDeferredAnswersBounded(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{mod: func(o *Options) { o.MaxDeferred = 2 }})
	p := newUser(t, "alice", userSpec{})
	c.written.Store(1)
	// A refusal for another reason keeps no slot.
	if res := submitDeferred(th, p, sm("1", "", "x")); res.Status != codec.StatusInvDstAdr {
		t.Fatalf("empty destination: %v", res.Status)
	}
	for range 2 {
		if res := submitDeferred(th, p, sm("1", "491", "x")); !res.Deferred {
			t.Fatalf("not deferred: %+v", res)
		}
	}
	res := submitDeferred(th, p, sm("1", "491", "x"))
	if res.Status != codec.StatusMsgQFul || res.Deferred {
		t.Fatalf("third waiting answer: %+v", res)
	}
	// The messages wait with their answers (handoff.go).
	if s := th.Stats(); s.DeferredFull != 1 || s.RefusedBy(RefuseStorage) != 1 || th.conns[0].queued() != 0 {
		t.Fatalf("stats %+v, queued %d", s.hubStats, th.conns[0].queued())
	}
	c.commit(1)
	eventually(t, "answers", func() bool { return len(out.got()) == 2 })
	eventually(t, "messages handed over", func() bool { return th.conns[0].queued() == 2 })
	c.written.Store(2)
	if res := submitDeferred(th, p, sm("1", "491", "x")); !res.Deferred {
		t.Fatalf("room again: %+v", res)
	}
}

// A message its connector still held when it stopped stays pending in a
// durable store: not failed, not refunded, no receipt.
func TestStopKeepsMessagesPending(t *testing.T) {
	th, _, _ := durableHub(t, hubSpec{routes: paidRoute(1)})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	credit := p.User().Limits.Credit()
	m, id := submitted(t, th, p, 1, "x")
	before := credit.Balance().Micros()
	th.Failed(m, connector.StatusShutdown, msg.StateUnknown)
	m.Release()
	if rec := th.store.record(t, id); rec.State != msg.StateEnroute || rec.Done != 0 {
		t.Fatalf("record %+v: failed at a stop", rec)
	}
	if credit.Balance().Micros() != before {
		t.Fatal("refunded at a stop")
	}
	if got := th.out.take(); len(got) != 0 {
		t.Fatalf("receipt sent at a stop: %d", len(got))
	}
	if s := th.Stats(); s.KeptAtStop != 1 || s.Refunds != 0 {
		t.Fatalf("stats %+v", s.hubStats)
	}
	// Without Durable the same report fails the message (the memory store).
	mem := newHub(t, hubSpec{})
	q := newUser(t, "bob", userSpec{})
	m2, id2 := submitted(t, mem, q, 0, "y")
	mem.Failed(m2, connector.StatusShutdown, msg.StateUnknown)
	m2.Release()
	if rec := mem.store.record(t, id2); rec.State != msg.StateUnknown {
		t.Fatalf("memory store: record %+v", rec)
	}
}

// A message scheduled far ahead waits in the hub, not in its connector's
// bounded queue; it goes there when due. The hub holds a bounded number.
func TestFarFutureScheduleWaitsInHub(t *testing.T) {
	th, _, _ := durableHub(t, hubSpec{mod: func(o *Options) {
		o.ScheduleHorizon, o.MaxScheduled = time.Minute, 1
	}})
	p := newUser(t, "alice", userSpec{})
	r := sm("1", "491", "later")
	r.ScheduleDeliveryTime = []byte("000000020000000R") // in two hours
	st, id := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	if th.conns[0].queued() != 0 || th.later.len() != 1 {
		t.Fatalf("queued %d, held %d", th.conns[0].queued(), th.later.len())
	}
	if rec := th.store.record(t, mustID(t, id)); rec.Connector != 0 || len(th.store.body[uint64(mustID(t, id))%4096]) == 0 {
		t.Fatalf("record %+v or body not stored", rec)
	}
	st, _ = th.submit(p, r) // over MaxScheduled
	wantStatus(t, st, codec.StatusMsgQFul)
	near := sm("1", "491", "soon")
	near.ScheduleDeliveryTime = []byte("000000000030000R") // within the horizon: queued
	st, _ = th.submit(p, near)
	wantStatus(t, st, codec.StatusOK)
	if th.conns[0].queued() != 1 {
		t.Fatalf("near schedule not queued: %d", th.conns[0].queued())
	}
	th.later.step(th.clock.Now().Add(time.Hour).UnixNano())
	if th.conns[0].queued() != 1 || th.later.len() != 1 {
		t.Fatal("handed over before its time")
	}
	th.later.step(th.clock.Now().Add(2 * time.Hour).UnixNano())
	if th.conns[0].queued() != 2 || th.later.len() != 0 {
		t.Fatalf("due: queued %d held %d", th.conns[0].queued(), th.later.len())
	}
	if s := th.Stats(); s.Scheduled != 1 || s.QueueFull != 1 {
		t.Fatalf("stats %+v", s.hubStats)
	}
}

// recoverer hands records and bodies back as a durable store's Recover.
type recoverer struct {
	recs   []storage.Record
	bodies [][]byte
}

func (r *recoverer) Recover(fn func(*storage.Record, []byte) error) error {
	for i := range r.recs {
		if err := fn(&r.recs[i], r.bodies[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *recoverer) add(rec storage.Record, m *msg.Message) {
	var body []byte
	if m != nil {
		body, _ = m.AppendBinary(nil)
	}
	r.recs, r.bodies = append(r.recs, rec), append(r.bodies, body)
}

// Recover sends every stored message whose fate upstream is unknown to
// its connector again, with its id, by the connector's name; a message
// whose connector is gone is routed again, one past its validity fails
// EXPIRED; the receipt of an outcome decided at acceptance goes at its
// time (a possible duplicate when due already); one an upstream accepted
// waits for its receipt.
func TestRecoverRedrives(t *testing.T) {
	th, _, _ := durableHub(t, hubSpec{conns: 2, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "all", Kind: "static", Connectors: []string{"a"}}},
	}})
	p := newUser(t, "alice", userSpec{receipts: true})
	now := th.clock.Now().UnixNano()
	msgOf := func(id msg.ID, route string, expires int64) (storage.Record, *msg.Message) {
		m := msg.NewMessage()
		t.Cleanup(m.Release)
		m.ID, m.SystemID, m.Route, m.Command, m.Received, m.Expires = id, p.SystemID(), route, uint32(codec.SubmitSMID), now, expires
		m.Source, m.Dest, m.ShortMessage, m.RegisteredDelivery = []byte("1"), []byte("491"), []byte("again"), 1
		rec := storage.Record{ID: id, SystemID: p.SystemID(), State: msg.StateEnroute, Submitted: now, RegisteredDelivery: 1}
		return rec, m
	}
	var rc recoverer
	r1, m1 := msgOf(101, "b", now+int64(time.Hour)) // by name: b, though the route says a
	rc.add(r1, m1)
	r2, m2 := msgOf(102, "gone", now+int64(time.Hour)) // re-routed: a
	rc.add(r2, m2)
	r3, m3 := msgOf(103, "a", now-1) // validity over
	rc.add(r3, m3)
	r4, _ := msgOf(104, "a", 0) // accepted upstream: waits
	rc.add(r4, nil)
	r5, _ := msgOf(105, "a", 0) // the simulator decided DELIVERED at acceptance
	r5.State, r5.Done = msg.StateDelivered, now
	rc.add(r5, nil)
	for i := range rc.recs {
		if err := th.store.Put(&rc.recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.Recover(&rc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "re-driven", func() bool { return th.conns[0].queued() == 1 && th.conns[1].queued() == 1 })
	if m := th.conns[1].pop(t); m.ID != 101 || string(m.ShortMessage) != "again" || m.Route != "b" {
		t.Fatalf("connector b got %+v", m)
	}
	if m := th.conns[0].pop(t); m.ID != 102 || m.Route != "a" {
		t.Fatalf("connector a got %+v", m)
	}
	if rec := th.store.record(t, 102); rec.Connector != 0 {
		t.Fatalf("re-routed record names connector %d", rec.Connector)
	}
	if rec := th.store.record(t, 103); rec.State != msg.StateExpired {
		t.Fatalf("expired message: %+v", rec)
	}
	eventually(t, "decided receipt", func() bool { return th.store.record(t, 105).State == msg.StateDelivered })
	s := th.Stats()
	// Possible duplicates: 101 and 102, and 105's receipt, due already.
	if s.Redriven != 2 || s.RedrivenDup != 3 || s.RedriveWaiting != 1 {
		t.Fatalf("stats %+v", s.hubStats)
	}
}

// Sync waits for the store's commit of what the sink kept; without a
// committer it returns at once.
func TestSyncWaitsForCommit(t *testing.T) {
	th, c, _ := durableHub(t, hubSpec{})
	c.written.Store(7)
	done := make(chan error, 1)
	go func() { done <- th.Sync() }()
	select {
	case <-done:
		t.Fatal("Sync returned before the commit")
	case <-time.After(20 * time.Millisecond):
	}
	c.commit(7)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := newHub(t, hubSpec{}).Sync(); err != nil {
		t.Fatal(err)
	}
}

// The record carries what the submit charged, money and quota parts, so
// the store's ledger counts each charge once, with the message.
func TestRecordCarriesTheCharge(t *testing.T) {
	th := newHub(t, hubSpec{routes: paidRoute(2)})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000), Quota: 10}})
	r := sm("1", "491", "x")
	st, id := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	if rec := th.store.record(t, mustID(t, id)); rec.Charge != 2_000_000 || rec.ChargeParts != 1 || rec.Expires == 0 {
		t.Fatalf("record charge %d parts %d expires %d", rec.Charge, rec.ChargeParts, rec.Expires)
	}
}

// A state write of an accepted message the store refuses (a full device)
// waits in memory and is written by Sweep once the store takes it: an
// acceptance with its decided outcome, and a failure decided here.
func TestUnkeptStatesWrittenLater(t *testing.T) {
	for _, accepted := range []bool{true, false} {
		th, _, _ := durableHub(t, hubSpec{})
		p := newUser(t, "alice", userSpec{})
		m, id := submitted(t, th, p, 0, "x")
		full := errors.New("disk full")
		th.store.setFail(full)
		want, code := msg.StateRejected, uint16(0x45)
		if accepted {
			want, code = msg.StateDelivered, 0
			m.FinalState, m.FinalAt = want, th.clock.Now().UnixNano()
			th.Accepted(m, []byte("up-1"))
		} else {
			th.Failed(m, uint32(code), want)
		}
		m.Release()
		th.Sweep(th.clock.Now().UnixNano()) // still failing: it stays
		if s := th.Hub.Stats(); s.UnkeptNow != 1 || s.UnkeptKept != 0 {
			t.Fatalf("accepted %v: stats %+v on a failing store", accepted, s)
		}
		th.store.setFail(nil)
		th.Sweep(th.clock.Now().UnixNano())
		if r := th.store.record(t, id); r.State != want || r.Err != code {
			t.Fatalf("accepted %v: record %v %#x", accepted, r.State, r.Err)
		}
		if s := th.Hub.Stats(); s.UnkeptNow != 0 || s.UnkeptKept != 1 || s.UnkeptLost != 0 {
			t.Fatalf("accepted %v: stats %+v", accepted, s)
		}
	}
}

// Each destination of a submit_multi is held until its connector settles
// it: after a restart (a new hub on the same store) every destination not
// accepted or failed goes again with the message's id, and only those.
func TestMultiDestinationsRedriven(t *testing.T) {
	holds := newHolds(0)
	withHolds := func(o *Options) { o.Holds = holds }
	th, _, _ := durableHub(t, hubSpec{mod: withHolds})
	p := newUser(t, "alice", userSpec{})
	multi := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("to all")}
	for _, d := range []string{"491", "492", "493"} {
		multi.Dests.AddSME(1, 1, []byte(d))
	}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65), Unsuccess: new(codec.UnsuccessList)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SubmitMulti: multi, Principal: p.Bind}, res)
	wantStatus(t, res.Status, codec.StatusOK)
	id := mustID(t, string(res.MessageID))
	if holds.Len() != 3 {
		t.Fatalf("held %d destinations, want 3", holds.Len())
	}
	m1, m2, m3 := th.conns[0].pop(t), th.conns[0].pop(t), th.conns[0].pop(t)
	th.Accepted(m1, []byte("up-1"))
	m1.Release()
	th.Failed(m2, 0x45, msg.StateRejected)
	m2.Release()
	th.Failed(m3, connector.StatusShutdown, msg.StateUnknown) // its connector stopped: kept for the next start
	m3.Release()
	if holds.Len() != 1 {
		t.Fatalf("held %d after one accepted, one failed, one kept: want 1", holds.Len())
	}
	if rec := th.store.record(t, id); th.store.body[uint64(id)%uint64(len(th.store.recs))] != nil || rec.ID != id {
		t.Fatalf("the record keeps a body: the held copies do")
	}

	next, _, _ := durableHub(t, hubSpec{mod: withHolds})
	if err := next.Recover(&recoverer{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "re-driven", func() bool { return next.conns[0].queued() == 1 })
	m := next.conns[0].pop(t)
	if m.ID != id || string(m.Dest) != "493" || string(m.ShortMessage) != "to all" {
		t.Fatalf("re-driven %v to %q", m.ID, m.Dest)
	}
	if s := next.Hub.Stats(); s.Redriven != 1 {
		t.Fatalf("redriven %d", s.Redriven)
	}
	next.Accepted(m, []byte("up-3"))
	m.Release()
	if holds.Len() != 0 {
		t.Fatalf("held %d once every destination was accepted", holds.Len())
	}
}
