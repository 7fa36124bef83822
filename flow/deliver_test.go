package flow

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// mo injects an MO for user with text.
func injectMO(t *testing.T, th *testHub, user, text string) {
	t.Helper()
	if err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: user, Source: []byte("4917000"), Dest: []byte("1234"),
		ShortMessage: []byte(text)}); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveryDoneOK(t *testing.T) {
	th := newHub(t, hubSpec{})
	injectMO(t, th, "alice", "hi")
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	th.Deliveries().DeliveryDone(got[0].d, codec.StatusOK, nil)
	if s := th.Stats(); s.MODelivered != 1 || th.Deliveries().InFlight() != 0 {
		t.Fatalf("stats %+v, items in use %d", s, th.Deliveries().InFlight())
	}
	// A second report for the same (recycled) Ref is ignored.
	th.Deliveries().DeliveryDone(got[0].d, codec.StatusOK, nil)
	if th.Stats().MODelivered != 1 {
		t.Fatal("stale Ref counted")
	}
}

func TestDeliveryPermanentError(t *testing.T) {
	th := newHub(t, hubSpec{})
	injectMO(t, th, "alice", "hi")
	th.Deliveries().DeliveryDone(th.out.take()[0].d, codec.StatusXPAppn, nil)
	th.Deliveries().Step(th.clock.Now().Add(time.Hour))
	if s := th.Stats(); s.DeliveriesFailed != 1 || s.DeliveriesRetried != 0 || th.Deliveries().InFlight() != 0 {
		t.Fatalf("stats %+v", s)
	}
	if len(th.out.take()) != 0 {
		t.Fatal("a permanent refusal was retried")
	}
}

func TestDeliveryRetryBackoffAndExpiry(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) {
		o.RetryMin, o.RetryMax, o.HoldLifetime = time.Second, 4*time.Second, 20*time.Second
	}})
	injectMO(t, th, "alice", "hi")
	d := th.out.take()[0].d
	// Temporary errors, other error statuses and timeouts retry with backoff.
	errs := []struct {
		st  codec.Status
		err error
	}{{codec.StatusXTAppn, nil}, {0, engine.ErrDeliveryExpired}, {codec.StatusSysErr, nil}, {codec.StatusXTAppn, nil}}
	waits := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, e := range errs {
		th.Deliveries().DeliveryDone(d, e.st, e.err)
		th.Deliveries().Step(th.clock.Now())
		if len(th.out.take()) != 0 {
			t.Fatalf("attempt %d: resent before the backoff", i)
		}
		th.clock.Add(waits[i] - time.Millisecond)
		th.Deliveries().Step(th.clock.Now())
		if len(th.out.take()) != 0 {
			t.Fatalf("attempt %d: resent early", i)
		}
		th.clock.Add(time.Millisecond)
		th.Deliveries().Step(th.clock.Now())
		got := th.out.take()
		if len(got) != 1 {
			t.Fatalf("attempt %d: %d resends after %v", i, len(got), waits[i])
		}
		d = got[0].d
	}
	// 11s have passed; the next backoff (4s) still fits, the one after does not.
	th.Deliveries().DeliveryDone(d, codec.StatusXTAppn, nil)
	th.clock.Add(4 * time.Second)
	th.Deliveries().Step(th.clock.Now())
	d = th.out.take()[0].d
	th.Deliveries().DeliveryDone(d, codec.StatusXTAppn, nil) // 15s + 4s < 20s: scheduled
	th.clock.Add(4 * time.Second)
	th.Deliveries().Step(th.clock.Now())
	d = th.out.take()[0].d
	th.Deliveries().DeliveryDone(d, codec.StatusXTAppn, nil) // 19s + 4s > 20s: expired
	if s := th.Stats(); s.MOExpired != 1 || s.DeliveriesRetried != 6 || th.Deliveries().InFlight() != 0 {
		t.Fatalf("stats %+v, in use %d", s, th.Deliveries().InFlight())
	}
}

