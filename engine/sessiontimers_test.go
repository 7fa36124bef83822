package engine

import (
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

func TestSessionInitTimerClosesUnboundSession(t *testing.T) {
	t.Parallel()
	// The timeout is what the clients below have to bind in, or to have
	// their enquire_link answered: a client starved of CPU for a shorter
	// one found its session closed first.
	ts := start(t, func(o *Options) { o.SessionInitTimeout = time.Second })
	// A bound session is not touched by it: b is dialled before c, so its
	// own timeout has passed once c's has closed c.
	b := ts.bound(t, codec.BindTransceiverID)
	c := ts.dial(t)
	mustSend(t, c, codec.EnquireLinkID, 1, nil) // enquire_link does not bind
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK)
	mustClosed(t, c)
	ts.logs.waitLog(t, `"timer":"session_init"`, `"remote":"127.0.0.1:`)
	ts.logs.waitLog(t, `"reason":"session_init_timeout"`)
	mustSend(t, b, codec.EnquireLinkID, 2, nil)
	mustExpect(t, b, codec.EnquireLinkRespID, codec.StatusOK)
}

func TestEnquireLinkTimerSendsEnquireLink(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.EnquireLinkInterval = 200 * time.Millisecond })
	c := ts.bound(t, codec.BindTransceiverID)
	for i := 0; i < 2; i++ {
		h, _ := mustExpect(t, c, codec.EnquireLinkID, codec.StatusOK)
		mustSend(t, c, codec.EnquireLinkRespID, h.Sequence, nil)
	}
	ts.logs.waitLog(t, `"timer":"enquire_link"`, `"system_id":"user"`)
	mustSend(t, c, codec.SubmitSMID, 5, []byte("x\x00"))
	if _, _, err := c.ReadFrame(wait); err != nil {
		t.Fatalf("session should be alive: %v", err)
	}
}

func TestUnansweredEnquireLinkUnbindsAndCloses(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.EnquireLinkInterval = 150 * time.Millisecond
		o.ResponseTimeout = 200 * time.Millisecond
	})
	c := ts.bound(t, codec.BindTransceiverID)
	mustExpect(t, c, codec.EnquireLinkID, codec.StatusOK) // not answered
	mustExpect(t, c, codec.UnbindID, codec.StatusOK)
	mustClosed(t, c)
	ts.logs.waitLog(t, `"timer":"response_enquire_link"`, `"system_id":"user"`)
	ts.logs.waitLog(t, `"reason":"enquire_link_timeout"`)
	if ts.Stats().ResponseTimeouts < 1 {
		t.Fatal("response timeout not counted")
	}
}

func TestInactivityTimerUnbindsThenCloses(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.InactivityTimeout = 300 * time.Millisecond
		o.EnquireLinkInterval = 100 * time.Millisecond
	})
	c := ts.bound(t, codec.BindTransceiverID)
	// Only enquire_link traffic: it keeps the link up but is not activity.
	for {
		h, _, err := c.ReadFrame(wait)
		if err != nil {
			t.Fatal(err)
		}
		if h.CommandID == codec.EnquireLinkID {
			mustSend(t, c, codec.EnquireLinkRespID, h.Sequence, nil)
			continue
		}
		if h.CommandID != codec.UnbindID {
			t.Fatalf("got %v", h.CommandID)
		}
		mustSend(t, c, codec.UnbindRespID, h.Sequence, nil)
		break
	}
	mustClosed(t, c)
	ts.logs.waitLog(t, `"timer":"inactivity"`, `"system_id":"user"`)
	ts.logs.waitLog(t, `"reason":"inactivity_timeout"`)
}

func TestUnbindWithoutResponseClosesAfterResponseTimer(t *testing.T) {
	t.Parallel()
	// The response timeout is how long the client has, from the server's
	// unbind, to have its submit read: a client starved of CPU for 150 ms
	// found the session closed (reset) before it.
	ts := start(t, func(o *Options) {
		o.InactivityTimeout = 150 * time.Millisecond
		o.ResponseTimeout = time.Second
	})
	c := ts.bound(t, codec.BindTransceiverID)
	mustExpect(t, c, codec.UnbindID, codec.StatusOK)
	// A submit after our unbind is refused: we are unbinding.
	mustSend(t, c, codec.SubmitSMID, 3, []byte("x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusInvBndSts)
	mustClosed(t, c)
	ts.logs.waitLog(t, `"timer":"response_unbind"`)
}

func TestPDUReadTimerClosesOnPartialPDU(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.PDUReadTimeout = 200 * time.Millisecond })
	c := ts.bound(t, codec.BindTransceiverID)
	if err := c.Write([]byte{0, 0, 0, 40, 0, 0, 0, 4, 0, 0}); err != nil { // 10 of 40 octets
		t.Fatal(err)
	}
	mustClosed(t, c)
	ts.logs.waitLog(t, `"timer":"pdu_read"`, `"system_id":"user"`)
	ts.logs.waitLog(t, `"reason":"pdu_read_timeout"`)
}
