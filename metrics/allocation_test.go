//go:build !race

package metrics_test

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// TestAllocsPerMessageWithMetrics is the hot-path promise of the metrics:
// submit_sm through the engine, the hub and the simulator (which reports
// acceptance and a receipt for each), with every observer and counter of
// this package in place, stays under the 0.05 heap allocations per message
// that flow's end-to-end test allows without them (runtime.MemStats,
// process-wide).
func TestAllocsPerMessageWithMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("drives 200,000 messages")
	}
	sys := startSystem(t)
	const conns, depth, total = 2, 100, 200_000
	clients := make([]*pipelined, conns)
	for i := range clients {
		clients[i] = newPipelined(t, sys.srv.Addr().String(), depth)
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
	drive(20_000) // warm up: pools, rings, store slots, histogram buckets
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	drive(total / conns)
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / total
	t.Logf("%d messages: %.5f heap allocations per message", total, per)
	if per >= 0.05 {
		t.Fatalf("%.5f heap allocations per message, want < 0.05", per)
	}
	if n := scrape(t, sys.url).value("smppd_submit_response_seconds"); n < total {
		t.Fatalf("submit latency samples %v, want at least %d", n, total)
	}
}

// pipelined writes depth submit_sm at once and reads depth responses into a
// fixed buffer, so the client allocates nothing per message.
type pipelined struct {
	nc    net.Conn
	batch []byte
	n     int
	rbuf  []byte
}

func newPipelined(t testing.TB, addr string, depth int) *pipelined {
	t.Helper()
	c, err := smpptest.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if h, _, err := c.Bind(codec.BindTransmitterID, "bulk", "pw", codec.InterfaceVersion34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	p := &pipelined{nc: c.Conn, n: depth, rbuf: make([]byte, 64<<10)}
	for i := range depth {
		p.batch = append(p.batch, smpptest.Frame(codec.SubmitSMID, 0, uint32(i+1),
			smpptest.SubmitBody("12345", "4917012345678", "allocation test message"))...)
	}
	_ = c.Conn.SetDeadline(time.Time{})
	return p
}

func (p *pipelined) run(rounds int) error {
	for range rounds {
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
				// ESME_RMSGQFUL: the sim's small ring was full (a loaded
				// machine); the refusal path allocates nothing either.
				if st := codec.Status(binary.BigEndian.Uint32(p.rbuf[off+8:])); st != codec.StatusOK && st != codec.StatusMsgQFul {
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
