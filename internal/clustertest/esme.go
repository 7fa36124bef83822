package clustertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
)

const redial = 100 * time.Millisecond // between connection attempts

// book is what the ESMEs saw: every submit answered ESME_ROK, every
// refusal, the submits a broken connection cut off, every receipt and MO.
type book struct {
	mu      sync.Mutex
	acks    map[string]int // our message_id, upper case -> the node that acknowledged it
	refused map[codec.Status]int
	cut     int            // submits in flight when their connection broke: fate unknown
	finals  map[string]int // final receipts per message_id, duplicates counted
	mo      map[string]int // MO text -> deliveries
}

func newBook() *book {
	return &book{acks: map[string]int{}, refused: map[codec.Status]int{}, finals: map[string]int{}, mo: map[string]int{}}
}

func (b *book) acked(id []byte, node int) {
	b.mu.Lock()
	b.acks[strings.ToUpper(string(id))] = node
	b.mu.Unlock()
}

// missing returns the acknowledged ids without a final receipt, by the
// node that acknowledged them, and the receipts received twice or more.
func (b *book) missing() (acked int, missing map[int][]string, dups int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	missing = map[int][]string{}
	for id, node := range b.acks {
		if b.finals[id] == 0 {
			missing[node] = append(missing[node], id)
		}
	}
	for _, n := range b.finals {
		dups += max(n-1, 0)
	}
	return len(b.acks), missing, dups
}

func (b *book) moCount(text string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mo[text]
}

// transmitters submit with registered_delivery = 1 from sessions, each
// with window submits awaiting their answer, over nodes in turn: a
// session whose connection breaks redials the next address.
type transmitters struct {
	addrs  []string
	nodes  []int // the node behind each address
	window int
	b      *book
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sent   atomic.Int64
	seq    atomic.Int64
	binds  [4]atomic.Int64 // per node id
	first  [4]atomic.Int64 // Unix ns of each node's first acknowledgement
}

func startTransmitters(ctx context.Context, addrs []string, nodes []int, sessions, window int, b *book) *transmitters {
	ctx, cancel := context.WithCancel(ctx)
	t := &transmitters{addrs: addrs, nodes: nodes, window: window, b: b, cancel: cancel}
	for range sessions {
		t.wg.Add(1)
		go t.session(ctx)
	}
	return t
}

// stop ends the submits; each session waits for its outstanding answers.
func (t *transmitters) stop() {
	t.cancel()
	t.wg.Wait()
}

func (t *transmitters) session(ctx context.Context) {
	defer t.wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		k := i % len(t.addrs)
		if w, err := dial(t.addrs[k]); err == nil {
			if err = w.bind(codec.BindTransmitterID); err == nil {
				t.binds[t.nodes[k]].Add(1)
				t.submit(ctx, w, t.nodes[k])
			}
			w.close()
			if ctx.Err() == nil && err == nil {
				i-- // a clean run ended by the peer: try the same node first
			}
		}
		sleep(ctx, redial)
	}
}

// submit runs one bound connection until ctx ends or the connection breaks.
func (t *transmitters) submit(ctx context.Context, w *wire, node int) {
	var mu sync.Mutex
	inFlight := map[uint32]bool{}
	slots := make(chan struct{}, t.window)
	dead := make(chan struct{})
	go func() {
		defer close(dead)
		var resp codec.SubmitSMResp
		for {
			h, f, err := w.read()
			if err != nil {
				return
			}
			switch h.CommandID {
			case codec.SubmitSMRespID, codec.GenericNackID:
				mu.Lock()
				ok := inFlight[h.Sequence]
				delete(inFlight, h.Sequence)
				mu.Unlock()
				if !ok {
					continue
				}
				<-slots
				if h.Status != codec.StatusOK || h.CommandID == codec.GenericNackID || resp.Decode(f[codec.HeaderLen:]) != nil {
					t.b.mu.Lock()
					t.b.refused[h.Status]++
					t.b.mu.Unlock()
					continue
				}
				t.b.acked(resp.MessageID, node)
				t.first[node].CompareAndSwap(0, time.Now().UnixNano())
			default:
				if _, end := w.housekeeping(h); end {
					return
				}
			}
		}
	}()
	sm := codec.SM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(source), DestAddrTON: 1, DestAddrNPI: 1,
		RegisteredDelivery: codec.RegisteredDeliveryReceipt}
