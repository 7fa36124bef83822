package sim

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

func TestOptionsDefaults(t *testing.T) {
	s, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if s.queue != DefaultQueue || s.receiptDelay != int64(DefaultReceiptDelay) || s.maxPending != DefaultMaxPending {
		t.Errorf("defaults: queue %d delay %d pending %d", s.queue, s.receiptDelay, s.maxPending)
	}
	if !s.single || s.only != Delivered || s.total != 100 {
		t.Errorf("default outcomes: single %v only %v total %d", s.single, s.only, s.total)
	}
	if s.codes != DefaultErrorCodes {
		t.Errorf("codes %v, want %v", s.codes, DefaultErrorCodes)
	}
	if s.clock == nil {
		t.Error("no default clock")
	}
	s, err = Options{ReceiptDelay: ReceiptsAtOnce, ErrorCodes: [NumOutcomes]uint16{Rejected: 88}}.withDefaults()
	if err != nil || s.receiptDelay != 0 || s.codes[Rejected] != 88 || s.codes[Undeliverable] != 1 {
		t.Errorf("at once / codes: %+v %v", s, err)
	}
}

func TestOptionsInvalid(t *testing.T) {
	f := func(name string, o Options) {
		t.Helper()
		if _, err := New("sim", o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: err %v, want ErrOptions", name, err)
		}
	}
	f("negative queue", Options{Queue: -1})
	f("huge queue", Options{Queue: 1<<30 + 1})
	f("negative latency", Options{Latency: -time.Millisecond})
	f("huge latency", Options{Latency: MaxLatency + 1})
	f("huge receipt delay", Options{ReceiptDelay: MaxReceiptDelay + 1})
	f("huge pending", Options{MaxPending: 1<<30 + 1})
	f("negative weight", Options{Outcomes: [NumOutcomes]int{Delivered: 10, Rejected: -1}})
	f("huge weight", Options{Outcomes: [NumOutcomes]int{Delivered: math.MaxInt}})
	f("err code", Options{ErrorCodes: [NumOutcomes]uint16{Expired: 1000}})
	f("negative pending", Options{MaxPending: -5})
	if _, err := New("", Options{}); !errors.Is(err, ErrOptions) {
		t.Errorf("empty name: %v", err)
	}
}

func TestAcceptThenReceipt(t *testing.T) {
	c, w, s := manual(t, Options{ID: 7})
	m := newMsg(0x0123456789abcdef, "111", "222")
	mustSubmit(t, c, m)
	if got := c.Stats().Queued; got != 1 {
		t.Errorf("Queued %d before the worker ran, want 1", got)
	}
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "accepted")
	if evs[0].upstream != "0123456789abcdef" || evs[0].id != 0x0123456789abcdef {
		t.Errorf("accepted %+v", evs[0])
	}
	w.step(t0 + int64(time.Second) - 1)
	equalKinds(t, s.take())
	if k := c.Counters(); k.Pending != 1 {
		t.Errorf("pending %d, want 1", k.Pending)
	}
	w.step(t0 + int64(time.Second))
	evs = s.take()
	equalKinds(t, evs, "receipt")
	want := msg.Receipt{ID: 0x0123456789abcdef, Connector: 7, State: msg.StateDelivered, Err: 0, Done: t0 + int64(time.Second), At: t0 + int64(time.Second)}
	if !reflect.DeepEqual(evs[0].rcpt, want) {
		t.Errorf("receipt %+v, want %+v", evs[0].rcpt, want)
	}
	st := c.Stats()
	if st.Queued != 0 || st.Submitted != 1 || st.Accepted != 1 || st.Receipts != 1 || st.Refused != 0 || st.Expired != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLatency(t *testing.T) {
	const lat = 100 * time.Millisecond
	c, w, s := manual(t, Options{Latency: lat, ReceiptDelay: ReceiptsAtOnce})
	m := newMsg(1, "1", "2")
	mustSubmit(t, c, m)
	w.step(t0)
	equalKinds(t, s.take())
	if m.Phase() != msg.PhaseSending {
		t.Errorf("phase %v during latency, want Sending (it is upstream)", m.Phase())
	}
	if st := c.Stats(); st.Queued != 1 || st.Submitted != 1 {
		t.Errorf("stats during latency %+v", st)
	}
	if next, ok := w.next(); !ok || next != t0+int64(lat) {
		t.Errorf("next %d %v, want %d", next, ok, t0+int64(lat))
	}
	w.step(t0 + int64(lat) - 1)
	equalKinds(t, s.take())
	w.step(t0 + int64(lat))
	evs := s.take()
	equalKinds(t, evs, "accepted", "receipt")
	if evs[1].rcpt.Done != t0+int64(lat) {
		t.Errorf("done %d, want %d", evs[1].rcpt.Done, t0+int64(lat))
	}
	if c.Stats().Queued != 0 {
		t.Errorf("Queued %d after acceptance", c.Stats().Queued)
	}
}

