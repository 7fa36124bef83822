package smppout

import (
	"errors"
	"net"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/msg"
)

// readBufLen holds the largest PDU plus a burst behind it.
const readBufLen = 2 * codec.DefaultMaxPDULen

// reader is the state of a session's reader goroutine: the read buffer and
// decode/encode scratch, reused across connections.
type reader struct {
	rbuf   []byte
	r0, r1 int
	err    error // why the last readLoop ended; read after it exited

	resp     codec.SubmitSMResp
	sm       codec.SM
	dsm      codec.DataSM
	wbuf     []byte
	key      []byte
	keys     idKeys
	rcpt     msg.Receipt
	in       msg.Inbound
	resolved parkScratch
	pbuf     []byte // a parked receipt's copy (park.go)
}

func newReader() reader {
	return reader{
		rbuf:     make([]byte, readBufLen),
		wbuf:     make([]byte, 0, 64),
		key:      make([]byte, 0, keyLen),
		resolved: newParkScratch(),
	}
}

// readFrame returns the next whole PDU, reading as needed; the frame is
// valid until the next call.
func (r *reader) readFrame(nc net.Conn) ([]byte, error) {
	for {
		b := r.rbuf[r.r0:r.r1]
		n, err := codec.FrameLen(b, 0)
		if err != nil {
			return nil, err
		}
		if n > 0 && len(b) >= n {
			r.r0 += n
			return b[:n], nil
		}
		if r.r0 == r.r1 {
			r.r0, r.r1 = 0, 0
		} else if len(r.rbuf)-r.r1 < codec.DefaultMaxPDULen {
			r.r1 = copy(r.rbuf, r.rbuf[r.r0:r.r1])
			r.r0 = 0
		}
		m, err := nc.Read(r.rbuf[r.r1:])
		r.r1 += m
		if err != nil && m == 0 {
			return nil, err
		}
	}
}

// readLoop reads until the connection fails or unbinds; dead is closed on
// exit.
func (s *session) readLoop(nc net.Conn, dead chan struct{}) {
	defer close(dead)
	s.rx.err = nil
	for {
		f, err := s.rx.readFrame(nc)
		if err != nil {
			s.rx.err = err
			return
		}
		s.lastRx.Store(s.c.mono())
		if !s.handle(nc, f) {
			return
		}
	}
}

// handle dispatches one PDU; false ends the connection.
func (s *session) handle(nc net.Conn, f []byte) bool {
	h, _ := codec.ParseHeader(f)
	switch h.CommandID {
	case codec.SubmitSMRespID:
		s.onSubmitResp(h, f)
	case codec.CancelSMRespID, codec.ReplaceSMRespID:
		s.finishCall(h.Sequence, h.Status)
	case codec.GenericNackID:
		if s.finishCall(h.Sequence, h.Status) {
			break
		}
		if h.Status == codec.StatusOK {
			h.Status = codec.StatusSysErr // a nack without a reason: try again
		}
		s.onSubmitResp(h, nil)
	case codec.DeliverSMID:
		s.onDeliverSM(nc, h, f)
	case codec.DataSMID:
		s.onDataSM(nc, h, f)
	case codec.EnquireLinkID:
		s.reply(nc, codec.Header{CommandID: codec.EnquireLinkRespID, Sequence: h.Sequence})
	case codec.EnquireLinkRespID:
		s.elSeq.Store(0)
	case codec.UnbindID:
		s.reply(nc, codec.Header{CommandID: codec.UnbindRespID, Sequence: h.Sequence})
		s.rx.err = errUnbound
		return false
	case codec.UnbindRespID:
		return false
	default:
		if !h.CommandID.IsResponse() {
			s.reply(nc, codec.Header{CommandID: codec.GenericNackID, Status: codec.StatusInvCmdID, Sequence: h.Sequence})
		}
	}
	return true
}

func (s *session) reply(nc net.Conn, h codec.Header) {
	s.rx.wbuf = codec.AppendHeaderOnly(s.rx.wbuf[:0], h)
	_ = s.write(nc, s.rx.wbuf)
}

