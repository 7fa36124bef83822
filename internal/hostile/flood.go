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
)

// floodResult is one flooding connection.
type floodResult struct {
	written  int64
	closedAt time.Duration // since the flood started; 0 = still open at its end
	err      error         // dial or prelude failure
}

// flood opens n connections from ip; on each it runs prelude (nil: none),
// then writes payload back to back for d without ever reading. It returns
// each connection's result and how long the flood lasted.
func flood(e *env, ip string, n int, d time.Duration, prelude func(net.Conn) error, payload []byte) ([]floodResult, time.Duration) {
	out := make([]floodResult, n)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := range out {
		wg.Go(func() {
			fr := &out[i]
			c, err := e.srv.dial(e.ctx, ip)
			if err != nil {
				fr.err = err
				return
			}
			defer c.Close()
			if prelude != nil {
				if fr.err = prelude(c); fr.err != nil {
					return
				}
			}
			_ = c.SetWriteDeadline(end)
			stop := context.AfterFunc(e.ctx, func() { _ = c.SetWriteDeadline(time.Now()) })
			defer stop()
			for time.Now().Before(end) && e.ctx.Err() == nil {
				w, err := c.Write(payload)
				fr.written += int64(w)
				if err != nil {
					if !isTimeout(err) { // reset or broken pipe: the server closed it
						fr.closedAt = time.Since(start)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	return out, time.Since(start)
}

// reportFlood adds the attacker-side figures of a flood that lasted d.
func reportFlood(r *Result, frs []floodResult, d time.Duration) {
	var written int64
	closed, first := 0, time.Duration(0)
	for _, fr := range frs {
		if fr.err != nil {
			r.check("flood connection set up", false, "%v", fr.err)
			continue
		}
		written += fr.written
		if fr.closedAt > 0 {
			closed++
			if first == 0 || fr.closedAt < first {
				first = fr.closedAt
			}
		}
	}
	r.figure("attacker wrote", "%s in %s (%.1f MiB/s)", mib(written), seconds(d), float64(written)/MiB/d.Seconds())
	closedText := fmt.Sprintf("%d of %d", closed, len(frs))
	if closed > 0 {
		closedText += ", the first after " + seconds(first)
	}
	r.figure("closed by the server during the flood", "%s", closedText)
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
