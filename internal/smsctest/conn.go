package smsctest

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
)

// Buffer sizes: the read buffer holds the largest PDU plus a burst.
const (
	readBufLen   = 2 * codec.DefaultMaxPDULen
	writeTimeout = 10 * time.Second
	serverName   = "smsctest"
)

// conn is one accepted connection. Its reader goroutine (serve) owns the
// read buffer and the decode/encode scratch; writes from any goroutine go
// through wmu.
type conn struct {
	s    *Server
	nc   net.Conn
	n    int
	kind atomic.Uint32 // bind command id once bound, 0 before
	// systemID is written once before kind is published.
	systemID string
	closed   atomic.Bool
	out      atomic.Int64 // submit_sm received and not yet answered
	seq      atomic.Uint32

	wmu sync.Mutex

	// Reader-owned.
	rbuf   []byte
	r0, r1 int
	sm     codec.SM
	cancel codec.CancelSM
	repl   codec.ReplaceSM
	bind   codec.Bind
	resp   codec.SubmitSMResp
	bresp  codec.BindResp
	wbuf   []byte
	idb    []byte
	ridb   []byte
	dsm    codec.SM
	rb     receiptBuf
}

// receiptBuf is scratch for building one receipt deliver_sm.
type receiptBuf struct {
	text  []byte
	frame []byte
}

func newConn(s *Server, nc net.Conn, n int) *conn {
	return &conn{
		s: s, nc: nc, n: n,
		rbuf: make([]byte, readBufLen),
		wbuf: make([]byte, 0, 512),
		idb:  make([]byte, 0, 32),
		ridb: make([]byte, 0, 32),
		rb:   receiptBuf{text: make([]byte, 0, 256), frame: make([]byte, 0, 512)},
	}
}

func (c *conn) rxCapable() bool {
	k := codec.CommandID(c.kind.Load())
	return k == codec.BindReceiverID || k == codec.BindTransceiverID
}

func (c *conn) isClosed() bool { return c.closed.Load() }

func (c *conn) serve() {
	defer c.s.wg.Done()
	defer c.s.removeConn(c)
	defer func() {
		c.closed.Store(true)
		_ = c.nc.Close()
		if c.kind.Load() != 0 {
			c.s.bound.Add(-1)
		}
	}()
	for {
		frame, err := c.readFrame()
		if err != nil {
			return
		}
		h, _ := codec.ParseHeader(frame)
		switch h.CommandID {
		case codec.BindTransmitterID, codec.BindReceiverID, codec.BindTransceiverID:
			c.onBind(h, frame)
		case codec.SubmitSMID:
			if !c.onSubmit(h, frame) {
				return
			}
		case codec.CancelSMID, codec.ReplaceSMID:
			c.onManage(h, frame)
		case codec.EnquireLinkID:
			c.s.enquires.Add(1)
			c.writeHeaderOnly(codec.Header{CommandID: codec.EnquireLinkRespID, Sequence: h.Sequence})
		case codec.UnbindID:
			c.s.unbinds.Add(1)
			c.writeHeaderOnly(codec.Header{CommandID: codec.UnbindRespID, Sequence: h.Sequence})
			return
		case codec.UnbindRespID:
			return
		case codec.DeliverSMRespID:
			if h.Status == codec.StatusOK {
				c.s.dlrOK.Add(1)
			} else {
				c.s.dlrFail.Add(1)
			}
		case codec.EnquireLinkRespID, codec.GenericNackID:
		default:
			if !h.CommandID.IsResponse() {
				c.writeHeaderOnly(codec.Header{CommandID: codec.GenericNackID, Status: codec.StatusInvCmdID, Sequence: h.Sequence})
			}
		}
	}
}

