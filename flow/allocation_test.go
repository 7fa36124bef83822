//go:build !race

package flow

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
)

func TestHandleSubmitAllocs(t *testing.T) {
	th, p := allocHub(t)
	plain := sm("12345", "4915112345678", "hello world")
	udh := sm("12345", "4915112345678", "\x05\x00\x03\x07\x02\x01part one")
	udh.ESMClass = codec.ESMClassUDHI
	timed := sm("12345", "4915112345678", "hello")
	timed.ValidityPeriod, timed.ScheduleDeliveryTime = []byte("000001000000000R"), []byte("000000000100000R")
	ds := &codec.DataSM{SourceAddr: []byte("1"), DestinationAddr: []byte("2")}
	ds.TLVs.Add(codec.TagMessagePayload, make([]byte, 300))
	multi := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("x")}
	multi.Dests.AddSME(1, 1, []byte("491"))
	multi.Dests.AddSME(1, 1, []byte("492"))
	multi.Dests.AddDL([]byte("list"))
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65), Unsuccess: new(codec.UnsuccessList)}
	for _, c := range []struct {
		name string
		req  engine.SubmitRequest
	}{
		{"submit_sm", engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: plain, Principal: p.Bind}},
		{"UDH part", engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: udh, Principal: p.Bind}},
		{"times", engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: timed, Principal: p.Bind}},
		{"data_sm", engine.SubmitRequest{Command: codec.DataSMID, DataSM: ds, Principal: p.Bind}},
		{"submit_multi", engine.SubmitRequest{Command: codec.SubmitMultiID, SubmitMulti: multi, Principal: p.Bind}},
	} {
		req := c.req
		n := testing.AllocsPerRun(1000, func() {
			res.MessageID, res.Status = res.MessageID[:0], 0
			res.Unsuccess.Reset()
			th.HandleSubmit(&req, res)
			if res.Status != codec.StatusOK {
				t.Fatalf("%s: %v", c.name, res.Status)
			}
		})
		if n != 0 {
			t.Errorf("%s: HandleSubmit allocates %.2f times", c.name, n)
		}
	}
}

func TestReceiptPathAllocs(t *testing.T) {
	th, p := allocHub(t)
	for _, c := range th.conns {
		c.auto = false
	}
	r := sm("12345", "4915112345678", "hello world")
	r.RegisteredDelivery = 1
	st, id := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	rid := mustID(t, id)
	rc := &msg.Receipt{ID: rid, State: msg.StateDelivered, Done: th.clock.Now().UnixNano()}
	n := testing.AllocsPerRun(1000, func() { th.Receipt(rc) })
	if n != 0 {
		t.Errorf("Receipt allocates %.2f times", n)
	}
	mo := &msg.Inbound{Connector: "a", Source: []byte("4917"), Dest: []byte("1234"), ShortMessage: []byte("hi")}
	n = testing.AllocsPerRun(1000, func() { th.MO(mo) })
	if n != 0 {
		t.Errorf("MO allocates %.2f times", n)
	}
}

// pipelined drives submit_sm round trips on one bound connection without
// allocating: a pre-encoded window of requests is written, then exactly as
// many responses are read into a fixed buffer and checked by header.
type pipelined struct {
	nc    net.Conn
	batch []byte
	n     int
	rbuf  []byte
}

func newPipelined(t testing.TB, e *env, user string, depth int) *pipelined {
	t.Helper()
	c := e.bind(t, codec.BindTransmitterID, user)
	p := &pipelined{nc: c.Conn, n: depth, rbuf: make([]byte, 64<<10)}
	for i := range depth {
		p.batch = append(p.batch, smpptest.Frame(codec.SubmitSMID, 0, uint32(i+1),
			smpptest.SubmitBody("12345", "4917012345678", "allocation test message"))...)
	}
	return p
}

// roundTimeout bounds one window's round trip; it is longer than the
// alloc env's QueueFullWait, so a stuck connector shows as ESME_RMSGQFUL.
const roundTimeout = time.Minute