func TestLatencyKeepsOrder(t *testing.T) {
	c, w, s := manual(t, Options{Latency: time.Second, ReceiptDelay: ReceiptsAtOnce})
	for i := range 3 {
		mustSubmit(t, c, newMsg(msg.ID(10+i), "1", "2"))
		w.step(t0 + int64(i)*int64(time.Millisecond))
	}
	w.step(t0 + int64(time.Second) + int64(time.Millisecond))
	evs := s.take()
	equalKinds(t, evs, "accepted", "receipt", "accepted", "receipt")
	if evs[0].id != 10 || evs[2].id != 11 {
		t.Errorf("order %v %v", evs[0].id, evs[2].id)
	}
	w.step(t0 + int64(time.Second) + 2*int64(time.Millisecond))
	equalKinds(t, s.take(), "accepted", "receipt")
}

func TestSchedule(t *testing.T) {
	const lat = 50 * time.Millisecond
	c, w, s := manual(t, Options{Latency: lat, ReceiptDelay: ReceiptsAtOnce})
	m := newMsg(2, "1", "2")
	sched := t0 + int64(time.Hour)
	m.Schedule = sched
	mustSubmit(t, c, m)
	w.step(t0)
	equalKinds(t, s.take())
	if m.Phase() != msg.PhaseQueued {
		t.Errorf("phase %v while scheduled, want Queued (cancel/replace still act)", m.Phase())
	}
	if k := c.Counters(); k.Held != 1 {
		t.Errorf("held %d", k.Held)
	}
	w.step(sched + int64(lat) - 1)
	equalKinds(t, s.take())
	w.step(sched + int64(lat))
	evs := s.take()
	equalKinds(t, evs, "accepted", "receipt")
	if evs[1].rcpt.Done != sched+int64(lat) {
		t.Errorf("accepted at %d, want schedule+latency %d", evs[1].rcpt.Done, sched+int64(lat))
	}
	// A schedule already past is no schedule.
	m = newMsg(3, "1", "2")
	m.Schedule = t0 - int64(time.Hour)
	mustSubmit(t, c, m)
	w.step(sched + int64(lat) + 1)
	w.step(sched + 2*int64(lat) + 1)
	equalKinds(t, s.take(), "accepted", "receipt")
}

func TestScheduleReplacedWhileHeld(t *testing.T) {
	c, w, s := manual(t, Options{ReceiptDelay: ReceiptsAtOnce})
	m := newMsg(4, "1", "2")
	m.Schedule = t0 + int64(time.Minute)
	mustSubmit(t, c, m)
	w.step(t0)
	if !m.BeginEdit() {
		t.Fatal("BeginEdit on a held scheduled message failed")
	}
	m.Schedule = t0 + 2*int64(time.Minute)
	m.EndEdit()
	w.step(t0 + int64(time.Minute))
	equalKinds(t, s.take())
	if m.Phase() != msg.PhaseQueued {
		t.Errorf("phase %v after re-hold", m.Phase())
	}
	w.step(t0 + 2*int64(time.Minute))
	equalKinds(t, s.take(), "accepted", "receipt")
}