// readFrame returns the next whole PDU, valid until the next call.
func (c *conn) readFrame() ([]byte, error) {
	for {
		b := c.rbuf[c.r0:c.r1]
		n, err := codec.FrameLen(b, 0)
		if err != nil {
			return nil, err
		}
		if n > 0 && len(b) >= n {
			c.r0 += n
			return b[:n], nil
		}
		if c.r0 == c.r1 {
			c.r0, c.r1 = 0, 0
		} else if len(c.rbuf)-c.r1 < codec.DefaultMaxPDULen {
			c.r1 = copy(c.rbuf, c.rbuf[c.r0:c.r1])
			c.r0 = 0
		}
		m, err := c.nc.Read(c.rbuf[c.r1:])
		c.r1 += m
		if err != nil && m == 0 {
			return nil, err
		}
	}
}

func (c *conn) onBind(h codec.Header, frame []byte) {
	o := &c.s.opts
	st := codec.StatusOK
	if err := c.bind.Decode(frame[codec.HeaderLen:]); err != nil {
		st = codec.StatusOf(err)
	} else {
		switch {
		case c.kind.Load() != 0:
			st = codec.StatusAlyBnd
		case o.Binds&kindBit(h.CommandID) == 0:
			st = codec.StatusBindFail
		case o.SystemID != "" && string(c.bind.SystemID) != o.SystemID:
			st = codec.StatusInvSysID
		case o.Password != "" && string(c.bind.Password) != o.Password:
			st = codec.StatusInvPaswd
		case o.SystemType != "" && string(c.bind.SystemType) != o.SystemType:
			st = codec.StatusInvSysTyp
		}
	}
	info := BindInfo{Kind: h.CommandID, SystemID: string(c.bind.SystemID), Password: string(c.bind.Password),
		SystemType: string(c.bind.SystemType), Status: st}
	c.s.mu.Lock()
	c.s.lastBind = info
	c.s.mu.Unlock()

	// Book-keeping before the answer: a client that reads it may look at
	// the counters at once.
	if st == codec.StatusOK {
		c.systemID = info.SystemID
		c.kind.Store(uint32(h.CommandID))
		c.s.binds.Add(1)
		c.s.bound.Add(1)
		c.s.bindsOf[kindIndex(h.CommandID)].Add(1)
	} else {
		c.s.bindFails.Add(1)
	}
	c.bresp.Reset()
	c.bresp.SystemID = []byte(serverName)
	c.bresp.TLVs.AddUint8(codec.TagSCInterfaceVersion, codec.InterfaceVersion34)
	out, err := c.bresp.Append(c.wbuf[:0], codec.Header{CommandID: h.CommandID.Response(), Status: st, Sequence: h.Sequence})
	if err == nil {
		c.wbuf = out
		_ = c.write(out)
	}
	if st == codec.StatusOK && c.rxCapable() {
		c.s.flushPending(c)
	}
}

func kindBit(k codec.CommandID) BindKinds {
	switch k {
	case codec.BindTransmitterID:
		return AllowTransmitter
	case codec.BindReceiverID:
		return AllowReceiver
	case codec.BindTransceiverID:
		return AllowTransceiver
	}
	return 0
}

