package delivery

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// outbox is a Deliverer: it records what the service hands the engine, or
// refuses with err.
type outbox struct {
	mu  sync.Mutex
	got []*engine.Delivery
	err error
}

func (o *outbox) Deliver(_ string, d *engine.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.got = append(o.got, d)
	return nil
}

func (o *outbox) take() []*engine.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.got
	o.got = nil
	return g
}

func (o *outbox) setErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

// t0 is now: the memory store reclaims records by its own clock.
var t0 = time.Now().Truncate(time.Second)

// durableService is a service on the memory store with Options.Durable
// (the hold store's contract is the disk store's), a clock at t0, and mod
// applied to its options.
func durableService(t *testing.T, maxHeld int, mod func(*Options)) (*Service, *memory.Store, *outbox) {
	t.Helper()
	st := memory.New(memory.Options{MaxRecords: 64, MaxHeld: maxHeld})
	o := Options{Messages: st, Holds: st.Holds(), Durable: true, DeadLetters: st.DeadLetters(),
		Settings: Settings{RetryMin: time.Second, RetryMax: time.Second, HoldLifetime: time.Hour},
		Now:      func() time.Time { return t0 }}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	out := &outbox{}
	s.Attach(out)
	return s, st, out
}

func putRecord(t *testing.T, st storage.Messages, id msg.ID, reg byte) {
	t.Helper()
	r := storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute, RegisteredDelivery: reg, Submitted: t0.UnixNano()}
	r.SetAddrs([]byte("1"), []byte("491"), []byte("hi"))
	if err := st.Put(&r); err != nil {
		t.Fatal(err)
	}
}

// A receipt is held (leased) from its creation until the ESME
// acknowledges it; a second final receipt for the same id changes nothing
// and sends nothing.
func TestDurableReceiptHeldUntilAcknowledged(t *testing.T) {
	s, st, out := durableService(t, 16, nil)
	putRecord(t, st, 7, 1)
	if err := s.Receipt(&msg.Receipt{ID: 7, State: msg.StateDelivered}); err != nil {
		t.Fatal(err)
	}
	got := out.take()
	if len(got) != 1 || st.Holds().Len() != 1 {
		t.Fatalf("sent %d, held %d: want the receipt sent and kept", len(got), st.Holds().Len())
	}
	// Leased: a receiver binding now gets nothing twice.
	var dst [4]storage.Held
	if n, _ := st.Holds().Lease("alice", t0.Add(time.Minute).UnixNano(), dst[:]); n != 0 {
		t.Fatalf("the receipt being delivered was leased again (%d)", n)
	}
	s.DeliveryDone(got[0], codec.StatusOK, nil)
	if st.Holds().Len() != 0 {
		t.Fatalf("%d held after the ESME's ESME_ROK", st.Holds().Len())
	}
	// Late: the first final state won.
	if err := s.Receipt(&msg.Receipt{ID: 7, State: msg.StateUndeliverable}); err != nil {
		t.Fatal(err)
	}
	if len(out.take()) != 0 || st.Holds().Len() != 0 {
		t.Fatal("a late receipt was sent or held")
	}
	var r storage.Record
	if err := st.Get(7, &r); err != nil || r.State != msg.StateDelivered {
		t.Fatalf("record %+v %v", r, err)
	}
	if s.Stats().ReceiptsLate != 1 {
		t.Fatalf("late %d", s.Stats().ReceiptsLate)
	}
}

