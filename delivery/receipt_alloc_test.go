package delivery

import (
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// lastDelivery is a Deliverer taking every deliver_sm, keeping the last
// for the caller to answer (DeliveryDone), as an event loop would.
type lastDelivery struct{ d *engine.Delivery }

func (l *lastDelivery) Deliver(_ string, d *engine.Delivery) error {
	l.d = d
	return nil
}

// receiptRig is a service on the memory store, without Durable, with a
// receiver that takes every deliver_sm: the path of a receipt to a bound
// ESME with room in its window.
func receiptRig(tb testing.TB, records int) (*Service, *memory.Store, *lastDelivery) {
	tb.Helper()
	st := memory.New(memory.Options{MaxRecords: records + 16, MaxHeld: 16})
	s, err := New(Options{Messages: st, Holds: st.Holds(), DeadLetters: st.DeadLetters(),
		Settings: Settings{HoldLifetime: time.Hour}})
	if err != nil {
		tb.Fatal(err)
	}
	out := &lastDelivery{}
	s.Attach(out)
	return s, st, out
}

func putReceipted(tb testing.TB, st *memory.Store, id msg.ID, reg byte) {
	tb.Helper()
	r := storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute, RegisteredDelivery: reg, Submitted: time.Now().UnixNano()}
	r.SetAddrs([]byte("12345"), []byte("4915112345678"), []byte("hello world"))
	if err := st.Put(&r); err != nil {
		tb.Fatal(err)
	}
}

// sendAndAnswer hands r to s and answers its deliver_sm ESME_ROK.
func sendAndAnswer(tb testing.TB, s *Service, out *lastDelivery, r *msg.Receipt) {
	out.d = nil
	if err := s.Receipt(r); err != nil {
		tb.Fatal(err)
	}
	if out.d == nil {
		tb.Fatal("no deliver_sm")
	}
	s.DeliveryDone(out.d, codec.StatusOK, nil)
}

// TestReceiptDeliverAllocs: a final receipt (state recorded, deliver_sm
// built, handed to a receiver, answered) and an intermediate one allocate
// nothing once the pools are warm, and each is counted generated and
// delivered once.
func TestReceiptDeliverAllocs(t *testing.T) {
	const n = 500
	s, st, out := receiptRig(t, n+1)
	for id := range msg.ID(n + 1) {
		putReceipted(t, st, id+1, codec.RegisteredDeliveryReceipt|codec.RegisteredDeliveryIntermediate)
	}
	next := msg.ID(1)
	final := func() {
		sendAndAnswer(t, s, out, &msg.Receipt{ID: next, State: msg.StateDelivered, Done: time.Now().UnixNano()})
		next++
	}
	if a := testing.AllocsPerRun(n, final); a != 0 && !raceOn {
		t.Errorf("a final receipt allocates %.2f times", a)
	}
	inter := &msg.Receipt{ID: 1, State: msg.StateEnroute, Intermediate: true}
	if a := testing.AllocsPerRun(n, func() { sendAndAnswer(t, s, out, inter) }); a != 0 && !raceOn {
		t.Errorf("an intermediate receipt allocates %.2f times", a)
	}
	if got := s.Stats(); got.ReceiptsGenerated != 2*(n+1) || got.ReceiptsDelivered != 2*(n+1) || s.InFlight() != 0 {
		t.Errorf("generated %d, delivered %d, in flight %d; want %d, %d, 0", got.ReceiptsGenerated, got.ReceiptsDelivered, s.InFlight(), 2*(n+1), 2*(n+1))
	}
}

// BenchmarkReceiptDeliver: one receipt to a bound receiver: the record
// read, the deliver_sm built and handed over, its answer. Intermediate
// receipts, so every one is sent and the store does no more than a read.
func BenchmarkReceiptDeliver(b *testing.B) {
	s, st, out := receiptRig(b, 1)
	putReceipted(b, st, 1, codec.RegisteredDeliveryIntermediate)
	// At as the simulator sets it: the time of its step, read once.
	r := &msg.Receipt{ID: 1, State: msg.StateEnroute, Intermediate: true, At: time.Now().UnixNano()}
	b.ReportAllocs()
	for b.Loop() {
		sendAndAnswer(b, s, out, r)
	}
}

// BenchmarkReceiptDurable: a final receipt with Durable: the record read,
// the deliver_sm held, the state recorded, the deliver_sm handed over and
// answered. Each op re-puts its record first (the same in both builds of
// an A/B), as a final state is recorded once.
func BenchmarkReceiptDurable(b *testing.B) {
	const ids = 1024
	stores := []struct {
		name string
		open func(b *testing.B) (storage.Store, storage.Committer)
	}{
		{"memory", func(*testing.B) (storage.Store, storage.Committer) {
			return memory.New(memory.Options{MaxRecords: ids + 16, MaxHeld: 16}), nil
		}},
		{"disk-interval", func(b *testing.B) (storage.Store, storage.Committer) {
			// Rebuild as smppd sets it: the held receipt is logged as its recipe.
			st, err := disk.Open(disk.Options{Dir: b.TempDir(), Sync: wal.SyncInterval, CompactEvery: -1, Rebuild: dlr.Body})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st, st.Committer()
		}},
	}
	for _, sc := range stores {
		b.Run(sc.name, func(b *testing.B) {
			st, c := sc.open(b)
			s, err := New(Options{Messages: st, Holds: st.Holds(), DeadLetters: st.DeadLetters(), Durable: true,
				Settings: Settings{HoldLifetime: time.Hour}})
			if err != nil {
				b.Fatal(err)
			}
			out := &lastDelivery{}
			s.Attach(out)
			rec := storage.Record{ID: 1, SystemID: "alice", MTRoute: "default", State: msg.StateEnroute,
				RegisteredDelivery: codec.RegisteredDeliveryReceipt, Submitted: time.Now().UnixNano()}
			rec.SetAddrs([]byte("12345"), []byte("4915112345678"), []byte("hello world"))
			// Resends: a receipt the store refuses (its log's buffer full)
			// is refused whole, and sent again once the device caught up.
			r := &msg.Receipt{State: msg.StateDelivered, At: time.Now().UnixNano(), Resends: true}
			retry := func(err error) bool {
				if err == nil || c == nil || !errors.Is(err, wal.ErrBufferFull) {
					return false
				}
				if werr := c.WaitCommitted(c.Written()); werr != nil {
					b.Fatal(werr)
				}
				return true
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				rec.ID = msg.ID(i%ids + 1)
				rec.State = msg.StateEnroute
				err := st.Put(&rec)
				for retry(err) {
					err = st.Put(&rec)
				}
				if err != nil {
					b.Fatal(err)
				}
				r.ID, r.Done = rec.ID, r.At
				out.d = nil
				err = s.Receipt(r)
				for retry(err) {
					err = s.Receipt(r)
				}
				if err != nil || out.d == nil {
					b.Fatalf("receipt: %v, deliver_sm %v", err, out.d != nil)
				}
				s.DeliveryDone(out.d, codec.StatusOK, nil)
				i++
			}
		})
	}
}
