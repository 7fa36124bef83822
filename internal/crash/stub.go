package crash

import (
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
)

const (
	stubWindow     = 20                     // deliver_sm in flight per bind
	stubTick       = 5 * time.Millisecond   // the dispatcher's pace
	stubRetry      = 200 * time.Millisecond // after a non-OK deliver_sm_resp
	stubMinReceipt = 100 * time.Millisecond // receipt delay after the submit_sm_resp: uniform in [min, max)
	stubMaxReceipt = 1500 * time.Millisecond
)

// stub is the upstream SMSC smppd's smpp connector binds to: it accepts
// every submit_sm except those refusedDest names (ESME_RINVDSTADR, a
// permanent refusal), and sends a DELIVRD receipt for each accepted one
// after a random delay. Receipts and injected MO stay queued until smppd
// answers their deliver_sm ESME_ROK: while smppd is down they wait, and
// one whose answer a kill cut off is sent again, as a real SMSC retries.
type stub struct {
	ln  net.Listener
	wg  sync.WaitGroup
	rng *rand.Rand // under mu

	mu      sync.Mutex
	conns   map[*stubConn]struct{}
	items   map[uint64]*item
	nextKey uint64
	nextID  uint64 // upstream message ids, decimal
	closed  bool
	quit    chan struct{}

	submits, accepted, refused int
	receiptsAcked, mosAcked    int
	nacked                     int // deliver_sm answered with another status, sent again later
	dueWhileDown               int // receipts that fell due while smppd had no bind up
	brokenMO                   int // MO deliver_sm in flight on a connection that broke
	moInjected                 int
	moAcked                    map[string]bool // MO text -> smppd answered ESME_ROK
	dests                      map[string]int  // submit_sm destination -> times sent
	acceptedDests              map[string]bool // destinations accepted
}

// item is one queued deliver_sm: a receipt or an MO.
type item struct {
	key        uint64
	mo         bool
	src, dst   string
	text       []byte
	upID       string // receipts: the upstream id it reports
	due        time.Time
	on         *stubConn // in flight on this connection, nil when queued
	markedDown bool
}

type stubConn struct {
	w        *wire
	rx       bool // bound as receiver or transceiver
	inflight map[uint32]*item
}

func startStub(seed uint64) (*stub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &stub{ln: ln, rng: rand.New(rand.NewPCG(seed, 0x5eed)), conns: make(map[*stubConn]struct{}),
		items: make(map[uint64]*item), nextID: 7_000_000, quit: make(chan struct{}), moAcked: make(map[string]bool),
		dests: make(map[string]int), acceptedDests: make(map[string]bool)}
	s.wg.Add(2)
	go s.accept()
	go s.dispatch()
	return s, nil
}

func (s *stub) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *stub) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.w.Close()
	}
	s.mu.Unlock()
	close(s.quit)
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *stub) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &stubConn{w: newWire(nc), inflight: make(map[uint32]*item)}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *stub) serve(c *stubConn) {
	defer s.wg.Done()
	defer s.drop(c)
	var p codec.PDU
	var resp codec.SubmitSMResp
	idb := make([]byte, 0, 20)
	for {
		h, f, err := c.w.Read()
		if err != nil {
			return
		}
		switch h.CommandID {
		case codec.BindTransmitterID, codec.BindReceiverID, codec.BindTransceiverID:
			st := codec.StatusOK
			if p.Decode(f) != nil || string(p.Bind.SystemID) != stubSystemID || string(p.Bind.Password) != stubPassword {
				st = codec.StatusBindFail
			}
			br := codec.BindResp{SystemID: []byte("crashstub")}
			_ = c.w.Reply(h, st, br.Append)
			if st == codec.StatusOK {
				s.mu.Lock()
				c.rx = h.CommandID != codec.BindTransmitterID
				s.mu.Unlock()
			}
		case codec.SubmitSMID:
			if err := p.Decode(f); err != nil {
				_ = c.w.Reply(h, codec.StatusInvMsgLen, (&codec.SubmitSMResp{}).Append)
				continue
			}
			sm := &p.SM
			s.mu.Lock()
			s.submits++
			s.dests[string(sm.DestinationAddr)]++
			if multiSecond(sm.DestinationAddr) && s.dests[string(sm.DestinationAddr)] == 1 {
				// A submit_multi's second destination is throttled the first
				// time: smppd retries it later, so kills find it pending
				// after the first destination was accepted.
				s.mu.Unlock()
				_ = c.w.Reply(h, codec.StatusThrottled, (&codec.SubmitSMResp{}).Append)
				continue
			}
			if refusedDest(sm.DestinationAddr) {
				s.refused++
				s.mu.Unlock()
				_ = c.w.Reply(h, codec.StatusInvDstAdr, (&codec.SubmitSMResp{}).Append)
				continue
			}
			s.accepted++
			s.acceptedDests[string(sm.DestinationAddr)] = true
			s.nextID++
			idb = strconv.AppendUint(idb[:0], s.nextID, 10)
			if sm.RegisteredDelivery&codec.RegisteredDeliveryReceiptMask != 0 {
				delay := stubMinReceipt + time.Duration(s.rng.Int64N(int64(stubMaxReceipt-stubMinReceipt)))
				s.queueLocked(&item{src: string(sm.DestinationAddr), dst: string(sm.SourceAddr), upID: string(idb),
					text: receiptText(idb, sm.ShortMessage), due: time.Now().Add(delay)})
			}
			resp.MessageID = idb
			// Answered under mu: the receipt cannot be sent before its submit_sm_resp.
			_ = c.w.Reply(h, codec.StatusOK, resp.Append)
			s.mu.Unlock()
		case codec.DeliverSMRespID, codec.GenericNackID:
			s.answered(c, h)
		default:
			if _, end := c.w.Housekeeping(h); end {
				return
			}
		}
	}
}

