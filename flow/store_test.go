package flow

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// errDisk stands for a durable store's full or failing disk.
var errDisk = errors.New("disk full")

// A submit whose record cannot be written is refused ESME_RMSGQFUL before
// anything is queued, charged or indexed; the next one after the store
// recovers goes through.
func TestSubmitRefusedWhenRecordCannotBeWritten(t *testing.T) {
	var logs bytes.Buffer
	th := newHub(t, hubSpec{logWriter: &logs})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(5_000_000)}})
	th.store.setFail(errDisk)
	st, id := th.submit(p, sm("12345", "4915112345678", "hello"))
	wantStatus(t, st, codec.StatusMsgQFul)
	if id != "" {
		t.Fatal("an id for a refused message")
	}
	s := th.Stats()
	if s.RefusedBy(RefuseStorage) != 1 || s.StoreErrors != 1 || s.SubmitsAccepted != 0 || s.QueueFull != 0 {
		t.Fatalf("stats %+v", s)
	}
	if n := th.conns[0].queued(); n != 0 || th.live.len() != 0 {
		t.Fatalf("%d queued, %d indexed after a refusal", n, th.live.len())
	}
	if b := p.User().Limits.Credit().Balance().Micros(); b != 5_000_000 {
		t.Fatalf("balance %d: the refusal was charged", b)
	}
	if !strings.Contains(logs.String(), "store call failed") || !strings.Contains(logs.String(), `"op":"put"`) {
		t.Fatalf("no log line for the refused record: %s", logs.String())
	}
	// submit_multi: every destination refused, the first refusal answers.
	res := &engine.SubmitResult{Unsuccess: new(codec.UnsuccessList)}
	multi := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("x")}
	multi.Dests.AddSME(1, 1, []byte("491"))
	multi.Dests.AddSME(1, 1, []byte("492"))
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SubmitMulti: multi, Principal: p.Bind}, res)
	wantStatus(t, res.Status, codec.StatusMsgQFul)
	if res.Unsuccess.Len() != 2 || th.Stats().RefusedBy(RefuseStorage) != 3 {
		t.Fatalf("unsuccess %d, stats %+v", res.Unsuccess.Len(), th.Stats())
	}
	th.store.setFail(nil)
	st, _ = th.submit(p, sm("12345", "4915112345678", "hello again"))
	wantStatus(t, st, codec.StatusOK)
}

// A state the store cannot record does not cost the ESME its receipt: the
// failure is counted and logged, the receipt built from the stored record.
func TestReceiptSentWhenStateCannotBeWritten(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	m, id := submitted(t, th, p, 1, "hello")
	if !m.Claim() {
		t.Fatal("claim")
	}
	th.store.setFail(errDisk)
	th.Accepted(m, nil) // SetAccepted fails: counted
	m.Release()
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered, Done: th.clock.Now().UnixNano()})
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want the receipt", len(got))
	}
	if rp := decodeDeliver(t, got[0]); !strings.Contains(string(rp.ShortMessage), "stat:DELIVRD") {
		t.Fatalf("receipt %q", rp.ShortMessage)
	}
	if s := th.Stats(); s.StoreErrors != 2 || s.ReceiptsUnknown != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A hold the store refuses with an error of its own (not its limit) drops
// the item: counted as dropped and as a store error, logged, and the
// operator who injected the MO learns it.
func TestHoldStoreFailing(t *testing.T) {
	var logs bytes.Buffer
	th := newHub(t, hubSpec{logWriter: &logs})
	th.out.setErr(engine.ErrNoSession)
	th.store.failHold = errDisk
	err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: "alice", Source: []byte("4917000"), Dest: []byte("1234"), ShortMessage: []byte("x")})
	if !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("InjectMO: %v, want the drop reported", err)
	}
	if s := th.Stats(); s.HeldFull != 1 || s.StoreErrors != 1 || s.MOHeld != 0 || th.Deliveries().Undelivered() != 0 {
		t.Fatalf("stats %+v", s)
	}
	if !strings.Contains(logs.String(), "item refused to its source") || !strings.Contains(logs.String(), "disk full") {
		t.Fatalf("log: %s", logs.String())
	}
}

