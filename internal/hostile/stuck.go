package hostile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

const (
	stuckMO = 50000
	// injectors are the concurrent POST /v1/mo clients. Each answer waits for
	// its audit line's and its held item's group commits, so the rate grows
	// with company: on a quiet 2-core machine 32 clients injected 4,552/s (short of
	// 50,000 in injectTime), 64 clients 10,583/s.
	injectors  = 64
	injectTime = 10 * time.Second // bound on injecting them all
	// stuckClose is how long after the first MO the stuck session must be
	// closed when the config has no slow_consumer_timeout; with one, the
	// bound is that timeout plus stuckMargin (timer ticks, the first
	// deliver_sm's way out).
	stuckClose   = 10 * time.Second
	stuckMargin  = 5 * time.Second
	drainTime    = 15 * time.Second // bound on the healthy receiver collecting them all
	moTextPrefix = "hs"             // MO i carries the text "hs<i>"
)

// stuckReceiver binds a receiver as demo that never reads, injects stuckMO
// MO for demo through the admin API, waits for the server to close the
// stuck session as a slow consumer, then counts what a healthy receiver
// bound afterwards gets.
func stuckReceiver(e *env, r *Result) {
	stuck, err := e.srv.dial(e.ctx, ipStuck)
	if err != nil {
		r.Err = err
		return
	}
	defer stuck.Close()
	if st, err := bindOn(stuck, codec.BindReceiverID, demoUser, demoPass, 5*time.Second); err != nil || st != codec.StatusOK {
		r.Err = fmt.Errorf("stuck receiver bind: %v %v", st, err)
		return
	}
	isStuck := func(c closeEvent) bool { return strings.HasPrefix(c.remote, ipStuck+":") }

	start := time.Now()
	accepted, refused, injectErr := injectMO(e, start.Add(injectTime))
	injected := time.Since(start)
	r.figure("MO injected", "%d accepted of %d in %s (%.0f/s)%s", accepted, stuckMO, seconds(injected),
		float64(accepted)/injected.Seconds(), refusedText(refused, injectErr))
	r.check(fmt.Sprintf("%d MO accepted by POST /v1/mo", stuckMO), accepted == stuckMO, "%d%s", accepted, refusedText(refused, injectErr))

	bound := stuckClose
	if t := e.srv.cfg.slowConsumer; t > 0 {
		bound = t + stuckMargin
	}
	wait := max(time.Until(start.Add(bound)), 2*time.Second)
	ctx, cancel := context.WithTimeout(e.ctx, wait)
	ev, closed := e.srv.logs.waitClose(ctx, e.mark, isStuck)
	cancel()
	if closed {
		r.check("stuck session closed as slow_consumer", ev.reason == "slow_consumer",
			"closed with reason %s after %s", ev.reason, seconds(ev.at.Sub(start)))
	} else {
		r.check("stuck session closed as slow_consumer", false, "still open %s after the first MO", seconds(time.Since(start)))
		// Close it from this side so that the next receiver can be measured.
		stuck.Close()
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		e.srv.logs.waitClose(ctx, e.mark, isStuck)
		cancel()
	}

	got, dups, other, took, err := drainMO(e, accepted)
	text := fmt.Sprintf("%d of %d distinct in %s, %d duplicates, %d other deliver_sm", got, accepted, seconds(took), dups, other)
	if err != nil {
		text += "; " + err.Error()
	}
	r.figure("next receiver got", "%s", text)
	r.check("every accepted MO reaches the next receiver", accepted > 0 && got == accepted, "%s", text)
}

func refusedText(refused map[string]int, err error) string {
	s := ""
	if len(refused) > 0 {
		s += "; refused: " + histogram(refused)
	}
	if err != nil {
		s += "; " + err.Error()
	}
	return s
}

// injectMO posts stuckMO MO with distinct texts until deadline. A 429 or
// 503 is retried after a short pause (the server pushing back is allowed);
// any other refusal is counted.
func injectMO(e *env, deadline time.Time) (int, map[string]int, error) {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: injectors, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	url := e.srv.adminURL + "/v1/mo"
	var next, accepted atomic.Int64
	var mu sync.Mutex
	refused := make(map[string]int)
	var firstErr error
	var wg sync.WaitGroup
	for range injectors {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= stuckMO {
					return
				}
				body := `{"source_addr":"4917000","destination_addr":"1234","short_message":"` + moTextPrefix + strconv.FormatInt(i, 10) + `"}`
				for {
					if time.Now().After(deadline) || e.ctx.Err() != nil {
						return
					}
					status, err := post(client, url, body)
					if err == nil && status == http.StatusAccepted {
						accepted.Add(1)
						break
					}
					if err == nil && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
						time.Sleep(5 * time.Millisecond)
						continue
					}
					mu.Lock()
					if err != nil {
						refused["error"]++
						if firstErr == nil {
							firstErr = err
						}
					} else {
						refused[strconv.Itoa(status)]++
					}
					mu.Unlock()
					break
				}
			}
		})
	}
	wg.Wait()
	return int(accepted.Load()), refused, firstErr
}

func post(client *http.Client, url, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// drainMO binds a healthy receiver as demo and answers every deliver_sm
// until it has want distinct MO of this run or drainTime has passed. It
// returns the distinct count, duplicates, other deliver_sm and the time.
func drainMO(e *env, want int) (got, dups, other int, took time.Duration, err error) {
	start := time.Now()
	c, err := e.srv.dial(e.ctx, ipHealthy)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer c.Close()
	st, err := bindOn(c, codec.BindReceiverID, demoUser, demoPass, 5*time.Second)
	if err == nil && st != codec.StatusOK {
		err = fmt.Errorf("bind refused: %v", st)
	}
	if err != nil {
		return 0, 0, 0, time.Since(start), fmt.Errorf("healthy receiver: %w", err)
	}
	seen := make([]bool, stuckMO)
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 16<<10)
	_ = c.SetDeadline(start.Add(drainTime))
	var buf []byte
	var sm codec.DeliverSM
	for got < want {
		if br.Buffered() == 0 {
			if err = bw.Flush(); err != nil {
				break
			}
		}
		var h codec.Header
		var f []byte
		h, f, err = readFrame(br, buf)
		buf = f
		if err != nil {
			break
		}
		if h.CommandID.HasResponse() {
			if _, err = bw.Write(smpptest.Frame(h.CommandID.Response(), 0, h.Sequence, respBody(h.CommandID))); err != nil {
				break
			}
		}
		if h.CommandID != codec.DeliverSMID {
			continue
		}
		sm.Reset()
		i, ok := -1, false
		if sm.Decode(f[codec.HeaderLen:]) == nil {
			if rest, cut := bytes.CutPrefix(sm.ShortMessage, []byte(moTextPrefix)); cut {
				n, perr := strconv.Atoi(string(rest))
				i, ok = n, perr == nil && n >= 0 && n < stuckMO
			}
		}
		switch {
		case !ok:
			other++
		case seen[i]:
			dups++
		default:
			seen[i] = true
			got++
		}
	}
	_ = bw.Flush()
	took = time.Since(start)
	if err != nil && isTimeout(err) {
		err = fmt.Errorf("stopped after %s", seconds(drainTime))
	}
	if got == want {
		err = nil
	}
	return got, dups, other, took, err
}