// onSubmitResp settles one window slot (f is nil for generic_nack).
func (s *session) onSubmitResp(h codec.Header, f []byte) {
	c := s.c
	st := h.Status
	var id []byte
	if f != nil && st == codec.StatusOK && s.rx.resp.Decode(f[codec.HeaderLen:]) == nil {
		id = s.rx.resp.MessageID // accepted even when the body is bad: it was taken
	}
	temp := st != codec.StatusOK && c.isTemporary(st)
	s.mu.Lock()
	sl, ok := s.win.take(h.Sequence)
	if !ok {
		s.mu.Unlock()
		c.stray.Add(1)
		return
	}
	j := sl.job
	part := int(sl.part)
	j.inflight--
	ourID := j.m.ID
	switch {
	case st == codec.StatusOK:
		j.setAccepted(part)
		if part == 0 {
			j.firstLen = uint8(copy(j.firstID[:], id))
		}
	case temp:
		j.temp = true
	case !j.failed:
		j.failed, j.status = true, uint32(st)
	}
	done := j.inflight == 0 && s.cur != j
	s.mu.Unlock()
	s.signalRoom()
	if st != codec.StatusOK {
		c.noteRefusal(st, temp)
	}
	put := len(id) > 0
	if put {
		s.rx.key = c.respKey(s.rx.key[:0], id)
		if err := c.opts.IDMap.PutUpstream(c.opts.ID, s.rx.key, ourID); err != nil {
			c.upstreamIDNotKept(s.rx.key, ourID, err)
		}
	}
	if done {
		c.complete(j)
	}
	if put {
		c.resolveParked(s.rx.key, ourID, &s.rx.resolved)
	}
}

// onDeliverSM answers an upstream's deliver_sm once what it carries is
// kept (and durable, with a disk store): ESME_ROK, or ESME_RX_T_APPN when
// the store could not take it, so the upstream sends it again.
func (s *session) onDeliverSM(nc net.Conn, h codec.Header, f []byte) {
	sm := &s.rx.sm
	var st codec.Status
	if err := sm.Decode(f[codec.HeaderLen:]); err != nil {
		st = codec.StatusOf(err)
	} else {
		in := &s.rx.in
		*in = msg.Inbound{
			Connector: s.c.opts.Name, ServiceType: sm.ServiceType,
			SourceTON: sm.SourceAddrTON, SourceNPI: sm.SourceAddrNPI, Source: sm.SourceAddr,
			DestTON: sm.DestAddrTON, DestNPI: sm.DestAddrNPI, Dest: sm.DestinationAddr,
			ESMClass: sm.ESMClass, ProtocolID: sm.ProtocolID, Priority: sm.PriorityFlag,
			DataCoding: sm.DataCoding, ShortMessage: sm.ShortMessage, TLVs: sm.TLVs.Raw(),
			Raw: f[codec.HeaderLen:],
		}
		st = s.inbound(in, &sm.TLVs)
	}
	var resp codec.DeliverSMResp
	out, err := resp.Append(s.rx.wbuf[:0], codec.Header{CommandID: codec.DeliverSMRespID, Status: st, Sequence: h.Sequence})
	if err == nil {
		s.rx.wbuf = out
		_ = s.write(nc, out)
	}
}

// onDataSM answers an upstream's data_sm as onDeliverSM does.
func (s *session) onDataSM(nc net.Conn, h codec.Header, f []byte) {
	d := &s.rx.dsm
	var st codec.Status
	if err := d.Decode(f[codec.HeaderLen:]); err != nil {
		st = codec.StatusOf(err)
	} else {
		in := &s.rx.in
		*in = msg.Inbound{
			Connector: s.c.opts.Name, ServiceType: d.ServiceType,
			SourceTON: d.SourceAddrTON, SourceNPI: d.SourceAddrNPI, Source: d.SourceAddr,
			DestTON: d.DestAddrTON, DestNPI: d.DestAddrNPI, Dest: d.DestinationAddr,
			ESMClass: d.ESMClass, DataCoding: d.DataCoding, TLVs: d.TLVs.Raw(),
			Raw: f[codec.HeaderLen:],
		}
		st = s.inbound(in, &d.TLVs)
	}
	var resp codec.DataSMResp
	out, err := resp.Append(s.rx.wbuf[:0], codec.Header{CommandID: codec.DataSMRespID, Status: st, Sequence: h.Sequence})
	if err == nil {
		s.rx.wbuf = out
		_ = s.write(nc, out)
	}
}