func TestDeliverQueueFullWaitsForRoom(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.out.setErr(engine.ErrQueueFull)
	injectMO(t, th, "alice", "one")
	injectMO(t, th, "alice", "two")
	th.Deliveries().Step(th.clock.Now())
	if len(th.out.take()) != 0 || th.Stats().WaitingNow != 2 {
		t.Fatalf("offered while the ESME is full: %+v", th.Stats())
	}
	th.out.setErr(nil)
	th.Deliveries().Step(th.clock.Now()) // no backoff: offered as soon as there is room
	got := th.out.take()
	if len(got) != 2 || !strings.Contains(string(got[0].d.Body), "one") || !strings.Contains(string(got[1].d.Body), "two") {
		t.Fatalf("%d deliveries after room freed, or out of order", len(got))
	}
	if s := th.Stats(); s.DeliveriesRetried != 0 || s.DeliveriesWaited != 2 || s.WaitingNow != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDeliveryBackpressureIsNotAnAttempt(t *testing.T) {
	th := newHub(t, hubSpec{})
	injectMO(t, th, "alice", "hi")
	d := th.out.take()[0].d
	for _, err := range []error{engine.ErrQueueFull, engine.ErrSessionGone} {
		th.Deliveries().DeliveryDone(d, 0, err)
		th.Deliveries().Step(th.clock.Now())
		got := th.out.take()
		if len(got) != 1 {
			t.Fatalf("%v: %d deliveries at the next step", err, len(got))
		}
		d = got[0].d
	}
	// Only the full queue is back-pressure; a closed session is not counted.
	if s := th.Stats(); s.DeliveriesRetried != 0 || s.DeliveriesWaited != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWaitingBacklogOverflowsToHold(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.MaxWaiting = 2 }})
	th.out.setErr(engine.ErrQueueFull)
	for _, text := range []string{"a", "b", "c"} {
		injectMO(t, th, "alice", text)
	}
	if s := th.Stats(); s.WaitingNow != 2 || s.WaitingFull != 1 || s.HeldNow != 1 {
		t.Fatalf("stats %+v", s)
	}
	th.out.setErr(nil)
	th.Deliveries().Step(th.clock.Now()) // the two waiting go; the drained queue calls the held one back
	th.Deliveries().Step(th.clock.Now())
	got := th.out.take()
	if len(got) != 3 || !strings.Contains(string(got[2].d.Body), "c") {
		t.Fatalf("%d deliveries", len(got))
	}
	// The held one stays in the store, leased, until its receiver answers.
	if s := th.Stats(); s.HeldNow != 1 {
		t.Fatalf("stats %+v", s)
	}
	th.Deliveries().DeliveryDone(got[2].d, codec.StatusOK, nil)
	if s := th.Stats(); s.WaitingNow != 0 || s.HeldNow != 0 || s.HeldFull != 0 || th.Deliveries().Undelivered() != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWaitingItemExpires(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.HoldLifetime = time.Minute }})
	th.out.setErr(engine.ErrQueueFull)
	injectMO(t, th, "alice", "hi")
	th.clock.Add(time.Minute)
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.MOExpired != 1 || s.WaitingNow != 0 || th.Deliveries().InFlight() != 0 {
		t.Fatalf("stats %+v, in use %d", s, th.Deliveries().InFlight())
	}
}