sending:
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break sending
		case <-dead:
			break sending
		}
		n := t.seq.Add(1)
		sm.DestinationAddr = fmt.Appendf(sm.DestinationAddr[:0], "4916%07d", n%10_000_000)
		sm.ShortMessage = fmt.Appendf(sm.ShortMessage[:0], "cluster %d", n)
		if err := w.send(codec.SubmitSMID, sm.Append, func(seq uint32) {
			mu.Lock()
			inFlight[seq] = true
			mu.Unlock()
		}); err != nil {
			break
		}
		t.sent.Add(1)
	}
	if ctx.Err() != nil { // stopped: collect the last answers, then unbind
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
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
		_ = w.send(codec.UnbindID, nil, nil)
		select {
		case <-dead:
		case <-time.After(time.Second):
		}
	}
	w.close()
	<-dead
	mu.Lock()
	t.b.mu.Lock()
	t.b.cut += len(inFlight)
	t.b.mu.Unlock()
	mu.Unlock()
}

// receivers are receiver binds over nodes in turn: they book every
// receipt and MO and answer each deliver_sm ESME_ROK after booking it.
type receivers struct {
	addrs  []string
	nodes  []int
	b      *book
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	live   map[*wire]struct{}
	bound  [4]atomic.Int64 // binds per node id
}

func startReceivers(ctx context.Context, addrs []string, nodes []int, sessions int, b *book) *receivers {
	ctx, cancel := context.WithCancel(ctx)
	r := &receivers{addrs: addrs, nodes: nodes, b: b, cancel: cancel, live: map[*wire]struct{}{}}
	for range sessions {
		r.wg.Add(1)
		go r.run(ctx)
	}
	return r
}

// stop unbinds every receiver and waits for them.
func (r *receivers) stop() {
	r.cancel()
	r.mu.Lock()
	for w := range r.live {
		_ = w.send(codec.UnbindID, nil, nil)
		_ = w.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *receivers) run(ctx context.Context) {
	defer r.wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		k := i % len(r.addrs)
		if w, err := dial(r.addrs[k]); err == nil {
			if err = w.bind(codec.BindReceiverID); err == nil {
				r.mu.Lock()
				stopping := ctx.Err() != nil
				if !stopping {
					r.live[w] = struct{}{}
				}
				r.mu.Unlock()
				if !stopping {
					r.bound[r.nodes[k]].Add(1)
					r.serve(w)
					r.mu.Lock()
					delete(r.live, w)
					r.mu.Unlock()
				}
			}
			w.close()
		}
		sleep(ctx, redial)
	}
}

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
			if _, end := w.housekeeping(h); end {
				return
			}
		}
	}
}

// book records a final receipt by receipted_message_id (the text's id
// when the TLV is missing), or an MO by its text.
func (r *receivers) book(sm *codec.SM) {
	switch sm.ESMClass & codec.ESMClassTypeMask {
	case codec.ESMClassDeliveryReceipt:
		id, _ := sm.TLVs.CString(codec.TagReceiptedMessageID)
		if len(id) == 0 {
			if rc, err := receipt.Parse(sm.ShortMessage); err == nil {
				id = rc.ID
			}
		}
		r.b.mu.Lock()
		r.b.finals[strings.ToUpper(string(id))]++
		r.b.mu.Unlock()
	case codec.ESMClassIntermediate:
	default:
		text := sm.ShortMessage
		if p, ok := sm.TLVs.Get(codec.TagMessagePayload); ok {
			text = p
		}
		r.b.mu.Lock()
		r.b.mo[string(text)]++
		r.b.mu.Unlock()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
