package flow

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// Find implements storage.Messages for the unit tests' memStore: a walk
// of its slots, newest first.
func (s *memStore) Find(q *storage.Query, dst []storage.Record) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var top storage.Newest
	top.Reset(len(dst))
	for i := range s.recs {
		r := &s.recs[i]
		if r.ID != 0 && q.Matches(r.ID, r.SystemID, r.Submitted, r.SourceAddr(), r.DestAddr()) {
			top.Offer(r.ID)
		}
	}
	n := 0
	for _, id := range top.Sorted() {
		dst[n] = *s.slot(id)
		n++
	}
	return n, nil
}

// finalsLog records what the hub and the delivery side report to the
// CDR stream.
type finalsLog struct {
	mu  sync.Mutex
	got []msg.Final
}

func (f *finalsLog) Final(x msg.Final) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x.UpstreamID = bytes.Clone(x.UpstreamID)
	f.got = append(f.got, x)
}

func (f *finalsLog) take() []msg.Final {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.got
	f.got = nil
	return out
}

// TestFinalsOncePerMessage: every way an accepted MT ends reports one
// final state, through the hub or the delivery side, and a state coming
// after the first reports nothing. The store is the real memory store,
// whose first final state wins.
func TestFinalsOncePerMessage(t *testing.T) {
	finals := &finalsLog{}
	store := memory.New(memory.Options{MaxRecords: 1024, TTL: 100 * 365 * 24 * time.Hour}) // the hub runs on a fake clock
	th := newHub(t, hubSpec{
		mod:  func(o *Options) { o.Messages, o.UpstreamIDs, o.Finals = store, store, finals },
		dmod: func(o *delivery.Options) { o.Finals = finals },
	})
	p := newUser(t, "alice", userSpec{receipts: true})
	claim := func(m *msg.Message) {
		t.Helper()
		if !m.Claim() {
			t.Fatal("claim")
		}
	}
	one := func(what string, want msg.Final) {
		t.Helper()
		got := finals.take()
		if len(got) != 1 || got[0].ID != want.ID || got[0].State != want.State || got[0].Err != want.Err ||
			got[0].Done != want.Done || string(got[0].UpstreamID) != string(want.UpstreamID) || got[0].Refunded != want.Refunded {
			t.Fatalf("%s: reported %+v, want exactly %+v", what, got, want)
		}
	}
	none := func(what string) {
		t.Helper()
		if got := finals.take(); len(got) != 0 {
			t.Fatalf("%s: reported %+v, want nothing", what, got)
		}
	}

	// A receipt records the final state.
	m, id := submitted(t, th, p, 1, "receipt")
	var rec storage.Record
	if err := store.Get(id, &rec); err != nil || rec.MTRoute != "all" {
		t.Fatalf("record: %v, MTRoute %q; want the matched route's name, all", err, rec.MTRoute)
	}
	claim(m)
	th.Accepted(m, []byte("up-1"))
	m.Release()
	none("accepted, receipt to come")
	done := th.clock.Now().Add(time.Minute).UnixNano()
	if err := th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered, Done: done, UpstreamID: []byte("up-1")}); err != nil {
		t.Fatal(err)
	}
	one("receipt", msg.Final{ID: id, State: msg.StateDelivered, Done: done, UpstreamID: []byte("up-1")})
	if err := th.Receipt(&msg.Receipt{ID: id, State: msg.StateUndeliverable, Done: done}); err != nil {
		t.Fatal(err)
	}
	none("a second receipt")

	// A state decided at acceptance with no receipt asked is final there.
	m, id = submitted(t, th, p, 0, "decided")
	claim(m)
	m.FinalState, m.FinalErr, m.FinalAt = msg.StateUndeliverable, 0x45, done
	th.Accepted(m, []byte("up-2"))
	m.Release()
	one("decided at acceptance", msg.Final{ID: id, State: msg.StateUndeliverable, Err: 0x45, Done: done, UpstreamID: []byte("up-2")})

	// Refused upstream: failed here, refunded.
	m, id = submitted(t, th, p, 0, "refused")
	claim(m)
	th.Failed(m, uint32(codec.StatusSubmitFail), msg.StateRejected)
	m.Release()
	one("failed", msg.Final{ID: id, State: msg.StateRejected, Err: errCodeOf(uint32(codec.StatusSubmitFail)),
		Done: th.clock.Now().UnixNano(), Refunded: true})

	// Cancelled while queued: the cancel is the final state; the
	// connector's later failure of it reports nothing.
	m, id = submitted(t, th, p, 0, "cancel me")
	wantStatus(t, cancel(th, p, id.String(), "", ""), codec.StatusOK)
	one("cancelled", msg.Final{ID: id, State: msg.StateDeleted, Done: th.clock.Now().UnixNano(), Refunded: true})
	if m.Claim() {
		t.Fatal("a cancelled message was claimed")
	}
	th.Failed(m, 0, msg.StateDeleted)
	m.Release()
	none("the connector's failure of a cancelled message")
}

// TestLogPrivacyMasksRefusedDestinations: with LogPrivacy the refusal's
// debug line shows the number masked.
func TestLogPrivacyMasksRefusedDestinations(t *testing.T) {
	var logs bytes.Buffer
	th := newHub(t, hubSpec{logWriter: &logs, mod: func(o *Options) {
		o.LogPrivacy = true
		o.Logger = o.Logger.Level(zerolog.DebugLevel)
	}})
	p := newUser(t, "alice", userSpec{})
	st, _ := th.submit(p, sm("ACME", "", "no destination"))
	if st == codec.StatusOK {
		t.Fatal("a submit without a destination was accepted")
	}
	st, _ = th.submit(p, &codec.SM{SourceAddr: []byte("ACME"), DestinationAddr: []byte("4917012345678"),
		ShortMessage: []byte("x"), ValidityPeriod: []byte("bad")})
	if st == codec.StatusOK {
		t.Fatal("a submit with a bad validity was accepted")
	}
	if strings.Contains(logs.String(), "4917012345678") || !strings.Contains(logs.String(), `"dest":"491*******678"`) {
		t.Fatalf("want the number masked in the refusal's line: %s", logs.String())
	}
}
