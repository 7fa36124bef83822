package delivery

import (
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

// An item another node held (HeldElsewhere) is leased and sent at once
// while a receiver of its user is bound here, and left in the store when
// none is: bound elsewhere, the lease would only give it back.
func TestHeldElsewhereReleasesOnlyForBoundUsers(t *testing.T) {
	s, st, out := durableService(t, 16, nil)
	// An MO that found no receiver here stands for an item another node held.
	hold := func(text string) {
		t.Helper()
		out.setErr(engine.ErrNoSession)
		if err := s.MO(&msg.Inbound{Connector: "smsc", SystemID: "alice", Source: []byte("4917"), Dest: []byte("1"),
			ShortMessage: []byte(text)}); err != nil {
			t.Fatal(err)
		}
		out.setErr(nil)
	}
	hold("before any bind")
	s.HeldElsewhere("alice")
	s.Step(t0)
	if got := out.take(); len(got) != 0 || st.Holds().Len() != 1 {
		t.Fatalf("no receiver bound here: sent %d, held %d", len(got), st.Holds().Len())
	}

	s.Bound("alice", engine.BindTransmitter) // takes no deliveries
	s.HeldElsewhere("alice")
	s.Step(t0)
	if got := out.take(); len(got) != 0 {
		t.Fatalf("a transmitter bind released %d", len(got))
	}

	s.Bound("alice", engine.BindTransceiver)
	s.Step(t0) // the bind's own release
	for _, d := range out.take() {
		s.DeliveryDone(d, codec.StatusOK, nil)
	}
	out.setErr(engine.ErrNoSession) // bound here, but busy: the MO is held
	if err := s.MO(&msg.Inbound{Connector: "smsc", SystemID: "alice", Source: []byte("4917"), Dest: []byte("1"),
		ShortMessage: []byte("while bound")}); err != nil {
		t.Fatal(err)
	}
	out.setErr(nil)
	if st.Holds().Len() != 1 {
		t.Fatalf("held %d, want 1", st.Holds().Len())
	}
	s.HeldElsewhere("alice")
	s.Step(t0)
	got := out.take()
	if len(got) != 1 {
		t.Fatalf("held while bound: sent %d, want 1", len(got))
	}
	s.DeliveryDone(got[0], codec.StatusOK, nil)
	if st.Holds().Len() != 0 {
		t.Fatalf("delivered item still held (%d)", st.Holds().Len())
	}

	s.Unbound("alice", engine.BindTransceiver)
	hold("after the unbind")
	s.HeldElsewhere("alice")
	s.Step(t0)
	if got := out.take(); len(got) != 0 || st.Holds().Len() != 1 {
		t.Fatalf("unbound: sent %d, held %d", len(got), st.Holds().Len())
	}
}