func TestCancel(t *testing.T) {
	c, w, s := manual(t, Options{})
	m := newMsg(5, "1", "2")
	mustSubmit(t, c, m)
	if !m.Cancel() {
		t.Fatal("Cancel of a queued message failed")
	}
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "failed")
	if evs[0].id != 5 || evs[0].state != msg.StateDeleted || evs[0].status != 0 {
		t.Errorf("failed %+v", evs[0])
	}
	// Cancelled while waiting for its schedule: reported when it falls due.
	m = newMsg(6, "1", "2")
	m.Schedule = t0 + int64(time.Minute)
	mustSubmit(t, c, m)
	w.step(t0)
	if !m.Cancel() {
		t.Fatal("Cancel of a held scheduled message failed")
	}
	w.step(t0 + int64(time.Minute))
	evs = s.take()
	equalKinds(t, evs, "failed")
	if evs[0].id != 6 || evs[0].state != msg.StateDeleted {
		t.Errorf("failed %+v", evs[0])
	}
	if k := c.Counters(); k.Deleted != 2 {
		t.Errorf("deleted %d", k.Deleted)
	}
	if st := c.Stats(); st.Submitted != 2 || st.Accepted != 0 || st.Refused != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestExpiry(t *testing.T) {
	const lat = time.Second
	c, w, s := manual(t, Options{Latency: lat, ReceiptDelay: ReceiptsAtOnce})
	ms := int64(time.Millisecond)

	gone := newMsg(20, "1", "2") // validity over before it arrived
	gone.Expires = t0 - ms
	during := newMsg(21, "1", "2") // validity ends during the latency
	during.Expires = t0 + 500*ms
	edge := newMsg(22, "1", "2") // ends exactly at acceptance: no longer valid then
	edge.Expires = t0 + int64(lat)
	ok := newMsg(23, "1", "2") // ends after acceptance
	ok.Expires = t0 + int64(lat) + ms
	sched := newMsg(24, "1", "2") // ends before its schedule comes
	sched.Schedule = t0 + int64(time.Hour)
	sched.Expires = t0 + int64(time.Minute)
	for _, m := range []*msg.Message{gone, during, edge, ok, sched} {
		mustSubmit(t, c, m)
	}

	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "failed")
	if evs[0].id != 20 || evs[0].state != msg.StateExpired || evs[0].status != 0 {
		t.Errorf("expired %+v", evs[0])
	}
	w.step(t0 + 500*ms)
	evs = s.take()
	equalKinds(t, evs, "failed")
	if evs[0].id != 21 || evs[0].state != msg.StateExpired {
		t.Errorf("expired during latency %+v", evs[0])
	}
	w.step(t0 + int64(lat))
	evs = s.take()
	// Latency holds are released before schedule/expiry holds due at the
	// same instant.
	equalKinds(t, evs, "accepted", "receipt", "failed")
	if evs[0].id != 23 || evs[2].id != 22 || evs[2].state != msg.StateExpired {
		t.Errorf("at acceptance: %+v", evs)
	}
	w.step(t0 + int64(time.Minute))
	evs = s.take()
	equalKinds(t, evs, "failed")
	if evs[0].id != 24 || evs[0].state != msg.StateExpired {
		t.Errorf("expired before schedule %+v", evs[0])
	}
	if st := c.Stats(); st.Expired != 4 || st.Accepted != 1 || st.Submitted != 5 || st.Queued != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestOutcomeMix(t *testing.T) {
	const n = 10000
	weights := [NumOutcomes]int{Delivered: 70, Undeliverable: 15, Expired: 10, Rejected: 5}
	codes := [NumOutcomes]uint16{Delivered: 0, Undeliverable: 11, Expired: 0, Rejected: 99}
	run := func() []msg.State {
		c, w, s := manual(t, Options{Queue: n, Outcomes: weights, ErrorCodes: codes, Seed: 42, ReceiptDelay: ReceiptsAtOnce})
		for i := range n {
			mustSubmit(t, c, newMsg(msg.ID(i), "1", "2"))
		}
		for c.Stats().Accepted < n {
			w.step(t0)
		}
		var states []msg.State
		var byState [9]int
		for _, e := range s.take() {
			if e.kind != "receipt" {
				continue
			}
			states = append(states, e.state)
			byState[e.state]++
			wantErr := map[msg.State]uint16{msg.StateDelivered: 0, msg.StateUndeliverable: 11, msg.StateExpired: 2, msg.StateRejected: 99}[e.state]
			if e.rcpt.Err != wantErr {
				t.Fatalf("%v err %d, want %d", e.state, e.rcpt.Err, wantErr)
			}
		}
		if len(states) != n {
			t.Fatalf("%d receipts, want %d", len(states), n)
		}
		k := c.Counters()
		for o := range Outcome(NumOutcomes) {
			got := byState[o.State()]
			if uint64(got) != k.Outcomes[o] {
				t.Errorf("%v: counted %d, seen %d", o, k.Outcomes[o], got)
			}
			want := n * weights[o] / 100
			// 4 standard deviations of a binomial at these weights is < 2%.
			if d := got - want; d < -n/50 || d > n/50 {
				t.Errorf("%v: %d of %d, want %d ± %d", o, got, n, want, n/50)
			}
		}
		return states
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 42 gave different outcomes at %d: %v, %v", i, a[i], b[i])
		}
	}
}

