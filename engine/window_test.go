package engine

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/internal/smpptest"
)

// sink records delivery outcomes.
type sink struct {
	mu   sync.Mutex
	done map[uint64]outcome
}

type outcome struct {
	st  codec.Status
	err error
}

func (k *sink) DeliveryDone(d *Delivery, st codec.Status, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.done == nil {
		k.done = map[uint64]outcome{}
	}
	k.done[d.Ref] = outcome{st, err}
}

func (k *sink) get(ref uint64) (outcome, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	o, ok := k.done[ref]
	return o, ok
}

func TestDeliverAndResponse(t *testing.T) {
	t.Parallel()
	k := &sink{}
	ts := start(t, func(o *Options) { o.Deliveries = k })
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "x"), Ref: 1}); !errors.Is(err, ErrNoSession) {
		t.Fatalf("no receiver bound: %v", err)
	}
	tx := ts.bound(t, codec.BindTransmitterID) // a transmitter is never sent deliver_sm
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "x"), Ref: 1}); !errors.Is(err, ErrNoSession) {
		t.Fatalf("transmitter only: %v", err)
	}
	_ = tx
	rx := ts.bound(t, codec.BindReceiverID)
	body := smpptest.DeliverBody("111", "222", "mo text")
	if err := ts.Deliver("user", &Delivery{Body: body, Ref: 7}); err != nil {
		t.Fatal(err)
	}
	h, f := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	var sm codec.SM
	if err := sm.Decode(f[codec.HeaderLen:]); err != nil || string(sm.ShortMessage) != "mo text" {
		t.Fatalf("deliver_sm body %q %v", sm.ShortMessage, err)
	}
	mustSend(t, rx, codec.DeliverSMRespID, h.Sequence, []byte{0})
	eventually(t, "delivery outcome", func() bool { o, ok := k.get(7); return ok && o.err == nil && o.st == codec.StatusOK })
	// An ESME error status is reported as it is.
	if err := ts.Deliver("user", &Delivery{Body: body, Ref: 8}); err != nil {
		t.Fatal(err)
	}
	h, _ = mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	if err := rx.Send(codec.DeliverSMRespID, codec.StatusXTAppn, h.Sequence, []byte{0}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "error outcome", func() bool { o, ok := k.get(8); return ok && o.st == codec.StatusXTAppn })
}

func TestDeliverRetriedAfterResponseTimeout(t *testing.T) {
	t.Parallel()
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.Deliveries = k
		o.ResponseTimeout = 150 * time.Millisecond
		o.DeliverAttempts = 2
	})
	rx := ts.bound(t, codec.BindTransceiverID)
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "r"), Ref: 3}); err != nil {
		t.Fatal(err)
	}
	h1, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	h2, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK) // the retry
	if h1.Sequence == h2.Sequence {
		t.Fatal("retry reused the sequence number")
	}
	eventually(t, "expired outcome", func() bool { o, ok := k.get(3); return ok && errors.Is(o.err, ErrDeliveryExpired) })
	st := ts.Stats()
	if st.DeliverRetries != 1 || st.ResponseTimeouts != 2 {
		t.Fatalf("retries %d timeouts %d", st.DeliverRetries, st.ResponseTimeouts)
	}
	ts.logs.waitLog(t, `"event":"response_timeout"`, `"system_id":"user"`)
	// A late response to the first attempt is ignored; the session lives.
	mustSend(t, rx, codec.DeliverSMRespID, h1.Sequence, []byte{0})
	mustSend(t, rx, codec.EnquireLinkID, 50, nil)
	mustExpect(t, rx, codec.EnquireLinkRespID, codec.StatusOK)
}