// A full hold store refuses the receipt before its state is recorded, so
// the upstream's resend finds the record unchanged; unknown ids and MO
// with no target become dead letters, answered nil.
func TestDurableRefusalsAndDeadLetters(t *testing.T) {
	s, st, out := durableService(t, 1, nil)
	putRecord(t, st, 7, 1)
	putRecord(t, st, 8, 1)
	if err := s.Receipt(&msg.Receipt{ID: 7, State: msg.StateDelivered}); err != nil {
		t.Fatal(err)
	}
	err := s.Receipt(&msg.Receipt{ID: 8, State: msg.StateDelivered})
	if !errors.Is(err, errNotKept) || !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("full hold store: %v", err)
	}
	var r storage.Record
	if err := st.Get(8, &r); err != nil || r.State != msg.StateEnroute {
		t.Fatalf("refused receipt recorded its state: %+v", r)
	}
	out.take()

	// Unknown ids: kept as dead letters with the upstream's body.
	if err := s.Receipt(&msg.Receipt{ID: 99, Connector: 2, State: msg.StateDelivered, Raw: []byte("raw")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Receipt(&msg.Receipt{Connector: 2, State: msg.StateDelivered, UpstreamID: []byte("up-1")}); err != nil {
		t.Fatal(err)
	}
	// An MO no route takes, from a connector.
	if err := s.MO(&msg.Inbound{Connector: "smsc", Source: []byte("4917"), Dest: []byte("1"), ShortMessage: []byte("x"),
		Raw: []byte("mo-raw")}); err != nil {
		t.Fatal(err)
	}
	var kinds []storage.HeldKind
	var reasons []string
	_ = st.DeadLetters().List(0, func(d *storage.DeadLetter) {
		kinds, reasons = append(kinds, d.Kind), append(reasons, d.Reason)
	})
	if len(kinds) != 3 || kinds[0] != storage.HeldMO || kinds[1] != storage.HeldReceipt || kinds[2] != storage.HeldReceipt {
		t.Fatalf("dead letters %v %q", kinds, reasons)
	}
	if ds := s.Stats(); ds.DeadMO != 1 || ds.DeadReceipts != 2 || ds.ReceiptsUnknown != 2 {
		t.Fatalf("stats %+v", ds)
	}
	// An operator's MO without a target is still refused to the caller.
	if err := s.InjectMO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1"), ShortMessage: []byte("x")}); !errors.Is(err, ErrNoMORoute) {
		t.Fatalf("InjectMO: %v", err)
	}
}

// An MO is held from creation like a receipt; one that finds no receiver
// goes back to the store in place and comes out at the next bind.
func TestDurableMOHeldUntilDelivered(t *testing.T) {
	s, st, out := durableService(t, 16, nil)
	out.setErr(engine.ErrNoSession)
	if err := s.MO(&msg.Inbound{Connector: "smsc", SystemID: "alice", Source: []byte("4917"), Dest: []byte("1"),
		ShortMessage: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	if st.Holds().Len() != 1 || s.Leased() != 0 {
		t.Fatalf("held %d leased %d", st.Holds().Len(), s.Leased())
	}
	out.setErr(nil)
	s.Bound("alice", engine.BindReceiver)
	s.Step(t0)
	got := out.take()
	if len(got) != 1 {
		t.Fatalf("released %d", len(got))
	}
	s.DeliveryDone(got[0], codec.StatusOK, nil)
	if st.Holds().Len() != 0 {
		t.Fatal("delivered MO still held")
	}
}

// Release makes progress when the ESME's receivers are full: the items it
// leased wait for room and the user is not leased again and again.
func TestReleaseStopsWhenReceiversFull(t *testing.T) {
	s, st, out := durableService(t, 2*leaseBatch, func(o *Options) { o.MaxWaiting = 2 })
	out.setErr(engine.ErrNoSession)
	const n = leaseBatch + 6 // more than one lease: the spin needs a full batch
	for i := range n {
		if err := s.MO(&msg.Inbound{Connector: "smsc", SystemID: "alice", Source: []byte("4917"), Dest: []byte("1"),
			ShortMessage: []byte{byte('a' + i%26)}}); err != nil {
			t.Fatal(err)
		}
	}
	out.setErr(engine.ErrQueueFull) // bound, but every window and queue full
	s.Bound("alice", engine.BindReceiver)
	done := make(chan struct{})
	go func() {
		s.Step(t0)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("releaseBound spins on the same items")
	}
	if st.Holds().Len() != n {
		t.Fatalf("held %d, want all %d kept", st.Holds().Len(), n)
	}
	if w := s.Stats().WaitingNow; w > 2 {
		t.Fatalf("%d waiting, more than MaxWaiting", w)
	}
}

// The retry schedule is bounded per user: past its share a retry waits in
// the hold store and its user is released again at its time.
func TestRetryScheduleBounded(t *testing.T) {
	s, st, out := durableService(t, 64, func(o *Options) {
		o.RetryShare = func(string) int { return 2 }
	})
	for i := range 5 {
		if err := s.MO(&msg.Inbound{Connector: "smsc", SystemID: "alice", Source: []byte("4917"), Dest: []byte("1"),
			ShortMessage: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range out.take() {
		s.DeliveryDone(d, codec.StatusXTAppn, nil) // refused, temporarily
	}
	s.Step(t0)
	ds := s.Stats()
	if ds.RetryingNow != 2 || ds.RetryOverflow != 3 || st.Holds().Len() != 5 {
		t.Fatalf("retrying %d, overflow %d, held %d", ds.RetryingNow, ds.RetryOverflow, st.Holds().Len())
	}
	// At the retry time the heap's two go again and the user's held items
	// are released too.
	s.Step(t0.Add(2 * time.Second))
	if got := len(out.take()); got != 5 {
		t.Fatalf("%d sent at the retry time, want 5", got)
	}
}