// onSubmit answers one submit_sm; false means the connection is to close.
func (c *conn) onSubmit(h codec.Header, frame []byte) bool {
	s := c.s
	o := &s.opts
	kind := codec.CommandID(c.kind.Load())
	if kind != codec.BindTransmitterID && kind != codec.BindTransceiverID {
		c.writeHeaderOnly(codec.Header{CommandID: codec.GenericNackID, Status: codec.StatusInvBndSts, Sequence: h.Sequence})
		return true
	}
	n := s.submits.Add(1)
	st := codec.StatusOK
	if err := c.sm.Decode(frame[codec.HeaderLen:]); err != nil {
		st = codec.StatusOf(err)
	}
	idv := s.nextID.Add(1) - 1
	c.idb = appendID(c.idb[:0], idv, o.IDFormat, o.IDWidth)
	act := o.Default
	if st != codec.StatusOK {
		act = Action{Status: st}
	} else if o.Script != nil {
		sub := Submit{N: int(n), Conn: c.n, Bind: kind, Sequence: h.Sequence, SM: &c.sm, ID: c.idb}
		act = o.Script(&sub)
	}
	if o.Record {
		c.record(int(n), kind, act.Status)
	}
	if act.Drop {
		_ = c.nc.Close()
		return false
	}
	s.noteOutstanding(c.out.Add(1))

	var resp []byte
	if act.Nack {
		resp = codec.AppendHeaderOnly(c.wbuf[:0], codec.Header{CommandID: codec.GenericNackID, Status: act.Status, Sequence: h.Sequence})
		act.Receipt.Send = false
	} else {
		c.resp.Reset()
		if act.Status == codec.StatusOK {
			c.resp.MessageID = c.idb
		}
		var err error
		if resp, err = c.resp.Append(c.wbuf[:0], codec.Header{CommandID: codec.SubmitSMRespID, Status: act.Status, Sequence: h.Sequence}); err != nil {
			return false
		}
	}
	c.wbuf = resp

	var rcpt []byte
	r := act.Receipt
	if r.Send && act.Status == codec.StatusOK {
		rf := r.IDFormat
		if rf == IDDefault {
			rf = o.IDFormat
		}
		c.ridb = appendID(c.ridb[:0], idv, rf, o.IDWidth)
		text := c.sm.ShortMessage
		if len(text) == 0 {
			text, _ = c.sm.TLVs.Get(codec.TagMessagePayload)
		}
		var err error
		rcpt, err = buildReceipt(&c.dsm, &c.rb, c.ridb, r, c.sm.DestinationAddr, c.sm.SourceAddr, text, s.now())
		if err != nil {
			rcpt = nil
		}
	}
	if rcpt != nil && r.Before {
		s.routeReceipt(c, c.systemID, rcpt)
		rcpt = nil
	}
	if act.Delay > 0 || act.Hold {
		respCopy := append([]byte(nil), resp...)
		var after []byte
		if rcpt != nil {
			after = append([]byte(nil), rcpt...)
		}
		sys := c.systemID
		later := func() {
			if act.Hold {
				s.mu.Lock()
				if !s.closed {
					s.held = append(s.held, heldResp{c: c, frame: respCopy, after: after, rsys: sys})
				}
				s.mu.Unlock()
				return
			}
			_ = c.sendResp(respCopy)
			if after != nil {
				s.receiptAfter(c, sys, after, r.Delay)
			}
		}
		if act.Delay > 0 {
			time.AfterFunc(act.Delay, later)
		} else {
			later()
		}
		return true
	}
	_ = c.sendResp(resp)
	if rcpt != nil {
		if r.Delay > 0 {
			s.receiptAfter(c, c.systemID, append([]byte(nil), rcpt...), r.Delay)
		} else {
			s.routeReceipt(c, c.systemID, rcpt)
		}
	}
	return true
}

// onManage answers cancel_sm and replace_sm.
func (c *conn) onManage(h codec.Header, frame []byte) {
	var id []byte
	var err error
	if h.CommandID == codec.CancelSMID {
		c.s.cancels.Add(1)
		err = c.cancel.Decode(frame[codec.HeaderLen:])
		id = c.cancel.MessageID
	} else {
		c.s.replaces.Add(1)
		err = c.repl.Decode(frame[codec.HeaderLen:])
		id = c.repl.MessageID
	}
	st := codec.StatusOK
	switch k := codec.CommandID(c.kind.Load()); {
	case k != codec.BindTransmitterID && k != codec.BindTransceiverID:
		st = codec.StatusInvBndSts
	case err != nil:
		st = codec.StatusOf(err)
	case c.s.opts.Manage != nil:
		st = c.s.opts.Manage(h.CommandID, id)
	}
	c.writeHeaderOnly(codec.Header{CommandID: h.CommandID.Response(), Status: st, Sequence: h.Sequence})
}

// receiptAfter routes an owned receipt frame after d.
func (s *Server) receiptAfter(c *conn, sys string, frame []byte, d time.Duration) {
	if d <= 0 {
		s.routeReceipt(c, sys, frame)
		return
	}
	time.AfterFunc(d, func() { s.routeReceipt(c, sys, frame) })
}