// Held items are leased, not taken: when the receiver is gone again
// during a release they go back in their places (ahead of the items past
// the first lease), and the next release delivers all of them in arrival
// order, each acknowledged on its response.
func TestReleasedItemsKeepTheirPlace(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.out.setErr(engine.ErrNoSession)
	const n = 64 + 6 // more than one of delivery's leases (64 items)
	for i := range n {
		injectMO(t, th, "alice", fmt.Sprint("mo ", i))
	}
	th.Deliveries().Bound("alice", engine.BindReceiver) // gone again before the release
	th.Deliveries().Step(th.clock.Now())
	if h, l := th.store.Len(), th.Deliveries().Leased(); h != n || l != 0 || th.Deliveries().InFlight() != 0 {
		t.Fatalf("%d held, %d leased, %d items after a failed release", h, l, th.Deliveries().InFlight())
	}
	th.out.setErr(nil)
	th.Deliveries().Bound("alice", engine.BindReceiver)
	th.Deliveries().Step(th.clock.Now())
	got := th.out.take()
	if len(got) != n {
		t.Fatalf("released %d of %d", len(got), n)
	}
	for i, d := range got {
		if text := string(decodeDeliver(t, d).ShortMessage); text != fmt.Sprint("mo ", i) {
			t.Fatalf("delivery %d is %q: out of arrival order", i, text)
		}
	}
	if s := th.Stats(); s.MOHeld != n || s.HeldNow != n {
		t.Fatalf("stats %+v: each item is held once, and stays held until answered", s)
	}
	th.Deliveries().DeliveryDone(got[0].d, codec.StatusOK, nil)
	th.Deliveries().DeliveryDone(got[1].d, codec.StatusXPAppn, nil)
	th.Deliveries().DeliveryDone(got[2].d, codec.StatusXTAppn, nil) // retried later: still leased
	if h, l := th.store.Len(), th.Deliveries().Leased(); h != n-2 || l != n-2 || th.Deliveries().Undelivered() != n-2 {
		t.Fatalf("%d held, %d leased, %d undelivered", h, l, th.Deliveries().Undelivered())
	}
}

// A leased item that runs out of lifetime while it waits for a retry is
// acknowledged when it expires: the store lets go of it.
func TestLeasedItemExpires(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.HoldLifetime = time.Minute; o.RetryMin = 40 * time.Second }})
	th.out.setErr(engine.ErrNoSession)
	injectMO(t, th, "alice", "late")
	th.out.setErr(nil)
	th.Deliveries().Bound("alice", engine.BindReceiver)
	th.Deliveries().Step(th.clock.Now())
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	th.Deliveries().DeliveryDone(got[0].d, codec.StatusXTAppn, nil) // retry in 40 s
	th.clock.Add(45 * time.Second)
	th.Deliveries().Step(th.clock.Now())
	got = th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d retries", len(got))
	}
	th.Deliveries().DeliveryDone(got[0].d, codec.StatusXTAppn, nil) // next retry beyond the lifetime
	if s := th.Stats(); s.MOExpired != 1 || th.store.Len() != 0 || th.Deliveries().Leased() != 0 || th.Deliveries().Undelivered() != 0 {
		t.Fatalf("stats %+v, %d held, %d leased", s, th.store.Len(), th.Deliveries().Leased())
	}
}

// A record the store is too busy to take (a durable store's full write
// buffer: storage.ErrBusy) lets a session that may wait wait unread, with
// nothing charged, queued, counted or logged; one that may not (the wait
// is over, or a submit_multi) is refused ESME_RMSGQFUL as for a failing
// disk. The next offer after the store caught up goes through.
func TestSubmitWaitsWhileStoreBusy(t *testing.T) {
	var logs bytes.Buffer
	th := newHub(t, hubSpec{logWriter: &logs})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(5_000_000)}})
	th.store.setFail(fmt.Errorf("%w: write buffer full", storage.ErrBusy))
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "alice", Principal: p.Bind,
		SubmitSM: sm("12345", "4915112345678", "hello"), MayWait: true}
	held := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, held)
	if !held.Wait || held.Deferred || len(held.MessageID) != 0 {
		t.Fatalf("submit that may wait, store busy: %+v, want Wait", held)
	}
	s := th.Stats()
	if s.RefusedBy(RefuseStorage) != 0 || s.StoreErrors != 0 || s.SubmitsAccepted != 0 {
		t.Fatalf("stats %+v after a wait", s)
	}
	if n := th.conns[0].queued(); n != 0 || th.live.len() != 0 {
		t.Fatalf("%d queued, %d indexed while waiting", n, th.live.len())
	}
	if b := p.User().Limits.Credit().Balance().Micros(); b != 5_000_000 {
		t.Fatalf("balance %d: the wait was charged", b)
	}
	if strings.Contains(logs.String(), "store call failed") {
		t.Fatalf("a wait logged as a store failure: %s", logs.String())
	}
	// The wait is over: refused as a store that cannot write.
	st, id := th.submit(p, sm("12345", "4915112345678", "hello"))
	wantStatus(t, st, codec.StatusMsgQFul)
	if id != "" || th.Stats().RefusedBy(RefuseStorage) != 1 {
		t.Fatalf("id %q, stats %+v", id, th.Stats())
	}
	th.store.setFail(nil)
	again := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, again)
	if again.Wait || again.Status != codec.StatusOK || len(again.MessageID) == 0 {
		t.Fatalf("offered again after the store caught up: %+v", again)
	}
}
