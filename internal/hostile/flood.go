package hostile

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

const (
	floodConns    = 4
	floodBatch    = 4096 // 16-byte PDUs per write: 64 KiB
	prebindTime   = 8 * time.Second
	bindFloodTime = 5 * time.Second
	// reconnectPause is how long a flooder whose connection the server
	// closed waits before the next: the flood lasts its whole time
	// without turning into a connection flood that exhausts ports.
	reconnectPause = 10 * time.Millisecond
)

// floodWorker is one flooder's tally over its successive connections.
type floodWorker struct {
	conns      int // connections opened
	closed     int // of which the server closed
	firstClose time.Duration
	written    int64
	failures   int   // dials or preludes that failed
	firstErr   error // the first of them
}

// flood keeps n connections from ip flooding for d: on each it runs
// prelude (nil: none), then writes payload back to back without ever
// reading; a connection the server closes is replaced after
// reconnectPause. It returns each flooder's tally and how long it lasted.
func flood(e *env, ip string, n int, d time.Duration, prelude func(net.Conn) error, payload []byte) ([]floodWorker, time.Duration) {
	out := make([]floodWorker, n)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := range out {
		wg.Go(func() {
			fw := &out[i]
			for time.Now().Before(end) && e.ctx.Err() == nil {
				if floodOnce(e, fw, ip, start, end, prelude, payload) {
					time.Sleep(reconnectPause)
				}
			}
		})
	}
	wg.Wait()
	return out, time.Since(start)
}

// floodOnce floods one connection until end or until it breaks; it
// reports whether a replacement should wait first.
func floodOnce(e *env, fw *floodWorker, ip string, start, end time.Time, prelude func(net.Conn) error, payload []byte) bool {
	fail := func(err error) bool {
		fw.failures++
		if fw.firstErr == nil {
			fw.firstErr = err
		}
		return true
	}
	c, err := e.srv.dial(e.ctx, ip)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	fw.conns++
	closedByServer := func() bool {
		fw.closed++
		if fw.firstClose == 0 {
			fw.firstClose = time.Since(start)
		}
		return true
	}
	if prelude != nil {
		if err := prelude(c); err != nil {
			if isClosedByPeer(err) {
				return closedByServer()
			}
			return fail(err)
		}
	}
	_ = c.SetWriteDeadline(end)
	stop := context.AfterFunc(e.ctx, func() { _ = c.SetWriteDeadline(time.Now()) })
	defer stop()
	for {
		w, err := c.Write(payload)
		fw.written += int64(w)
		if err != nil {
			if isTimeout(err) { // the flood's end (or an abort), not the server
				return false
			}
			return closedByServer()
		}
	}
}

// reportFlood adds the attacker-side figures of a flood that lasted d.
func reportFlood(r *Result, fws []floodWorker, d time.Duration) {
	var t floodWorker
	for _, fw := range fws {
		t.conns += fw.conns
		t.closed += fw.closed
		t.written += fw.written
		t.failures += fw.failures
		if fw.firstClose > 0 && (t.firstClose == 0 || fw.firstClose < t.firstClose) {
			t.firstClose = fw.firstClose
		}
		if t.firstErr == nil {
			t.firstErr = fw.firstErr
		}
	}
	r.figure("attacker wrote", "%s in %s (%.1f MiB/s) over %d connections, %d at a time",
		mib(t.written), seconds(d), float64(t.written)/MiB/d.Seconds(), t.conns, len(fws))
	closedText := fmt.Sprintf("%d of %d", t.closed, t.conns)
	if t.closed > 0 {
		closedText += ", the first after " + seconds(t.firstClose)
	}
	r.figure("closed by the server", "%s", closedText)
	if t.failures > 0 {
		r.figure("connections that failed to start flooding", "%d, the first: %v", t.failures, t.firstErr)
	}
	r.check("the flood ran", t.conns >= len(fws) && t.written > 0, "%d connections, %s written", t.conns, mib(t.written))
}

// prebindFlood: 16-byte enquire_link_resp PDUs before any bind.
func prebindFlood(e *env, r *Result) {
	frs, d := flood(e, ipPrebind, floodConns, prebindTime, nil, repeatFrame(codec.EnquireLinkRespID, floodBatch))
	reportFlood(r, frs, d)
}

// bindingFlood: a bind_transmitter, then enquire_link without waiting for
// the bind_resp (demo2's password check is cold on the first bind).
func bindingFlood(e *env, r *Result) {
	bind := smpptest.Frame(codec.BindTransmitterID, 0, 1, smpptest.BindBody(demo2User, demo2Pass, 0x34))
	frs, d := flood(e, ipBinding, floodConns, bindFloodTime, func(c net.Conn) error {
		return writeAll(c, bind, time.Second)
	}, repeatFrame(codec.EnquireLinkID, floodBatch))
	reportFlood(r, frs, d)
}

// boundFlood: one session bound as demo2 (the bind_resp is read), then
// enquire_link back to back, never reading again.
func boundFlood(e *env, r *Result) {
	frs, d := flood(e, ipBound, 1, bindFloodTime, func(c net.Conn) error {
		st, err := bindOn(c, codec.BindTransceiverID, demo2User, demo2Pass, 5*time.Second)
		if err == nil && st != codec.StatusOK {
			err = fmt.Errorf("bind_transceiver as %s refused: %v", demo2User, st)
		}
		return err
	}, repeatFrame(codec.EnquireLinkID, floodBatch))
	reportFlood(r, frs, d)
}