func TestSingleOutcome(t *testing.T) {
	c, w, s := manual(t, Options{Outcomes: [NumOutcomes]int{Rejected: 3}, ReceiptDelay: ReceiptsAtOnce})
	mustSubmit(t, c, newMsg(1, "1", "2"))
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "accepted", "receipt")
	if evs[1].state != msg.StateRejected || evs[1].rcpt.Err != 3 {
		t.Errorf("receipt %+v", evs[1].rcpt)
	}
}

func TestMOEcho(t *testing.T) {
	c, w, s := manual(t, Options{MOEchoPrefixes: []string{"999", "888"}, ReceiptDelay: ReceiptsAtOnce})
	m := newMsg(30, "4412345", "99955501")
	m.SourceTON, m.SourceNPI, m.DestTON, m.DestNPI = 1, 1, 2, 9
	m.ESMClass = 0x43 // UDHI + store and forward mode
	m.ProtocolID, m.Priority, m.DataCoding = 0x7f, 2, 0x08
	m.ServiceType = append(m.ServiceType, "CMT"...)
	m.ShortMessage = append(m.ShortMessage[:0], 0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0x41)
	m.TLVs = append(m.TLVs, 0x02, 0x04, 0x00, 0x02, 0x00, 0x07) // user_message_reference 7
	mustSubmit(t, c, m)
	plain := newMsg(31, "4412345", "88800")
	plain.ESMClass = 0x03
	mustSubmit(t, c, plain)
	mustSubmit(t, c, newMsg(32, "4412345", "7999")) // prefix, not infix
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "accepted", "receipt", "mo", "accepted", "receipt", "mo", "accepted", "receipt")
	mo := evs[2].mo
	if mo.Connector != "sim" || mo.SystemID != "" || mo.Received != t0 {
		t.Errorf("mo header %+v", mo)
	}
	if string(mo.Source) != "99955501" || mo.SourceTON != 2 || mo.SourceNPI != 9 ||
		string(mo.Dest) != "4412345" || mo.DestTON != 1 || mo.DestNPI != 1 {
		t.Errorf("mo addresses %+v", mo)
	}
	if mo.ESMClass != 0x40 || mo.ProtocolID != 0x7f || mo.Priority != 2 || mo.DataCoding != 0x08 || string(mo.ServiceType) != "CMT" {
		t.Errorf("mo fields %+v", mo)
	}
	if !bytes.Equal(mo.ShortMessage, []byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0x41}) ||
		!bytes.Equal(mo.TLVs, []byte{0x02, 0x04, 0x00, 0x02, 0x00, 0x07}) {
		t.Errorf("mo payload %x %x", mo.ShortMessage, mo.TLVs)
	}
	if mo2 := evs[5].mo; mo2.ESMClass != 0 || string(mo2.Source) != "88800" || string(mo2.ShortMessage) != "hello" {
		t.Errorf("second mo %+v", mo2)
	}
	if st := c.Stats(); st.MO != 2 {
		t.Errorf("MO %d", st.MO)
	}
}

func TestIntermediate(t *testing.T) {
	c, w, s := manual(t, Options{ID: 3, Intermediate: true})
	asks := newMsg(40, "1", "2")
	asks.RegisteredDelivery = 0x11
	mustSubmit(t, c, asks)
	final := newMsg(41, "1", "2")
	final.RegisteredDelivery = 0x01
	mustSubmit(t, c, final)
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "accepted", "receipt", "accepted")
	want := msg.Receipt{ID: 40, Connector: 3, State: msg.StateEnroute, Intermediate: true}
	if !reflect.DeepEqual(evs[1].rcpt, want) {
		t.Errorf("intermediate %+v, want %+v", evs[1].rcpt, want)
	}
	w.step(t0 + int64(time.Second))
	evs = s.take()
	equalKinds(t, evs, "receipt", "receipt")
	if evs[0].rcpt.Intermediate || evs[0].state != msg.StateDelivered {
		t.Errorf("final %+v", evs[0].rcpt)
	}
	if k := c.Counters(); k.Intermediate != 1 || c.Stats().Receipts != 3 {
		t.Errorf("counters %+v stats %+v", k, c.Stats())
	}

	c, w, s = manual(t, Options{}) // Intermediate off: bit ignored
	asks = newMsg(42, "1", "2")
	asks.RegisteredDelivery = 0x10
	mustSubmit(t, c, asks)
	w.step(t0)
	equalKinds(t, s.take(), "accepted")
}