func TestDeliverWindowLimitsOutstanding(t *testing.T) {
	t.Parallel()
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.Deliveries = k
		o.DeliverWindow = 2
		o.DeliverQueue = 2
	})
	rx := ts.bound(t, codec.BindReceiverID)
	var errs []error
	for i := 0; i < 5; i++ {
		errs = append(errs, ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "w"), Ref: uint64(10 + i)}))
	}
	for i, err := range errs[:4] {
		if err != nil {
			t.Fatalf("deliver %d: %v", i, err)
		}
	}
	// Window 2 + queue 2: the fifth is refused at once with ErrQueueFull,
	// and the caller keeps it (no outcome is reported).
	if !errors.Is(errs[4], ErrQueueFull) {
		t.Fatalf("fifth deliver: %v, want ErrQueueFull", errs[4])
	}
	a, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	b, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	// Nothing more until a slot frees: an enquire_link round trip proves the
	// server has flushed everything it was going to send.
	mustSend(t, rx, codec.EnquireLinkID, 90, nil)
	mustExpect(t, rx, codec.EnquireLinkRespID, codec.StatusOK)
	mustSend(t, rx, codec.DeliverSMRespID, a.Sequence, []byte{0})
	c, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	mustSend(t, rx, codec.DeliverSMRespID, b.Sequence, []byte{0})
	mustSend(t, rx, codec.DeliverSMRespID, c.Sequence, []byte{0})
	d, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	mustSend(t, rx, codec.DeliverSMRespID, d.Sequence, []byte{0})
	eventually(t, "four delivered", func() bool {
		for i := 10; i < 14; i++ {
			if o, ok := k.get(uint64(i)); !ok || o.err != nil {
				return false
			}
		}
		return true
	})
	if _, ok := k.get(14); ok {
		t.Fatal("an outcome was reported for the refused delivery")
	}
	// Closing fails what is outstanding with ErrSessionGone.
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "w"), Ref: 20}); err != nil {
		t.Fatal(err)
	}
	mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	_ = rx.Close()
	eventually(t, "session gone outcome", func() bool { o, ok := k.get(20); return ok && errors.Is(o.err, ErrSessionGone) })
}

// deferAll defers every submit so in-flight requests pile up.
type deferAll struct {
	mu     sync.Mutex
	tokens []SubmitToken
}

func (d *deferAll) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	d.mu.Lock()
	d.tokens = append(d.tokens, req.Token)
	d.mu.Unlock()
	res.Deferred = true
}

func TestInFlightLimitThrottles(t *testing.T) {
	t.Parallel()
	h := &deferAll{}
	ts := start(t, func(o *Options) {
		o.Submit = h
		o.MaxInFlight = 3
	})
	c := ts.bound(t, codec.BindTransmitterID)
	for i := 0; i < 5; i++ {
		mustSend(t, c, codec.SubmitSMID, uint32(10+i), smpptest.SubmitBody("1", "2", "t"))
	}
	for _, seq := range []uint32{13, 14} {
		if hd, _ := mustExpect(t, c, codec.SubmitSMRespID, codec.StatusThrottled); hd.Sequence != seq {
			t.Fatalf("throttled seq %d, want %d", hd.Sequence, seq)
		}
	}
	if n := ts.Stats().Throttled; n != 2 {
		t.Fatalf("throttled count %d", n)
	}
	h.mu.Lock()
	toks := append([]SubmitToken(nil), h.tokens...)
	h.mu.Unlock()
	for i, tok := range toks {
		if err := ts.Respond(tok, codec.StatusOK, []byte{'m', byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		hd, f := mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
		var r codec.SubmitSMResp
		if err := r.Decode(f[codec.HeaderLen:]); err != nil || string(r.MessageID) != string([]byte{'m', byte('0' + i)}) || hd.Sequence != uint32(10+i) {
			t.Fatalf("deferred resp %q seq %d %v", r.MessageID, hd.Sequence, err)
		}
	}
	// The window reopened.
	mustSend(t, c, codec.SubmitSMID, 30, smpptest.SubmitBody("1", "2", "t"))
	mustSend(t, c, codec.EnquireLinkID, 31, nil)
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK)
	if n := ts.Stats().Throttled; n != 2 {
		t.Fatalf("throttled after reopen %d", n)
	}
}

// A delivery still in the inbox when the loop stops is reported, not lost,
// and gives its session's pending slot back.
func TestStoppedLoopReportsQueuedDeliveries(t *testing.T) {
	k := &sink{}
	inbox, err := ring.NewMPSC[event](8)
	if err != nil {
		t.Fatal(err)
	}
	l := &loop{srv: &Server{opts: Options{Deliveries: k}}, inbox: inbox}
	s := &session{}
	s.deliverPending.Store(1)
	d := &Delivery{Ref: 7, pending: &s.deliverPending}
	if !inbox.TryPush(event{kind: evDeliver, s: s, d: d}) {
		t.Fatal("push")
	}
	q := &adminQuery{done: make(chan struct{}, 1)}
	if !inbox.TryPush(event{kind: evSessions, q: q}) {
		t.Fatal("push")
	}
	l.drainStopped()
	if o, ok := k.get(7); !ok || !errors.Is(o.err, ErrSessionGone) {
		t.Fatalf("outcome %+v %v", o, ok)
	}
	if s.deliverPending.Load() != 0 {
		t.Fatalf("pending %d", s.deliverPending.Load())
	}
	select {
	case <-q.done:
	default:
		t.Fatal("admin query left waiting")
	}
}
