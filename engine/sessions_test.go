package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

func sessionsOf(t *testing.T, ts *testServer) map[string]SessionInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	list, err := ts.Sessions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]SessionInfo{}
	for _, s := range list {
		m[s.State] = s
	}
	return m
}

func TestSessionsDescribeAndCount(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	tx := ts.bound(t, codec.BindTransmitterID)
	rx := ts.bound(t, codec.BindReceiverID)
	open := ts.dial(t)
	mustSend(t, open, codec.EnquireLinkID, 1, nil)
	mustExpect(t, open, codec.EnquireLinkRespID, codec.StatusOK)
	mustSend(t, tx, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, tx, codec.SubmitSMRespID, codec.StatusOK)
	d := &Delivery{Body: smpptest.DeliverBody("2", "1", "mo")}
	if err := ts.Deliver("user", d); err != nil {
		t.Fatal(err)
	}
	h, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)

	got := sessionsOf(t, ts)
	if len(got) != 3 {
		t.Fatalf("sessions by state: %+v", got)
	}
	s := got["bound_tx"]
	if s.SystemID != "user" || s.BindType != BindTransmitter || s.PDUsIn != 2 || s.PDUsOut != 2 || s.Submits != 1 ||
		s.Since.IsZero() || s.BoundAt.Before(s.Since) || !s.Remote.Addr().IsLoopback() || s.ID == 0 {
		t.Errorf("transmitter: %+v", s)
	}
	r := got["bound_rx"]
	if r.BindType != BindReceiver || r.Delivers != 1 || r.DeliverWindow != 1 || r.PDUsOut != 2 || r.PDUsIn != 1 {
		t.Errorf("receiver before deliver_sm_resp: %+v", r)
	}
	o := got["open"]
	if o.SystemID != "" || o.BindType != 0 || !o.BoundAt.IsZero() || o.PDUsIn != 1 || o.PDUsOut != 1 {
		t.Errorf("open session: %+v", o)
	}
	if s.ID == r.ID || r.ID == o.ID {
		t.Errorf("ids not unique: %d %d %d", s.ID, r.ID, o.ID)
	}

	mustSend(t, rx, codec.DeliverSMRespID, h.Sequence, []byte{0})
	eventually(t, "deliver window freed", func() bool { return sessionsOf(t, ts)["bound_rx"].DeliverWindow == 0 })
}

func TestKick(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	open := ts.dial(t)
	mustSend(t, open, codec.EnquireLinkID, 1, nil)
	mustExpect(t, open, codec.EnquireLinkRespID, codec.StatusOK)
	got := sessionsOf(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	// A bound session is unbound cleanly and closes on unbind_resp.
	if err := ts.Kick(ctx, got["bound_trx"].ID); err != nil {
		t.Fatal(err)
	}
	h, _ := mustExpect(t, c, codec.UnbindID, codec.StatusOK)
	if st := sessionsOf(t, ts)["unbinding"]; st.ID != got["bound_trx"].ID {
		t.Errorf("kicked session not unbinding: %+v", sessionsOf(t, ts))
	}
	mustSend(t, c, codec.UnbindRespID, h.Sequence, nil)
	mustClosed(t, c)

	// An unbound one is closed at once.
	if err := ts.Kick(ctx, got["open"].ID); err != nil {
		t.Fatal(err)
	}
	mustClosed(t, open)
	ts.logs.waitLog(t, `"reason":"kicked"`, `"system_id":"user"`)

	if err := ts.Kick(ctx, got["open"].ID); !errors.Is(err, ErrUnknownSession) {
		t.Fatalf("kick of a closed session: %v", err)
	}
	eventually(t, "no sessions left", func() bool { return len(sessionsOf(t, ts)) == 0 })

	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Sessions(ctx, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Sessions after Shutdown: %v", err)
	}
	if err := ts.Kick(ctx, 1); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Kick after Shutdown: %v", err)
	}
}