func TestMaxPendingEmitsEarly(t *testing.T) {
	c, w, s := manual(t, Options{MaxPending: 4})
	for i := range 6 {
		mustSubmit(t, c, newMsg(msg.ID(50+i), "1", "2"))
	}
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "accepted", "accepted", "accepted", "accepted", "accepted", "receipt", "accepted", "receipt")
	if evs[5].id != 50 || evs[7].id != 51 || evs[5].rcpt.Done != t0 {
		t.Errorf("early receipts %+v %+v", evs[5], evs[7])
	}
	k := c.Counters()
	if k.EarlyReceipts != 2 || k.Pending != 4 {
		t.Errorf("counters %+v", k)
	}
	w.step(t0 + int64(time.Second))
	evs = s.take()
	equalKinds(t, evs, "receipt", "receipt", "receipt", "receipt")
	if evs[0].id != 52 || evs[3].id != 55 {
		t.Errorf("order %v..%v", evs[0].id, evs[3].id)
	}
}

func TestFullRing(t *testing.T) {
	c, err := New("sim", Options{Queue: 4, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	early := newMsg(1, "1", "2")
	if c.Submit(early) || c.Up() {
		t.Fatal("Submit or Up true before Start")
	}
	early.Release()
	if err := c.Start(newRecSink()); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		mustSubmit(t, c, newMsg(msg.ID(i), "1", "2"))
	}
	extra := newMsg(9, "1", "2")
	if c.Submit(extra) {
		t.Fatal("Submit on a full ring = true")
	}
	if c.Submit(nil) {
		t.Fatal("Submit(nil) = true")
	}
	if k := c.Counters(); k.Full != 1 {
		t.Errorf("full %d, want 1", k.Full)
	}
	if st := c.Stats(); st.Queued != 4 {
		t.Errorf("queued %d", st.Queued)
	}
	extra.Release() // still ours after a refusal
}

func TestHoldBoundIsBackpressure(t *testing.T) {
	c, w, s := manual(t, Options{Queue: 2, Latency: time.Second, ReceiptDelay: ReceiptsAtOnce})
	for i := range 2 {
		mustSubmit(t, c, newMsg(msg.ID(i), "1", "2"))
	}
	w.step(t0) // both into the latency hold
	for i := range 2 {
		mustSubmit(t, c, newMsg(msg.ID(2+i), "1", "2"))
	}
	w.step(t0) // hold full: the ring keeps them
	if c.Submit(newMsg(9, "1", "2")) {
		t.Fatal("Submit = true with ring and hold full")
	}
	if st := c.Stats(); st.Queued != 4 || st.Submitted != 2 {
		t.Errorf("stats %+v", st)
	}
	w.step(t0 + int64(time.Second))
	equalKinds(t, s.take(), "accepted", "receipt", "accepted", "receipt")
	if st := c.Stats(); st.Submitted != 4 || st.Queued != 2 {
		t.Errorf("stats after release %+v", st)
	}
}

// The rest drive the real worker goroutine, with a fake clock moved by
// hand and Poke; waits are bounded only by the failsafe.

func TestStopDrains(t *testing.T) {
	clk := newFakeClock()
	c, err := New("sim", Options{Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	s := newRecSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	if !c.Up() {
		t.Fatal("Up false after Start")
	}
	if err := c.Start(s); err == nil {
		t.Error("second Start succeeded")
	}
	for i := range 3 {
		mustSubmit(t, c, newMsg(msg.ID(i), "1", "2"))
	}
	s.waitCount(t, "accepted", 3)

	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(t.Context()) }()
	waitFor(t, "the gate to close", func() bool { return !c.Up() })
	late := newMsg(99, "1", "2")
	if c.Submit(late) {
		t.Fatal("Submit accepted during Stop")
	}
	late.Release()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v with receipts still pending", err)
	default:
	}
	clk.add(time.Second)
	c.Poke()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(failsafe):
		t.Fatal("failsafe: Stop did not return")
	}
	if n := s.count("receipt"); n != 3 {
		t.Errorf("%d receipts, want 3", n)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := c.Start(s); err == nil {
		t.Error("Start after Stop succeeded")
	}
	if k := c.Counters(); k.Shutdown != 0 || k.Pending != 0 {
		t.Errorf("counters %+v", k)
	}
}

func TestStopAtDeadline(t *testing.T) {
	clk := newFakeClock()
	c, err := New("sim", Options{Queue: 2, Latency: time.Hour, Clock: clk.now, ReceiptDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s := newRecSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	// One accepted (receipt pending), two in the latency hold, two left in
	// the ring because the hold is full, one of them cancelled.
	mustSubmit(t, c, newMsg(1, "1", "2"))
	waitFor(t, "the first pop", func() bool { return c.Stats().Submitted == 1 })
	clk.add(time.Hour)
	c.Poke()
	s.waitCount(t, "accepted", 1)
	for i := range 2 {
		mustSubmit(t, c, newMsg(msg.ID(10+i), "1", "2"))
	}
	waitFor(t, "the hold to fill", func() bool { return c.Counters().Held == 2 })
	ringed := newMsg(20, "1", "2")
	mustSubmit(t, c, ringed)
	cancelled := newMsg(21, "1", "2")
	mustSubmit(t, c, cancelled)
	if !cancelled.Cancel() {
		t.Fatal("cancel failed")
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop = %v, want context.Canceled", err)
	}
	var failed, deleted, receipts int
	for _, e := range s.take() {
		switch {
		case e.kind == "failed" && e.state == msg.StateUnknown && e.status == connector.StatusShutdown:
			failed++
		case e.kind == "failed" && e.state == msg.StateDeleted && e.id == 21:
			deleted++
		case e.kind == "receipt":
			receipts++
			if e.id != 1 || e.rcpt.Done != clk.now() || e.state != msg.StateDelivered {
				t.Errorf("receipt at stop %+v", e.rcpt)
			}
		}
	}
	if failed != 3 || deleted != 1 || receipts != 1 {
		t.Errorf("failed %d deleted %d receipts %d, want 3 1 1", failed, deleted, receipts)
	}
	k := c.Counters()
	st := c.Stats()
	if k.Shutdown != 3 || k.Deleted != 1 || k.Held != 0 || k.Pending != 0 || st.Queued != 0 {
		t.Errorf("counters %+v stats %+v", k, st)
	}
	if st.Submitted != st.Accepted+st.Expired+k.Deleted+k.Shutdown {
		t.Errorf("outcomes do not add up: %+v %+v", st, k)
	}
}

func TestStopBeforeStart(t *testing.T) {
	c, err := New("sim", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(newRecSink()); err == nil {
		t.Error("Start after Stop succeeded")
	}
	if err := c.Start(nil); err == nil {
		t.Error("Start(nil) succeeded")
	}
}

func TestPokeDrivesTime(t *testing.T) {
	clk := newFakeClock()
	c, err := New("sim", Options{Clock: clk.now, Latency: time.Minute, ReceiptDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s := newRecSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(t.Context())
	mustSubmit(t, c, newMsg(1, "1", "2"))
	waitFor(t, "the pop", func() bool { return c.Stats().Submitted == 1 })
	clk.add(time.Minute)
	c.Poke()
	s.waitCount(t, "accepted", 1)
	clk.add(time.Hour)
	c.Poke()
	s.waitCount(t, "receipt", 1)
	if e := s.take(); e[1].rcpt.Done != t0+int64(time.Minute+time.Hour) {
		t.Errorf("done %d", e[1].rcpt.Done)
	}
}

// A message that asks for no final receipt gets its outcome with the
// acceptance (FinalState, FinalErr, FinalAt) and no Receipt later; the
// outcome is still counted.
func TestNoReceiptAskedDecidesAtAcceptance(t *testing.T) {
	c, w, s := manual(t, Options{Outcomes: [NumOutcomes]int{Undeliverable: 1}})
	m := newMsg(5, "1", "2")
	m.RegisteredDelivery = 0x00
	mustSubmit(t, c, m)
	w.step(t0)
	evs := s.take()
	equalKinds(t, evs, "accepted")
	if evs[0].state != msg.StateUndeliverable || evs[0].rcpt.Err != DefaultErrorCodes[Undeliverable] ||
		evs[0].rcpt.Done != t0+int64(DefaultReceiptDelay) {
		t.Fatalf("accepted with final %v err %d at %d", evs[0].state, evs[0].rcpt.Err, evs[0].rcpt.Done)
	}
	w.step(t0 + int64(time.Hour))
	equalKinds(t, s.take())
	k, st := c.Counters(), c.Stats()
	if k.Outcomes[Undeliverable] != 1 || k.Pending != 0 || st.Receipts != 0 {
		t.Fatalf("counters %+v stats %+v", k, st)
	}
}