// inbound routes a deliver_sm/data_sm, a receipt or an MO for the sink,
// and returns the answer: ESME_ROK once the sink kept it and it is durable
// (Sink.Sync), ESME_RX_T_APPN when it could not be kept now (a receipt
// parked for its id: once its copy is parked in the store).
func (s *session) inbound(in *msg.Inbound, t *codec.TLVs) codec.Status {
	c := s.c
	in.Received = c.now()
	typ := in.ESMClass & codec.ESMClassTypeMask
	rid, hasRID := t.CString(codec.TagReceiptedMessageID)
	var err error
	if typ == codec.ESMClassDeliveryReceipt || typ == codec.ESMClassIntermediate || hasRID {
		err = s.onReceipt(in, t, typ == codec.ESMClassIntermediate, rid)
	} else {
		err = c.rt.MO(in)
	}
	if err == nil {
		err = c.rt.Sync()
	}
	if err != nil {
		c.notKept.Add(1)
		c.noteReceiptLoss("deliver_sm not kept (store or park full, or the store failed): answered ESME_RX_T_APPN, the upstream resends it")
		return codec.StatusXTAppn
	}
	return codec.StatusOK
}

// errParkFull: a receipt for an upstream id not mapped yet found the park
// full; the upstream is asked to resend it.
var errParkFull = errors.New("smppout: receipt park full")

// onReceipt maps a receipt to our id and reports it, or parks it until the
// id is accepted (the id map decides within park_ttl; with Options.Parker
// its copy is parked in the store first, so its answer promises it). An
// error is the sink's refusal, a full park or a copy not parked.
func (s *session) onReceipt(in *msg.Inbound, t *codec.TLVs, intermediate bool, rid []byte) error {
	c := s.c
	text := in.ShortMessage
	if len(text) == 0 {
		text, _ = t.Get(codec.TagMessagePayload)
	}
	var rt receipt.Receipt
	parsed := false
	if len(text) > 0 {
		if r, err := receipt.Parse(text); err == nil {
			rt, parsed = r, true
		}
	}
	id := rid
	if len(id) == 0 && parsed {
		id = rt.ID
	}
	keys := &s.rx.keys
	c.receiptKeys(keys, id, s.rx.key[:0])
	r := &s.rx.rcpt
	*r = msg.Receipt{Connector: c.opts.ID, Intermediate: intermediate, State: receiptState(t, &rt, parsed, intermediate),
		UpstreamID: id, Raw: in.Raw, Resends: true}
	if keys.n == 0 {
		// No id at all: no submit can ever claim it. Kept as a dead
		// letter (ID 0), answered ESME_ROK.
		c.badReceipts.Add(1)
		return c.rt.Receipt(r)
	}
	if parsed && rt.Has&receipt.FieldErr != 0 && rt.Bad&receipt.FieldErr == 0 {
		r.Err = uint16(min(max(rt.ErrCode, 0), 0xFFFF))
	}
	if ne, ok := t.Get(codec.TagNetworkErrorCode); ok && len(ne) == 3 {
		r.NetworkError, r.HasNetErr = [3]byte{ne[0], ne[1], ne[2]}, true
	}
	if parsed && !rt.DoneDate.IsZero() {
		r.Done = rt.DoneDate.UnixNano()
	}
	ourID, ok := c.lookup(keys)
	if !ok {
		c.park.mu.Lock()
		var err error
		if ourID, ok = c.lookup(keys); !ok {
			err = c.parkReceipt(keys, r, &s.rx.pbuf)
		}
		c.park.mu.Unlock()
		if !ok {
			return err
		}
	}
	r.ID = ourID
	return c.rt.Receipt(r)
}

// lookup tries each key in order.
func (c *client) lookup(k *idKeys) (msg.ID, bool) {
	for i := 0; i < k.n; i++ {
		if id, ok := c.opts.IDMap.Upstream(c.opts.ID, k.key(i)); ok {
			return id, true
		}
		if id, ok := c.pending.find(k.key(i)); ok {
			return id, true
		}
	}
	return 0, false
}

// receiptState takes the message_state TLV, else the stat: word (a word we
// do not know, FAILED say, counts as UNDELIVERABLE), else ENROUTE for an
// intermediate notification and UNKNOWN otherwise.
func receiptState(t *codec.TLVs, rt *receipt.Receipt, parsed, intermediate bool) msg.State {
	if v, ok := t.Uint8(codec.TagMessageState); ok && v >= uint8(msg.StateEnroute) && v <= uint8(msg.StateRejected) {
		return msg.State(v)
	}
	if parsed {
		if v, ok := rt.Stat.MessageState(); ok {
			return msg.State(v)
		}
		if rt.Stat == receipt.StatOther {
			return msg.StateUndeliverable
		}
	}
	if intermediate {
		return msg.StateEnroute
	}
	return msg.StateUnknown
}
