package flow

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// fakeShared is a shared queue in memory: what was spilled, and whether
// another node has the connector up.
type fakeShared struct {
	mu    sync.Mutex
	items [][]byte
	up    bool
	full  bool
}

func (f *fakeShared) Spill(c int, item []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full {
		return false
	}
	f.items = append(f.items, append([]byte(nil), item...))
	return true
}

func (f *fakeShared) UpElsewhere(int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.up
}

// sendableMem is the test store with the cluster store's check: a record
// is sendable until it is final or marked sent.
type sendableMem struct {
	*memStore
	mu   sync.Mutex
	sent map[msg.ID]bool
}

func (s *sendableMem) Sendable(id msg.ID) (found, sendable bool) {
	var r storage.Record
	if s.Get(id, &r) != nil {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return true, !r.State.Final() && !s.sent[id]
}

// token is a PullToken that records how it was settled.
type token struct {
	mu    sync.Mutex
	dones []bool
}

func (k *token) Done(redo bool) {
	k.mu.Lock()
	k.dones = append(k.dones, redo)
	k.mu.Unlock()
}

func (k *token) settled() []bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]bool(nil), k.dones...)
}

func sharedHub(t *testing.T) (*testHub, *fakeShared, *sendableMem) {
	t.Helper()
	fs := &fakeShared{}
	var st *sendableMem
	th := newHub(t, hubSpec{mod: func(o *Options) {
		st = &sendableMem{memStore: o.Messages.(*memStore), sent: map[msg.ID]bool{}}
		o.Messages, o.Shared, o.Durable = st, fs, true
	}})
	return th, fs, st
}

// queued makes an accepted message for connector 0 as the hub holds it.
func queued(th *testHub, id msg.ID) *msg.Message {
	m := msg.NewMessage()
	m.ID, m.SystemID, m.Connector, m.Route = id, "alice", 0, "a"
	m.Dest = append(m.Dest[:0], "4915"...)
	th.live.add(m)
	return m
}