// run does rounds windows; it returns the first protocol error.
func (p *pipelined) run(rounds int) error {
	for range rounds {
		// Each round its own deadline: the one the bind's read left would
		// otherwise end a run that a loaded machine makes slow.
		if err := p.nc.SetReadDeadline(time.Now().Add(roundTimeout)); err != nil {
			return err
		}
		if _, err := p.nc.Write(p.batch); err != nil {
			return err
		}
		got, have := 0, 0
		for got < p.n {
			m, err := p.nc.Read(p.rbuf[have:])
			if err != nil {
				return err
			}
			have += m
			off := 0
			for have-off >= codec.HeaderLen {
				l := int(binary.BigEndian.Uint32(p.rbuf[off:]))
				if have-off < l {
					break
				}
				if codec.CommandID(binary.BigEndian.Uint32(p.rbuf[off+4:])) != codec.SubmitSMRespID {
					return errors.New("unexpected PDU")
				}
				if st := codec.Status(binary.BigEndian.Uint32(p.rbuf[off+8:])); st != codec.StatusOK {
					return errors.New("submit_sm_resp " + st.String())
				}
				off += l
				got++
			}
			have = copy(p.rbuf, p.rbuf[off:have])
		}
	}
	return nil
}

// TestAllocsPerMessageEndToEnd is issue 5's acceptance figure: one million
// submit_sm through the engine, the hub (admission, routing, storage) and
// the ring into the connector, answered submit_sm_resp, with fewer than
// 0.05 heap allocations per message process-wide (runtime.MemStats).
func TestAllocsPerMessageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a million messages")
	}
	e := startAllocEnv(t)
	const conns, depth, total = 2, 100, 1_000_000
	clients := make([]*pipelined, conns)
	for i := range clients {
		clients[i] = newPipelined(t, e, "alice", depth)
	}
	drive := func(perConn int) {
		var wg sync.WaitGroup
		errs := make([]error, conns)
		for i, c := range clients {
			wg.Go(func() { errs[i] = c.run(perConn / depth) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	drive(50_000) // warm up: pools, rings, store slots
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	drive(total / conns)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	per := float64(mallocs) / total
	t.Logf("%d messages in %v (%.0f/s, %d waits for the connector's room): %d mallocs, %.5f per message",
		total, elapsed.Round(time.Millisecond), total/elapsed.Seconds(), e.srv.Stats().QueueWaits, mallocs, per)
	if per >= 0.05 {
		t.Fatalf("%.5f heap allocations per message, want < 0.05", per)
	}
	if s := e.stats(); s.SubmitsAccepted < total {
		t.Fatalf("accepted %d", s.SubmitsAccepted)
	}
}

// discard counts deferred answers and drops them (the engine's Respond).
type discard struct{ n atomic.Int64 }

func (d *discard) Respond(engine.SubmitToken, codec.Status, []byte) error {
	d.n.Add(1)
	return nil
}

// allocWindow is the most answers TestHandleSubmitAllocsDisk leaves
// waiting for a commit, as a session's window would.
const allocWindow = 256

// TestHandleSubmitAllocsDisk is TestHandleSubmitAllocs on the durable disk
// store with sync = "always": the record and the message's binary form go
// to the log, the answer waits for the group commit in the preallocated
// FIFO, the commit answers it; none of it allocates in steady state.
func TestHandleSubmitAllocsDisk(t *testing.T) {
	st, err := disk.Open(disk.Options{Dir: t.TempDir(), Sync: wal.SyncAlways, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	out := &discard{}
	th := newHub(t, hubSpec{conns: 2, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 0.01}},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}},
	}, mod: func(o *Options) {
		o.Messages, o.Committer, o.Durable = st, st.Committer(), true
	}, dmod: func(o *delivery.Options) { o.Messages, o.Holds, o.Durable = st, st.Holds(), true }})
	for _, c := range th.conns {
		c.auto = true
	}
	th.Attach(out)
	if err := th.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = th.Stop(t.Context()) })
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	plain := sm("12345", "4915112345678", "hello world")
	req := engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: plain, Principal: p.Bind}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	deferred := 0
	run := func() {
		res.MessageID, res.Status, res.Deferred = res.MessageID[:0], 0, false
		th.HandleSubmit(&req, res)
		if res.Status != codec.StatusOK {
			t.Fatalf("submit_sm: %v", res.Status)
		}
		if res.Deferred {
			deferred++
		}
		// An ESME's window bounds the answers (and the messages handed
		// over after them) waiting for a commit: the pools then reach a
		// steady state, whatever the disk's speed.
		for int64(deferred)-out.n.Load() >= allocWindow {
			runtime.Gosched()
		}
	}
	for range 5000 { // warm the store's index and the pools
		run()
	}
	if n := testing.AllocsPerRun(2000, run); n != 0 {
		t.Errorf("HandleSubmit on the disk store allocates %.2f times", n)
	}
	if deferred == 0 {
		t.Fatal("no answer waited for the commit: the gate did not cover the deferred path")
	}
	eventually(t, "every deferred answer sent", func() bool { return out.n.Load() == int64(deferred) })
}
