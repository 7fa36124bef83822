package crash

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
)

const unbindWait = 3 * time.Second

// receivers are crashUser's receiver binds: they book every receipt and
// MO and answer each deliver_sm ESME_ROK after booking it, so smppd may
// send a deliver_sm again only when a kill cut its answer off. They
// redial while smppd is down.
type receivers struct {
	addr   string
	b      *book
	cancel context.CancelFunc
	wg     sync.WaitGroup
	binds  atomic.Int64
	mu     sync.Mutex
	live   map[*wire]struct{}
}

func startReceivers(ctx context.Context, addr string, n int, b *book) *receivers {
	ctx, cancel := context.WithCancel(ctx)
	r := &receivers{addr: addr, b: b, cancel: cancel, live: make(map[*wire]struct{})}
	for range n {
		r.wg.Add(1)
		go r.run(ctx)
	}
	return r
}

// stop unbinds every receiver (each keeps answering deliver_sm until its
// unbind_resp, so nothing booked goes unanswered) and waits for them.
func (r *receivers) stop() {
	r.cancel()
	r.mu.Lock()
	for w := range r.live {
		_, _ = w.send(codec.UnbindID, nil, nil)
		_ = w.c.SetReadDeadline(time.Now().Add(unbindWait))
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *receivers) run(ctx context.Context) {
	defer r.wg.Done()
	for ctx.Err() == nil {
		w, err := dialSMPP(ctx, r.addr)
		if err == nil {
			if err = w.bind(codec.BindReceiverID, crashUser, crashPass); err == nil {
				r.mu.Lock()
				stopping := ctx.Err() != nil
				if !stopping {
					r.live[w] = struct{}{}
				}
				r.mu.Unlock()
				if !stopping {
					r.binds.Add(1)
					r.serve(w)
					r.mu.Lock()
					delete(r.live, w)
					r.mu.Unlock()
				}
			}
			w.close()
		}
		sleepCtx(ctx, redial)
	}
}

// serve reads until the connection ends or our unbind is answered.
func (r *receivers) serve(w *wire) {
	var sm codec.SM
	for {
		h, f, err := w.read()
		if err != nil {
			return
		}
		switch h.CommandID {
		case codec.DeliverSMID:
			if err := sm.Decode(f[codec.HeaderLen:]); err != nil {
				_ = w.reply(h, codec.StatusInvMsgLen, (&codec.DeliverSMResp{}).Append)
				continue
			}
			r.book(&sm)
			_ = w.reply(h, codec.StatusOK, (&codec.DeliverSMResp{}).Append)
		case codec.UnbindRespID:
			return
		default:
			if _, end := w.answerHousekeeping(h); end {
				return
			}
		}
	}
}

// book records one deliver_sm: a receipt by receipted_message_id and
// message_state (the text's id and stat when a TLV is missing), or an MO
// by its text.
func (r *receivers) book(sm *codec.SM) {
	switch sm.ESMClass & codec.ESMClassTypeMask {
	case codec.ESMClassDeliveryReceipt, codec.ESMClassIntermediate:
		id, _ := sm.TLVs.CString(codec.TagReceiptedMessageID)
		st, ok := sm.TLVs.Uint8(codec.TagMessageState)
		if len(id) == 0 || !ok {
			if rc, err := receipt.Parse(sm.ShortMessage); err == nil {
				if len(id) == 0 {
					id = rc.ID
				}
				if !ok {
					st, _ = rc.Stat.MessageState()
				}
			}
		}
		r.b.receipt(id, codec.MessageState(st))
	default:
		text := sm.ShortMessage
		if p, ok := sm.TLVs.Get(codec.TagMessagePayload); ok {
			text = p
		}
		r.b.gotMO(string(text))
	}
}