// A node spills only while its connector cannot take a message and
// another node has it up; the spilled message leaves this node (live
// index) with its id and body on the shared queue.
func TestSpillDecision(t *testing.T) {
	th, fs, _ := sharedHub(t)
	th.checkSpill()
	if th.Spilling(0) {
		t.Fatal("spilling with the connector up")
	}
	th.conns[0].down = true
	th.checkSpill()
	if th.Spilling(0) {
		t.Fatal("spilling with no other node up")
	}
	fs.up = true
	th.checkSpill()
	if !th.Spilling(0) || th.CanPull(0) {
		t.Fatalf("down here, up elsewhere: spilling %v, pulling %v", th.Spilling(0), th.CanPull(0))
	}
	if !th.up.Up(0) {
		t.Fatal("a spilling connector is down for routing")
	}
	m := queued(th, 77)
	th.handAll([]*msg.Message{m}, false)
	if len(fs.items) != 1 || len(th.conns[0].q) != 0 {
		t.Fatalf("spilled %d, queued here %d", len(fs.items), len(th.conns[0].q))
	}
	if id, ok := SpilledID(fs.items[0]); !ok || id != 77 {
		t.Fatalf("item's id %v %v", id, ok)
	}
	if th.live.with(77, func(*msg.Message) {}) {
		t.Fatal("a spilled message stays in the live index")
	}
	back := msg.NewMessage()
	defer back.Release()
	if err := back.UnmarshalBinary(fs.items[0][8:]); err != nil || back.ID != 77 || string(back.Dest) != "4915" {
		t.Fatalf("item body: %v, id %v, dest %q", err, back.ID, back.Dest)
	}
	// Its connector stops (a halt) holding one: spilled, not kept for the
	// next start; the connector still owns (and releases) the message.
	m = queued(th, 79)
	th.Failed(m, connector.StatusShutdown, msg.StateUnknown)
	if len(fs.items) != 2 || th.Stats().KeptAtStop != 0 || m.ID != 79 {
		t.Fatalf("stopped: spilled %d, kept %d", len(fs.items), th.Stats().KeptAtStop)
	}
	m.Release()
	// A message cancel_sm reached stays here: its connector reports it
	// DELETED.
	m = queued(th, 80)
	if !th.live.cancel(80) {
		t.Fatal("cancel")
	}
	th.handAll([]*msg.Message{m}, false)
	if len(fs.items) != 2 || len(th.conns[0].q) != 1 {
		t.Fatalf("a cancelled message: spilled %d, queued %d", len(fs.items)-2, len(th.conns[0].q))
	}
	th.conns[0].q = nil
	// The queue refusing (its bound): the message stays here.
	fs.full = true
	m = queued(th, 78)
	th.handAll([]*msg.Message{m}, false)
	if len(th.conns[0].q) != 1 {
		t.Fatal("a message the queue refused is not kept here")
	}
	if s := th.SharedStats(); s.Spilled != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// A pulled message is sent through this node's connector and its token
// settled when the connector reports it; one done already is skipped; a
// connector that stops holding one gives it back.
func TestPulledSettles(t *testing.T) {
	th, fs, st := sharedHub(t)
	fs.up = true
	item := func(id msg.ID) []byte {
		m := msg.NewMessage()
		m.ID, m.SystemID, m.Route = id, "alice", "a"
		b, _ := m.AppendBinary(nil)
		m.Release()
		return append(binary.BigEndian.AppendUint64(nil, uint64(id)), b...)
	}
	put := func(id msg.ID) {
		if err := st.Put(&storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute}); err != nil {
			t.Fatal(err)
		}
	}
	put(5)
	k := &token{}
	th.Pulled(0, item(5), k, false)
	if len(th.conns[0].q) != 1 || len(k.settled()) != 0 {
		t.Fatalf("queued %d, settled %v", len(th.conns[0].q), k.settled())
	}
	// The same message again (a duplicate batch) while it is queued here.
	k2 := &token{}
	th.Pulled(0, item(5), k2, true)
	if got := k2.settled(); len(got) != 1 || got[0] {
		t.Fatalf("a message queued here pulled again: %v", got)
	}
	m := th.conns[0].q[0]
	th.conns[0].q = nil
	th.Accepted(m, []byte("up-5"))
	if got := k.settled(); len(got) != 1 || got[0] {
		t.Fatalf("accepted: settled %v, want one Done(false)", got)
	}
	// Done already (accepted elsewhere): skipped.
	put(6)
	st.sent[6] = true
	k3 := &token{}
	th.Pulled(0, item(6), k3, true)
	if got := k3.settled(); len(got) != 1 || got[0] || len(th.conns[0].q) != 0 {
		t.Fatalf("a sent message pulled: %v, queued %d", got, len(th.conns[0].q))
	}
	// The connector stops with it: given back, not spilled again.
	put(7)
	k4 := &token{}
	th.Pulled(0, item(7), k4, true)
	m = th.conns[0].q[0]
	th.conns[0].q = nil
	th.conns[0].down = true
	th.checkSpill()
	before := len(fs.items)
	th.Failed(m, connector.StatusShutdown, msg.StateUnknown)
	if got := k4.settled(); len(got) != 1 || !got[0] || len(fs.items) != before {
		t.Fatalf("stopped: settled %v, spilled %d", got, len(fs.items)-before)
	}
	if s := th.SharedStats(); s.Pulled != 2 || s.Skipped != 2 || s.PossibleDuplicates != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A pulled message whose record this node has not applied yet waits for
// it (the journal's lag); one that never comes gives its batch back after
// 2 s, and the next ones of that moment go back at once.
func TestPulledWaitsForItsRecord(t *testing.T) {
	th, fs, st := sharedHub(t)
	fs.up = true
	item := func(id msg.ID) []byte {
		m := msg.NewMessage()
		m.ID, m.SystemID, m.Route = id, "alice", "a"
		b, _ := m.AppendBinary(nil)
		m.Release()
		return append(binary.BigEndian.AppendUint64(nil, uint64(id)), b...)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = st.Put(&storage.Record{ID: 9, SystemID: "alice", State: msg.StateEnroute})
	}()
	k := &token{}
	th.Pulled(0, item(9), k, false)
	if len(th.conns[0].q) != 1 || len(k.settled()) != 0 {
		t.Fatalf("a record applied late: queued %d, settled %v", len(th.conns[0].q), k.settled())
	}
	t0 := time.Now()
	k2 := &token{}
	th.Pulled(0, item(10), k2, false)
	if got := k2.settled(); len(got) != 1 || !got[0] || time.Since(t0) < 2*time.Second {
		t.Fatalf("no record: settled %v after %v, want given back after 2 s", got, time.Since(t0))
	}
	t1 := time.Now()
	k3 := &token{}
	th.Pulled(0, item(11), k3, false)
	if got := k3.settled(); len(got) != 1 || !got[0] || time.Since(t1) > time.Second {
		t.Fatalf("the next one: settled %v after %v, want given back at once", got, time.Since(t1))
	}
	if s := th.SharedStats(); s.NotYetApplied != 2 || s.Pulled != 1 {
		t.Fatalf("stats %+v", s)
	}
}