func TestHeldUntilBind(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.out.setErr(engine.ErrNoSession)
	for i := range 70 { // more than one Take batch
		injectMO(t, th, "alice", "mo "+strings.Repeat("x", i%3)+string(rune('A'+i%26)))
	}
	if s := th.Stats(); s.MOHeld != 70 || s.HeldNow != 70 {
		t.Fatalf("stats %+v", s)
	}
	th.out.setErr(nil)
	th.Deliveries().Bound("alice", engine.BindTransmitter) // cannot receive: nothing moves
	th.Deliveries().Step(th.clock.Now())
	if len(th.out.take()) != 0 {
		t.Fatal("released to a transmitter")
	}
	th.Deliveries().Bound("alice", engine.BindReceiver)
	th.Deliveries().Step(th.clock.Now())
	got := th.out.take()
	if len(got) != 70 {
		t.Fatalf("released %d of 70", len(got))
	}
	if p := decodeDeliver(t, got[0]); string(p.ShortMessage) != "mo A" {
		t.Fatalf("first released %q: not in arrival order", p.ShortMessage)
	}
	if th.store.Len() != 70 || th.Deliveries().Undelivered() != 70 {
		t.Fatalf("%d in the store, %d undelivered: leased items stay until answered", th.store.Len(), th.Deliveries().Undelivered())
	}
	for _, d := range got {
		th.Deliveries().DeliveryDone(d.d, codec.StatusOK, nil)
	}
	if th.store.Len() != 0 || th.Deliveries().Undelivered() != 0 || th.Deliveries().Leased() != 0 {
		t.Fatalf("%d items left in the hold store", th.store.Len())
	}
}

func TestHeldReleaseStopsWhenReceiverLeaves(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.out.setErr(engine.ErrNoSession)
	injectMO(t, th, "alice", "one")
	injectMO(t, th, "alice", "two")
	th.Deliveries().Bound("alice", engine.BindTransceiver) // but Deliver still finds no session
	th.Deliveries().Step(th.clock.Now())
	if th.store.Len() != 2 {
		t.Fatalf("held %d, want both back on hold", th.store.Len())
	}
}

func TestHeldExpiry(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.HoldLifetime = time.Minute }})
	th.Deliveries().Attach(nil) // no engine yet: everything is held
	injectMO(t, th, "alice", "old")
	p := newUser(t, "bob", userSpec{receipts: true})
	_, id := submitted(t, th, p, 1, "x")
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered})
	if s := th.Stats(); s.MOHeld != 1 || s.ReceiptsHeld != 1 {
		t.Fatalf("stats %+v", s)
	}
	th.clock.Add(30 * time.Second)
	th.Deliveries().Step(th.clock.Now())
	if th.store.Len() != 2 {
		t.Fatal("expired early")
	}
	th.clock.Add(31 * time.Second)
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.MOExpired != 1 || s.ReceiptsExpired != 1 || s.HeldNow != 0 || th.Deliveries().InFlight() != 0 {
		t.Fatalf("stats %+v, in use %d", s, th.Deliveries().InFlight())
	}
}

func TestHeldExpiredAtRelease(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.HoldLifetime = time.Minute }})
	th.out.setErr(engine.ErrNoSession)
	injectMO(t, th, "alice", "old")
	th.out.setErr(nil)
	th.clock.Add(2 * time.Minute)
	th.Deliveries().Bound("alice", engine.BindReceiver)
	th.Deliveries().Step(th.clock.Now()) // releases before it sweeps
	if len(th.out.take()) != 0 || th.Stats().MOExpired != 1 {
		t.Fatal("an expired item was delivered")
	}
}

func TestHoldStoreFull(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.store.Holds = newHolds(1)
	th.out.setErr(engine.ErrNoSession)
	injectMO(t, th, "alice", "kept")
	// The operator who injected it learns that it was dropped.
	err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: "alice", Source: []byte("4917000"), Dest: []byte("1234"), ShortMessage: []byte("dropped")})
	if !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("InjectMO: %v, want ErrHeldFull", err)
	}
	// The held one is the store's: the item went back to the slab.
	if s := th.Stats(); s.HeldFull != 1 || s.MOHeld != 1 || th.Deliveries().InFlight() != 0 || th.Deliveries().Undelivered() != 1 {
		t.Fatalf("stats %+v, in use %d, undelivered %d", s, th.Deliveries().InFlight(), th.Deliveries().Undelivered())
	}
}

func TestBindDuringHoldIsNotMissed(t *testing.T) {
	th := newHub(t, hubSpec{})
	// The receiver binds after Deliver said "no session" but before Hold.
	th.Deliveries().Attach(&bindingOut{th: th})
	injectMO(t, th, "alice", "race")
	th.Deliveries().Attach(th.out)
	th.Deliveries().Step(th.clock.Now())
	if len(th.out.take()) != 1 {
		t.Fatal("held item not released after a bind that raced with Hold")
	}
}

