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

// pipelinedClient drives submit_sm round trips on one bound connection
// without allocating: a pre-encoded batch is written, then exactly as many
// responses are read into a fixed buffer and checked by header.
type pipelinedClient struct {
	nc    net.Conn
	batch []byte
	n     int
	rbuf  []byte
}

func newPipelined(t testing.TB, addr string, depth int) *pipelinedClient {
	t.Helper()
	c, err := smpptest.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if h, _, err := c.Bind(codec.BindTransmitterID, "user", "secret", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	p := &pipelinedClient{nc: c.Conn, n: depth, rbuf: make([]byte, 64<<10)}
	for i := 0; i < depth; i++ {
		p.batch = append(p.batch, smpptest.Frame(codec.SubmitSMID, 0, uint32(i+1), smpptest.SubmitBody("12345", "4917012345678", "alloc test message"))...)
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
				if codec.CommandID(binary.BigEndian.Uint32(p.rbuf[off+4:])) != codec.SubmitSMRespID ||
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
