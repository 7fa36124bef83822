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
	"github.com/smppd/smppd/internal/proctest"
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
	// via are the nodes whose receivers got each final receipt, and when,
	// in order (node 0: a receivers set over several nodes).
	via map[string][]arrival
	mo  map[string]int // MO text -> deliveries
}

// arrival is one final receipt's delivery: the receiver's node, when.
type arrival struct {
	node int
	at   time.Time
}

func (a arrival) String() string {
	return fmt.Sprintf("node %d at %s", a.node, a.at.UTC().Format("15:04:05.000"))
}

func newBook() *book {
	return &book{acks: map[string]int{}, refused: map[codec.Status]int{}, finals: map[string]int{}, via: map[string][]arrival{}, mo: map[string]int{}}
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
	addrs    []string
	nodes    []int // the node behind each address
	window   int
	b        *book
	sessions *proctest.Sessions
	sent     atomic.Int64
	seq      atomic.Int64
	binds    [4]atomic.Int64 // per node id
	first    [4]atomic.Int64 // Unix ns of each node's first acknowledgement
}

func startTransmitters(ctx context.Context, addrs []string, nodes []int, sessions, window int, b *book) *transmitters {
	t := &transmitters{addrs: addrs, nodes: nodes, window: window, b: b}
	t.sessions = proctest.StartSessions(ctx, sessions, t.session)
	return t
}

// stop ends the submits; each session waits for its outstanding answers.
func (t *transmitters) stop() { t.sessions.Stop() }

func (t *transmitters) session(ctx context.Context) {
	proctest.Redial(ctx, t.addrs, codec.BindTransmitterID, user, password, redial, func(k int, w *wire) bool {
		t.binds[t.nodes[k]].Add(1)
		t.submit(ctx, w, t.nodes[k])
		return ctx.Err() == nil // a clean run ended by the peer: try the same node first
	})
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
			h, f, err := w.Read()
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
				if _, end := w.Housekeeping(h); end {
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
		if _, err := w.Send(codec.SubmitSMID, sm.Append, func(seq uint32) {
			mu.Lock()
			inFlight[seq] = true
			mu.Unlock()
		}); err != nil {
			break
		}
		t.sent.Add(1)
	}
	if ctx.Err() != nil { // stopped: collect the last answers, then unbind
		proctest.Drain(w, dead, func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(inFlight)
		}, 5*time.Second)
	}
	w.Close()
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
	*proctest.Receivers
	nodes []int
	b     *book
	bound [4]atomic.Int64 // binds per node id
}

func startReceivers(ctx context.Context, addrs []string, nodes []int, sessions int, b *book) *receivers {
	r := &receivers{nodes: nodes, b: b}
	r.Receivers = proctest.StartReceivers(ctx, addrs, user, password, sessions, redial,
		func(k int) { r.bound[r.nodes[k]].Add(1) }, r.book)
	return r
}

// stop unbinds every receiver and waits for them.
func (r *receivers) stop() { r.Stop() }

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
		via := 0
		if len(r.nodes) == 1 {
			via = r.nodes[0]
		}
		key := strings.ToUpper(string(id))
		r.b.mu.Lock()
		r.b.finals[key]++
		r.b.via[key] = append(r.b.via[key], arrival{node: via, at: time.Now()})
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