// acceptedDest reports whether the stub accepted a submit_sm to dest.
func (s *stub) acceptedDest(dest string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acceptedDests[dest]
}

// receiptText is a DELIVRD receipt (SMPP 3.4 Appendix B) for upstream id.
func receiptText(id, text []byte) []byte {
	now := time.Now()
	return receipt.Append(nil, &receipt.Receipt{ID: id, Sub: 1, Dlvrd: 1, SubmitDate: now, DoneDate: now,
		Stat: receipt.StatDelivered, Text: text})
}

func (s *stub) queueLocked(it *item) {
	s.nextKey++
	it.key = s.nextKey
	s.items[it.key] = it
}

// injectMO queues one MO per text, from a subscriber to crashUser's number.
func (s *stub) injectMO(text string) {
	s.mu.Lock()
	s.moInjected++
	s.queueLocked(&item{mo: true, src: "4915999000", dst: "1234", text: []byte(text), due: time.Now()})
	s.mu.Unlock()
}

func (s *stub) answered(c *stubConn, h codec.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := c.inflight[h.Sequence]
	if !ok {
		return
	}
	delete(c.inflight, h.Sequence)
	it.on = nil
	if h.CommandID == codec.DeliverSMRespID && h.Status == codec.StatusOK {
		delete(s.items, it.key)
		if it.mo {
			s.mosAcked++
			s.moAcked[string(it.text)] = true
		} else {
			s.receiptsAcked++
		}
		return
	}
	s.nacked++
	it.due = time.Now().Add(stubRetry)
}

// drop forgets a closed connection; what was in flight on it is queued
// again at once.
func (s *stub) drop(c *stubConn) {
	c.w.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for _, it := range c.inflight {
		it.on, it.due = nil, time.Now()
		if it.mo {
			s.brokenMO++
		}
	}
	clear(c.inflight)
}

func (s *stub) dispatch() {
	defer s.wg.Done()
	t := time.NewTicker(stubTick)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.sendDue()
	}
}

// sendDue sends every due item it has room for on the bound receivers.
func (s *stub) sendDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rx []*stubConn
	for c := range s.conns {
		if c.rx {
			rx = append(rx, c)
		}
	}
	now := time.Now()
	next := 0
	var sm codec.SM
	for _, it := range s.items {
		if it.on != nil || it.due.After(now) {
			continue
		}
		if len(rx) == 0 {
			if !it.mo && !it.markedDown {
				it.markedDown = true
				s.dueWhileDown++
			}
			continue
		}
		var c *stubConn
		for range rx {
			cand := rx[next%len(rx)]
			next++
			if len(cand.inflight) < stubWindow {
				c = cand
				break
			}
		}
		if c == nil {
			return // every bind's window is full
		}
		sm.Reset()
		sm.SourceAddrTON, sm.SourceAddrNPI, sm.SourceAddr = 1, 1, []byte(it.src)
		sm.DestAddrTON, sm.DestAddrNPI, sm.DestinationAddr = 1, 1, []byte(it.dst)
		sm.ShortMessage = it.text
		if !it.mo {
			sm.ESMClass = codec.ESMClassDeliveryReceipt
			sm.TLVs.AddCString(codec.TagReceiptedMessageID, []byte(it.upID))
			sm.TLVs.AddUint8(codec.TagMessageState, uint8(codec.MessageStateDelivered))
		}
		_, err := c.w.Send(codec.DeliverSMID, sm.Append, func(seq uint32) {
			c.inflight[seq] = it
			it.on = c
		})
		if err != nil {
			c.w.Close() // its reader drops it and queues what was in flight
		}
	}
}

// stubStats is a snapshot of the stub's counters.
type stubStats struct {
	submits, accepted, refused   int
	receiptsAcked, mosAcked      int
	nacked, dueWhileDown         int
	brokenMO, queued, moInjected int
}

func (s *stub) stats() stubStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := stubStats{submits: s.submits, accepted: s.accepted, refused: s.refused, receiptsAcked: s.receiptsAcked,
		mosAcked: s.mosAcked, nacked: s.nacked, dueWhileDown: s.dueWhileDown, brokenMO: s.brokenMO, queued: len(s.items), moInjected: s.moInjected}
	return st
}

// moWasAcked reports whether smppd answered the MO text ESME_ROK.
func (s *stub) moWasAcked(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moAcked[text]
}
