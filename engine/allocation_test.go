//go:build !race

package engine

import (
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
)

// pipelinedClient drives request/response round trips on one bound
// connection without allocating: a pre-encoded batch is written, then exactly
// as many responses are read into a fixed buffer and checked by header.
type pipelinedClient struct {
	nc    net.Conn
	batch []byte
	n     int
	resp  codec.CommandID
	rbuf  []byte
}

// newPipelined binds a transmitter and prepares depth submit_sm requests.
func newPipelined(t testing.TB, addr string, depth int) *pipelinedClient {
	t.Helper()
	return newPipelinedWith(t, addr, depth, codec.SubmitSMRespID, func(seq uint32) []byte {
		return smpptest.Frame(codec.SubmitSMID, 0, seq, smpptest.SubmitBody("12345", "4917012345678", "alloc test message"))
	})
}

// newPipelinedWith binds a transmitter and prepares depth requests built by
// frame, each expecting resp with ESME_ROK.
func newPipelinedWith(t testing.TB, addr string, depth int, resp codec.CommandID, frame func(seq uint32) []byte) *pipelinedClient {
	t.Helper()
	c, err := smpptest.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if h, _, err := c.Bind(codec.BindTransmitterID, "user", "secret", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	p := &pipelinedClient{nc: c.Conn, n: depth, resp: resp, rbuf: make([]byte, 64<<10)}
	for i := 0; i < depth; i++ {
		p.batch = append(p.batch, frame(uint32(i+1))...)
	}
	return p
}

// run does rounds×depth round trips; it returns the first protocol error.
func (p *pipelinedClient) run(rounds int) error {
	for r := 0; r < rounds; r++ {
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
				if codec.CommandID(binary.BigEndian.Uint32(p.rbuf[off+4:])) != p.resp ||
					binary.BigEndian.Uint32(p.rbuf[off+8:]) != 0 {
					return io.ErrUnexpectedEOF
				}
				off += l
				got++
			}
			have = copy(p.rbuf, p.rbuf[off:have])
		}
	}
	return nil
}

// TestAllocsPerSubmitRoundTrip drives 1,000,000 submit_sm → submit_sm_resp
// round trips through an in-process server (4 connections, 64 in flight
// each) and requires fewer than 0.01 heap allocations per PDU in steady
// state, counted process-wide from runtime.MemStats (client included).
func TestAllocsPerSubmitRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a million PDUs")
	}
	ids, err := msg.NewIDGen(1)
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, func(o *Options) {
		o.EnquireLinkInterval = time.Hour
		o.InactivityTimeout = time.Hour
		o.IDs = ids // the production id source (cmd/smppd wires the same)
	})
	const conns, depth, total = 4, 64, 1_000_000
	clients := make([]*pipelinedClient, conns)
	for i := range clients {
		clients[i] = newPipelined(t, ts.addr, depth)
	}
	drive := func(perConn int) {
		var wg sync.WaitGroup
		errs := make([]error, conns)
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.run(perConn / depth)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	drive(20_000) // warm up: pools, buffers, wheel slots
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	drive(total / conns)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	perPDU := float64(mallocs) / total
	t.Logf("%d submit_sm round trips in %v (%.0f/s): %d mallocs, %.5f per PDU",
		total, elapsed.Round(time.Millisecond), total/elapsed.Seconds(), mallocs, perPDU)
	if perPDU >= 0.01 {
		t.Fatalf("%.5f heap allocations per PDU, want < 0.01", perPDU)
	}
}

func TestMPSCAllocs(t *testing.T) {
	q, err := ring.NewMPSC[event](64)
	if err != nil {
		t.Fatal(err)
	}
	ev := event{kind: evDeliver}
	if n := testing.AllocsPerRun(1000, func() {
		q.TryPush(ev)
		q.TryPop()
	}); n != 0 {
		t.Fatalf("%v allocs per push/pop", n)
	}
}

// allocManage is a ManageHandler that, like a real one, fills the result
// from its own state without allocating.
type allocManage struct{}

func (allocManage) HandleQuery(req *ManageRequest, res *QueryResult) {
	if req.Principal == nil || len(req.Query.MessageID) == 0 {
		res.Status = codec.StatusSysErr
		return
	}
	res.FinalDate = append(res.FinalDate, "250102030405000+"...)
	res.State, res.ErrorCode = codec.MessageStateDelivered, 0
}

func (allocManage) HandleCancel(*ManageRequest) codec.Status  { return codec.StatusOK }
func (allocManage) HandleReplace(*ManageRequest) codec.Status { return codec.StatusOK }

// allocMulti answers submit_multi with every destination but the first in
// the unsuccess list.
type allocMulti struct{ ids IDSource }

func (h allocMulti) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	res.MessageID = h.ids.Append(res.MessageID)
	if m := req.SubmitMulti; m != nil {
		for i := 1; i < m.Dests.NumDests(); i++ {
			d := m.Dests.Dest(i)
			res.Unsuccess.Add(codec.Unsuccess{TON: d.TON, NPI: d.NPI, Addr: d.Addr, Status: codec.StatusInvDstAdr})
		}
	}
}

// TestAllocsManageAndMultiRoundTrip: query_sm through a ManageHandler,
// cancel_sm, and submit_multi with two unsuccess entries allocate nothing
// per round trip (process-wide count, client included).
func TestAllocsManageAndMultiRoundTrip(t *testing.T) {
	ids, err := msg.NewIDGen(1)
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, func(o *Options) {
		o.EnquireLinkInterval = time.Hour
		o.InactivityTimeout = time.Hour
		o.Manage = allocManage{}
		o.Submit = allocMulti{ids: ids}
	})
	const depth = 16
	query := newPipelinedWith(t, ts.addr, depth, codec.QuerySMRespID, func(seq uint32) []byte {
		q := codec.QuerySM{MessageID: []byte("0123456789abcdef"), SourceAddr: []byte("4917")}
		f, err := q.Append(nil, codec.Header{CommandID: codec.QuerySMID, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
	cancel := newPipelinedWith(t, ts.addr, depth, codec.CancelSMRespID, func(seq uint32) []byte {
		c := codec.CancelSM{MessageID: []byte("0123456789abcdef"), SourceAddr: []byte("4917"), DestinationAddr: []byte("4918")}
		f, err := c.Append(nil, codec.Header{CommandID: codec.CancelSMID, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
	multi := newPipelinedWith(t, ts.addr, depth, codec.SubmitMultiRespID, func(seq uint32) []byte {
		var sm codec.SubmitMulti
		sm.SourceAddr = []byte("4917")
		for _, d := range []string{"4910", "4911", "4912"} {
			sm.Dests.AddSME(1, 1, []byte(d))
		}
		sm.ShortMessage = []byte("fan out")
		f, err := sm.Append(nil, codec.Header{CommandID: codec.SubmitMultiID, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
	for _, tc := range []struct {
		name string
		p    *pipelinedClient
	}{{"query_sm", query}, {"cancel_sm", cancel}, {"submit_multi", multi}} {
		if err := tc.p.run(20); err != nil { // warm up buffers and pools
			t.Fatalf("%s: %v", tc.name, err)
		}
		var runErr error
		n := testing.AllocsPerRun(200, func() {
			if err := tc.p.run(1); err != nil && runErr == nil {
				runErr = err
			}
		})
		if runErr != nil {
			t.Fatalf("%s: %v", tc.name, runErr)
		}
		if n != 0 {
			t.Fatalf("%s: %v allocations per batch of %d round trips, want 0", tc.name, n, depth)
		}
	}
}