// bindingOut reports no session and, in the same breath, a bind.
type bindingOut struct{ th *testHub }

func (b *bindingOut) Deliver(user string, _ *engine.Delivery) error {
	b.th.Deliveries().Bound(user, engine.BindReceiver)
	b.th.Deliveries().Step(b.th.clock.Now()) // the background goroutine already looked: nothing held yet
	return engine.ErrNoSession
}

func TestHeldCountedOncePerItem(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.out.setErr(engine.ErrNoSession)
	injectMO(t, th, "alice", "hi")
	th.Deliveries().Bound("alice", engine.BindReceiver) // the receiver is gone again before the release
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.MOHeld != 1 || s.HeldNow != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Receipts whose states are recorded are acknowledged to their upstream:
// when the user's receivers are full, max_held items wait and the hold
// store refuses more, they wait in memory all the same (counted), never
// dropped. The user's backlog past its share refuses its MT asking a
// receipt, before acceptance, until half of it is delivered; then every
// receipt has gone out.
func TestReceiptBacklogThrottlesMTAndKeepsEveryReceipt(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) {
		o.MaxWaiting, o.Holds = 4, newHolds(1)
		o.RetryShare = func(string) int { return 4 }
	}})
	p := newUser(t, "alice", userSpec{receipts: true})
	th.out.setErr(engine.ErrQueueFull) // bound, every window and queue full
	const n = 8
	receipted(t, th, p, n)
	if s := th.Stats(); s.HeldFull != 0 || s.WaitingOver != n-4-1 || s.WaitingNow != n-1 || s.HeldNow != 1 {
		t.Fatalf("stats %+v: want nothing dropped, 3 over the bound, 7 waiting, 1 held", s)
	}
	th.Deliveries().Step(th.clock.Now()) // the user's queue, 7, is past its mark, 4 (its share; half MaxWaiting is 2)
	if s := th.Stats(); s.BackloggedNow != 1 || s.BacklogOn != 1 {
		t.Fatalf("stats %+v: backlog not raised", s)
	}
	r := askingReceipt("late")
	if st, _ := th.submit(p, r); st != codec.StatusThrottled {
		t.Fatalf("MT asking a receipt during the backlog: %v, want ESME_RTHROTTLED", st)
	}
	if st, _ := th.submit(p, sm("4915100000", "4916200000", "no receipt")); st != codec.StatusOK {
		t.Fatalf("MT without a receipt during the backlog: %v", st)
	}
	th.out.setErr(nil)
	th.Deliveries().Step(th.clock.Now()) // the waiting go; the drained queue calls the held one back
	th.clock.Add(20 * time.Millisecond)  // backlogs are measured every 10 ms
	th.Deliveries().Step(th.clock.Now())
	if got := len(th.out.take()); got != n {
		t.Fatalf("%d receipts delivered, want %d", got, n)
	}
	if s := th.Stats(); s.BackloggedNow != 0 || s.WaitingNow != 0 {
		t.Fatalf("stats %+v: backlog not cleared", s)
	}
	if st, _ := th.submit(p, r); st != codec.StatusOK {
		t.Fatalf("MT asking a receipt after the backlog: %v", st)
	}
}

