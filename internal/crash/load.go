package crash

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	redial    = 50 * time.Millisecond // between connection attempts while smppd is down
	drainWait = 5 * time.Second       // at the end of the load: wait this long for the last answers
)

// loadOpts configure the submitting ESMEs.
type loadOpts struct {
	addr     string
	sessions int     // transmitters, each redialling while smppd is down
	window   int     // submits awaiting their answer, per session
	rate     float64 // submits per second over all sessions
}

// load is the transmitters: each submits with registered_delivery = 1 at
// its share of the rate, and books every answer; when its connection
// breaks (a kill), the submits in flight are booked as cut off and it
// redials until stopped.
type load struct {
	o      loadOpts
	b      *book
	cancel context.CancelFunc
	wg     sync.WaitGroup
	binds  atomic.Int64
}

func startLoad(ctx context.Context, o loadOpts, b *book) *load {
	ctx, cancel := context.WithCancel(ctx)
	l := &load{o: o, b: b, cancel: cancel}
	for range o.sessions {
		l.wg.Add(1)
		go l.session(ctx)
	}
	return l
}

// stop ends the submits; each session waits up to drainWait for its
// outstanding answers, then unbinds.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *load) session(ctx context.Context) {
	defer l.wg.Done()
	interval := time.Duration(float64(time.Second) * float64(l.o.sessions) / l.o.rate)
	for ctx.Err() == nil {
		w, err := dialSMPP(ctx, l.o.addr)
		if err == nil {
			if err = w.bind(codec.BindTransmitterID, crashUser, crashPass); err == nil {
				l.binds.Add(1)
				l.submit(ctx, w, interval)
			}
			w.close()
		}
		sleepCtx(ctx, redial)
	}
}

// submit runs one bound connection until ctx ends or the connection breaks.
func (l *load) submit(ctx context.Context, w *wire, interval time.Duration) {
	var mu sync.Mutex
	inFlight := make(map[uint32]int) // sequence -> submit number
	slots := make(chan struct{}, l.o.window)
	dead := make(chan struct{})
	go func() {
		defer close(dead)
		var resp codec.SubmitSMResp
		var mresp codec.SubmitMultiResp
		for {
			h, f, err := w.read()
			if err != nil {
				return
			}
			switch h.CommandID {
			case codec.SubmitSMRespID, codec.SubmitMultiRespID, codec.GenericNackID:
				mu.Lock()
				n, ok := inFlight[h.Sequence]
				delete(inFlight, h.Sequence)
				mu.Unlock()
				if !ok {
					continue
				}
				<-slots
				if h.Status != codec.StatusOK || h.CommandID == codec.GenericNackID {
					l.b.refused(h.Status)
					continue
				}
				if h.CommandID == codec.SubmitMultiRespID {
					if err := mresp.Decode(f[codec.HeaderLen:]); err != nil {
						l.b.refused(codec.StatusSysErr)
						continue
					}
					l.b.ackedMulti(mresp.MessageID, n, multiAcked(n, &mresp.Unsuccess))
					continue
				}
				if err := resp.Decode(f[codec.HeaderLen:]); err != nil {
					l.b.refused(codec.StatusSysErr) // an ESME_ROK we cannot read promises nothing we can check
					continue
				}
				l.b.acked(resp.MessageID, n)
			case codec.DeliverSMID:
				_ = w.reply(h, codec.StatusOK, (&codec.DeliverSMResp{}).Append)
			default:
				if _, end := w.answerHousekeeping(h); end {
					return
				}
			}
		}
	}()

	sm := codec.SM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(crashSource), DestAddrTON: 1, DestAddrNPI: 1,
		RegisteredDelivery: codec.RegisteredDeliveryReceipt}
	var mm codec.SubmitMulti // every 8th submit or so (multiOf)
	text := make([]byte, 0, 32)
	next := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
sending:
	for {
		if d := time.Until(next); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				break sending
			case <-dead:
				break sending
			case <-t.C:
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break sending
		case <-dead:
			break sending
		}
		n, dest := l.b.number()
		text = append(append(text[:0], "crash "...), dest...)
		sm.DestinationAddr, sm.ShortMessage = []byte(dest), text
		cmd, enc := codec.SubmitSMID, encoder(sm.Append)
		if second, ok := multiOf(n); ok {
			mm.Reset()
			mm.SourceAddrTON, mm.SourceAddrNPI, mm.SourceAddr = sm.SourceAddrTON, sm.SourceAddrNPI, sm.SourceAddr
			mm.RegisteredDelivery, mm.ShortMessage = sm.RegisteredDelivery, text
			mm.Dests.AddSME(1, 1, []byte(dest))
			mm.Dests.AddSME(1, 1, []byte(second))
			cmd, enc = codec.SubmitMultiID, mm.Append
		}
		_, err := w.send(cmd, enc, func(seq uint32) {
			mu.Lock()
			inFlight[seq] = n
			mu.Unlock()
		})
		if err != nil {
			break
		}
		// A stalled server does not earn a burst afterwards.
		if next = next.Add(interval); time.Since(next) > time.Second {
			next = time.Now()
		}
	}
	if ctx.Err() != nil {
		// Stopped: collect the last answers, then unbind.
		deadline := time.Now().Add(drainWait)
		for time.Now().Before(deadline) {
			mu.Lock()
			open := len(inFlight)
			mu.Unlock()
			if open == 0 {
				break
			}
			select {
			case <-dead:
				deadline = time.Now()
			case <-time.After(10 * time.Millisecond):
			}
		}
		_, _ = w.send(codec.UnbindID, nil, nil)
		select {
		case <-dead:
		case <-time.After(time.Second):
		}
	}
	w.close()
	<-dead
	mu.Lock()
	multis := 0
	for _, n := range inFlight {
		if _, ok := multiOf(n); ok {
			multis++
		}
	}
	l.b.cutOff(len(inFlight), multis)
	mu.Unlock()
}

// multiAcked returns the destinations of submit_multi n not listed in u
// (its unsuccess_sme).
func multiAcked(n int, u *codec.UnsuccessList) []string {
	second, _ := multiOf(n)
	out := make([]string, 0, 2)
next:
	for _, d := range []string{destOf(n), second} {
		for i := range u.Len() {
			if string(u.At(i).Addr) == d {
				continue next
			}
		}
		out = append(out, d)
	}
	return out
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
