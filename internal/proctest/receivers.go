package proctest

import (
	"context"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

const unbindWait = 3 * time.Second

// Receivers are receiver binds over Addrs in turn: each hands every
// deliver_sm to Book and answers it ESME_ROK after, so smppd may send one
// again only when its answer was cut off. They redial while smppd is down.
type Receivers struct {
	addrs      []string
	user, pass string
	redial     time.Duration
	bound      func(k int) // a bind on addrs[k] succeeded
	book       func(sm *codec.SM)

	sessions *Sessions
	mu       sync.Mutex
	live     map[*Conn]struct{}
}

// StartReceivers runs sessions receivers binding as user; bound is told
// the index in addrs of each successful bind, book each deliver_sm.
func StartReceivers(ctx context.Context, addrs []string, user, pass string, sessions int, redial time.Duration,
	bound func(k int), book func(sm *codec.SM)) *Receivers {
	r := &Receivers{addrs: addrs, user: user, pass: pass, redial: redial, bound: bound, book: book,
		live: make(map[*Conn]struct{})}
	r.sessions = StartSessions(ctx, sessions, r.run)
	return r
}

// Stop unbinds every receiver (each keeps answering deliver_sm until its
// unbind_resp, so nothing booked goes unanswered) and waits for them.
func (r *Receivers) Stop() {
	r.sessions.cancel()
	r.mu.Lock()
	for w := range r.live {
		_, _ = w.Send(codec.UnbindID, nil, nil)
		_ = w.SetReadDeadline(time.Now().Add(unbindWait))
	}
	r.mu.Unlock()
	r.sessions.Stop()
}

func (r *Receivers) run(ctx context.Context) {
	Redial(ctx, r.addrs, codec.BindReceiverID, r.user, r.pass, r.redial, func(k int, w *Conn) bool {
		r.mu.Lock()
		stopping := ctx.Err() != nil
		if !stopping {
			r.live[w] = struct{}{}
		}
		r.mu.Unlock()
		if !stopping {
			r.bound(k)
			r.serve(w)
			r.mu.Lock()
			delete(r.live, w)
			r.mu.Unlock()
		}
		return false
	})
}

// serve reads until the connection ends or our unbind is answered.
func (r *Receivers) serve(w *Conn) {
	var sm codec.SM
	for {
		h, f, err := w.Read()
		if err != nil {
			return
		}
		switch h.CommandID {
		case codec.DeliverSMID:
			if err := sm.Decode(f[codec.HeaderLen:]); err != nil {
				_ = w.Reply(h, codec.StatusInvMsgLen, (&codec.DeliverSMResp{}).Append)
				continue
			}
			r.book(&sm)
			_ = w.Reply(h, codec.StatusOK, (&codec.DeliverSMResp{}).Append)
		case codec.UnbindRespID:
			return
		default:
			if _, end := w.Housekeeping(h); end {
				return
			}
		}
	}
}