// A user with no receiver bound whose held receipts reach 90% of its
// share has its MT asking a receipt refused before its share fills (its
// later receipts would be refused by the store); once a receiver took
// them, the MT is admitted again.
func TestReceiptBacklogCountsHeldItems(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.RetryShare = func(string) int { return 4 } }})
	p := newUser(t, "alice", userSpec{receipts: true})
	th.out.setErr(engine.ErrNoSession)
	receipted(t, th, p, 3)
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.HeldNow != 3 || s.BackloggedNow != 1 {
		t.Fatalf("stats %+v: want 3 held (of a share of 4), the backlog raised", s)
	}
	r := askingReceipt("late")
	if st, _ := th.submit(p, r); st != codec.StatusThrottled {
		t.Fatalf("MT asking a receipt with 90%% of the share held: %v, want ESME_RTHROTTLED", st)
	}
	th.out.setErr(nil)
	th.Deliveries().Bound("alice", engine.BindReceiver)
	th.Deliveries().Step(th.clock.Now())
	for _, d := range th.out.take() {
		th.Deliveries().DeliveryDone(d.d, codec.StatusOK, nil)
	}
	th.clock.Add(20 * time.Millisecond)
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.HeldNow != 0 || s.BackloggedNow != 0 || s.ReceiptsDelivered != 3 {
		t.Fatalf("stats %+v: want both delivered, the backlog cleared", s)
	}
	if st, _ := th.submit(p, r); st != codec.StatusOK {
		t.Fatalf("MT asking a receipt after the backlog: %v", st)
	}
}

// With no receiver bound and the hold store full, a receipt whose state
// is recorded (acknowledged upstream) waits in memory instead of being
// dropped, and reaches the receiver that binds.
func TestAcknowledgedReceiptWaitsWhenTheHoldStoreIsFull(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.Holds = newHolds(1) }})
	p := newUser(t, "alice", userSpec{receipts: true})
	th.out.setErr(engine.ErrNoSession)
	receipted(t, th, p, 3)
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.HeldFull != 0 || s.HeldNow != 1 || s.WaitingOver != 2 || s.WaitingNow != 2 {
		t.Fatalf("stats %+v: want 1 held, 2 waiting over the bound, none dropped", s)
	}
	th.clock.Add(10 * time.Millisecond)
	th.Deliveries().Step(th.clock.Now()) // offered again: still no receiver, counted once
	if s := th.Stats(); s.WaitingOver != 2 || s.WaitingNow != 2 {
		t.Fatalf("stats %+v: the waiting ones recounted or lost", s)
	}
	th.out.setErr(nil)
	th.Deliveries().Bound("alice", engine.BindReceiver)
	th.Deliveries().Step(th.clock.Now())
	th.Deliveries().Step(th.clock.Now())
	if got := len(th.out.take()); got != 3 {
		t.Fatalf("%d receipts delivered, want 3", got)
	}
}

// receipted submits n messages of p's asking a receipt and reports each
// delivered upstream.
func receipted(t *testing.T, th *testHub, p principal, n int) {
	t.Helper()
	for i := range n {
		_, id := submitted(t, th, p, 1, "m"+strconv.Itoa(i))
		th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered})
	}
}

// askingReceipt is a submit_sm asking a receipt (registered_delivery 1).
func askingReceipt(text string) *codec.SM {
	r := sm("4915100000", "4916200000", text)
	r.RegisteredDelivery = 1
	return r
}

// A receipt its ESME refused (an error status) waits for its retry in
// memory up to the user's share of the retry schedule, then in the hold
// store; when that store is full too, it waits in memory past the share
// (counted) instead of being dropped, and is sent at its time.
func TestRetryPastTheShareWaitsWhenTheHoldStoreIsFull(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) {
		o.Holds = newHolds(1)
		o.RetryShare = func(string) int { return 1 }
	}})
	p := newUser(t, "alice", userSpec{receipts: true})
	th.out.setErr(engine.ErrNoSession)
	receipted(t, th, p, 1) // held: the store is full now
	th.out.setErr(nil)
	receipted(t, th, p, 2)
	for _, d := range th.out.take() {
		th.Deliveries().DeliveryDone(d.d, codec.StatusXTAppn, nil) // retried later
	}
	th.Deliveries().Step(th.clock.Now())
	if s := th.Stats(); s.HeldFull != 0 || s.RetryingNow != 2 || s.WaitingOver != 1 {
		t.Fatalf("stats %+v: want both retrying in memory, one past the share, none dropped", s)
	}
	th.clock.Add(time.Minute)
	th.Deliveries().Step(th.clock.Now())
	if got := len(th.out.take()); got != 2 {
		t.Fatalf("%d retried at their time, want 2", got)
	}
}
