package crash

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/proctest"
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
	o        loadOpts
	b        *book
	sessions *proctest.Sessions
	binds    atomic.Int64
}

func startLoad(ctx context.Context, o loadOpts, b *book) *load {
	l := &load{o: o, b: b}
	l.sessions = proctest.StartSessions(ctx, o.sessions, l.session)
	return l
}

// stop ends the submits; each session waits up to drainWait for its
// outstanding answers, then unbinds.
func (l *load) stop() { l.sessions.Stop() }

func (l *load) session(ctx context.Context) {
	interval := time.Duration(float64(time.Second) * float64(l.o.sessions) / l.o.rate)
	proctest.Redial(ctx, []string{l.o.addr}, codec.BindTransmitterID, crashUser, crashPass, redial, func(_ int, w *wire) bool {
		l.binds.Add(1)
		l.submit(ctx, w, interval)
		return false
	})
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
			h, f, err := w.Read()
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
				_ = w.Reply(h, codec.StatusOK, (&codec.DeliverSMResp{}).Append)
			default:
				if _, end := w.Housekeeping(h); end {
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
		_, err := w.Send(cmd, enc, func(seq uint32) {
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
	if ctx.Err() != nil { // stopped: collect the last answers, then unbind
		proctest.Drain(w, dead, func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(inFlight)
		}, drainWait)
	}
	w.Close()
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