func (c *conn) record(n int, kind codec.CommandID, st codec.Status) {
	r := Recorded{
		N: n, Conn: c.n, Bind: kind, ID: string(c.idb), Status: st,
		ServiceType: string(c.sm.ServiceType), Source: string(c.sm.SourceAddr), Dest: string(c.sm.DestinationAddr),
		ESMClass: c.sm.ESMClass, RegisteredDelivery: c.sm.RegisteredDelivery, DataCoding: c.sm.DataCoding,
		ValidityPeriod: string(c.sm.ValidityPeriod),
		ShortMessage:   append([]byte(nil), c.sm.ShortMessage...),
		TLVs:           append([]byte(nil), c.sm.TLVs.Raw()...),
		At:             c.s.now(),
	}
	c.s.mu.Lock()
	c.s.records = append(c.s.records, r)
	c.s.mu.Unlock()
}

// sendResp counts the submit as answered and writes its submit_sm_resp
// (in that order: once written, the client may send the next submit).
func (c *conn) sendResp(frame []byte) error {
	c.out.Add(-1)
	return c.write(frame)
}

// sendRequest writes a request PDU with the next sequence number patched
// into frame (which the caller owns).
func (c *conn) sendRequest(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	binary.BigEndian.PutUint32(frame[12:16], c.seq.Add(1))
	return c.writeLocked(frame)
}

func (c *conn) sendUnbind() {
	var b [codec.HeaderLen]byte
	_ = c.sendRequest(codec.AppendHeaderOnly(b[:0], codec.Header{CommandID: codec.UnbindID}))
}

func (c *conn) writeHeaderOnly(h codec.Header) {
	var b [codec.HeaderLen]byte
	c.write(codec.AppendHeaderOnly(b[:0], h))
}

func (c *conn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(frame)
}

func (c *conn) writeLocked(frame []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.nc.Write(frame)
	return err
}

// buildReceipt encodes a receipt deliver_sm for id into buf.frame (sequence
// 0: the writer patches it). src and dst are the receipt's addresses (the
// submit's destination and source); text is the original message for the
// text: field.
func buildReceipt(sm *codec.SM, buf *receiptBuf, id []byte, r Receipt, src, dst, text []byte, now time.Time) ([]byte, error) {
	state := r.State
	if state == 0 {
		state = codec.MessageStateDelivered
	}
	sm.Reset()
	sm.SourceAddrTON, sm.SourceAddrNPI, sm.SourceAddr = 1, 1, src
	sm.DestAddrTON, sm.DestAddrNPI, sm.DestinationAddr = 1, 1, dst
	sm.ESMClass = codec.ESMClassDeliveryReceipt
	if r.Intermediate {
		sm.ESMClass = codec.ESMClassIntermediate
	}
	if r.Form != ReceiptTLV {
		stat, _ := receipt.StatFromMessageState(uint8(state))
		dlvrd := 0
		if state == codec.MessageStateDelivered {
			dlvrd = 1
		}
		rec := receipt.Receipt{ID: id, Sub: 1, Dlvrd: dlvrd, SubmitDate: now, DoneDate: now, Stat: stat, ErrCode: r.Err, Text: text}
		buf.text = receipt.Append(buf.text[:0], &rec)
		sm.ShortMessage = buf.text
	}
	if r.Form != ReceiptText {
		sm.TLVs.AddCString(codec.TagReceiptedMessageID, id)
		sm.TLVs.AddUint8(codec.TagMessageState, uint8(state))
		if r.HasNetErr {
			sm.TLVs.Add(codec.TagNetworkErrorCode, r.NetworkError[:])
		}
	}
	out, err := sm.Append(buf.frame[:0], codec.Header{CommandID: codec.DeliverSMID})
	if err != nil {
		return nil, err
	}
	buf.frame = out
	return out, nil
}
