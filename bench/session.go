package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

// Buffer sizes of a session. The read buffer holds the largest PDU we
// accept plus room for a burst; the write buffer a full window of the
// largest template plus responses to what one read can bring.
const (
	readBufLen  = 128 << 10
	maxPDULen   = codec.DefaultMaxPDULen
	respRoom    = 16 << 10
	bindTimeout = 10 * time.Second
	unbindWait  = time.Second
	drainPoll   = 50 * time.Millisecond
	respPDULen  = codec.HeaderLen + 1 // deliver_sm_resp with an empty message_id
)

// errUnbound is a session the SMSC unbound or closed while we still
// expected something.
var errUnbound = errors.New("bench: the SMSC unbound the session")

// stats are a session's counters, owned by its goroutine. Everything
// counts the measured phase only.
type stats struct {
	submitted, responses, ok, throttled, errors, nacks uint64
	stray                                              uint64 // responses to nothing outstanding
	deliver, receipts, enquire                         uint64
	dlrWant                                            uint64 // OK responses that asked for a receipt
}

// live is what a session publishes for the progress line and for the
// receipt wait of the others: stored once per read, read by anyone.
type live struct {
	submitted, responses, errors, receipts, dlrWant atomic.Uint64
	sending                                         atomic.Bool
	_                                               [24]byte // own cache line
}

// session is one bound connection and its goroutine's whole state.
type session struct {
	id   int
	cfg  *Config
	plan *templates
	rc   *receipts // nil without receipts
	run  *runState
	conn net.Conn

	rbuf   []byte
	r0, r1 int // unread octets are rbuf[r0:r1]
	wbuf   []byte

	win   *window
	sched int  // position in plan.sched
	ref   byte // UDH reference of the current long message

	quota       int64 // measured submit_sm still to send; -1 = no count
	measureFrom int64 // sends intended before this (ns on the run clock) are warm-up
	sendUntil   int64 // intended send times must be before this; 0 = no limit
	interval    int64 // ns between sends at the target rate; 0 = full speed
	next        int64 // intended time of the next send at the target rate
	stoppedAt   int64 // when sending ended; 0 while sending
	deadline    int64 // read deadline in force (run clock); 0 = none
	unbound     bool  // the SMSC unbound or answered our unbind

	sm    codec.SM
	resp  codec.SubmitSMResp
	st    stats
	respH latencyHist
	dlrH  latencyHist
	stat  map[codec.Status]uint64 // non-OK submit_sm_resp statuses
	last  int64                   // time of the last recorded event
	lastR int64                   // time of the last recorded response
	pub   *live
}

func newSession(id int, r *runState) *session {
	s := &session{
		id:    id,
		cfg:   r.cfg,
		plan:  r.plan,
		rc:    r.rc,
		run:   r,
		rbuf:  make([]byte, readBufLen),
		wbuf:  make([]byte, 0, r.cfg.Window*r.plan.maxFrame+respRoom),
		win:   newWindow(r.cfg.Window),
		quota: -1,
		respH: newLatencyHist(),
		stat:  make(map[codec.Status]uint64),
		pub:   &r.live[id],
	}
	if r.rc != nil {
		s.dlrH = newLatencyHist()
	}
	s.ref = byte(id * 37)
	return s
}

// now is the run clock: monotonic nanoseconds since the run's base.
func (s *session) now() int64 { return int64(time.Since(s.run.base)) }

// connect dials and binds. It runs before the common start.
func (s *session) connect() error {
	c, err := net.DialTimeout("tcp", s.cfg.Addr, bindTimeout)
	if err != nil {
		return err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.conn = c
	id := codec.BindTransmitterID
	if s.cfg.Bind == BindTransceiver {
		id = codec.BindTransceiverID
	}
	b := codec.Bind{
		SystemID:         []byte(s.cfg.SystemID),
		Password:         []byte(s.cfg.Password),
		SystemType:       []byte(s.cfg.SystemType),
		InterfaceVersion: codec.InterfaceVersion34,
	}
	out, err := b.Append(s.wbuf[:0], codec.Header{CommandID: id, Sequence: 1})
	if err != nil {
		return err
	}
	_ = c.SetDeadline(time.Now().Add(bindTimeout))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := c.Write(out); err != nil {
		return err
	}
	for {
		f, err := s.readFrame()
		if err != nil {
			return fmt.Errorf("waiting for bind response: %w", err)
		}
		h, _ := codec.ParseHeader(f)
		switch h.CommandID {
		case id.Response(), codec.GenericNackID:
			if h.Status != codec.StatusOK {
				return fmt.Errorf("bind refused: %s (%s)", h.Status, h.Status.Description())
			}
			if h.CommandID == codec.GenericNackID {
				return errors.New("bind answered with generic_nack")
			}
			return nil
		}
	}
}

// readFrame returns the next whole PDU, reading as needed (cold path: bind
// and unbind only). The frame is valid until the next read.
func (s *session) readFrame() ([]byte, error) {
	for {
		b := s.rbuf[s.r0:s.r1]
		n, err := codec.FrameLen(b, maxPDULen)
		if err != nil {
			return nil, err
		}
		if n > 0 && len(b) >= n {
			s.r0 += n
			return b[:n], nil
		}
		s.compact()
		m, err := s.conn.Read(s.rbuf[s.r1:])
		s.r1 += m
		if err != nil && m == 0 {
			return nil, err
		}
	}
}

// compact moves unread octets to the front when the free tail is short.
func (s *session) compact() {
	if s.r0 == s.r1 {
		s.r0, s.r1 = 0, 0
		return
	}
	if len(s.rbuf)-s.r1 < maxPDULen {
		s.r1 = copy(s.rbuf, s.rbuf[s.r0:s.r1])
		s.r0 = 0
	}
}

// loop runs traffic until sending is over, responses are in and receipts
// are in or timed out. It returns the first connection error.
func (s *session) loop() error {
	for {
		now := s.now()
		sending := s.stoppedAt == 0 && s.sending(now)
		if sending {
			s.fill(now)
		} else if s.stoppedAt == 0 {
			s.stoppedAt = now
			s.pub.sending.Store(false)
		}
		if err := s.flush(); err != nil {
			return err
		}
		s.publish()
		if !sending && s.finished(now) {
			return nil
		}
		if s.unbound {
			return errUnbound
		}
		if err := s.setDeadline(now, sending); err != nil {
			return err
		}
		n, err := s.conn.Read(s.rbuf[s.r1:])
		if n > 0 {
			s.r1 += n
			if cerr := s.consume(s.now()); cerr != nil {
				return cerr
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if s.stoppedAt != 0 && s.win.inFlight() == 0 && s.rc == nil {
				return nil // closed after everything was answered
			}
			return err
		}
	}
}

// sending reports whether more submit_sm are due.
func (s *session) sending(now int64) bool {
	if s.run.stop.Load() || s.quota == 0 {
		return false
	}
	t := now
	if s.interval > 0 {
		t = s.next
	}
	return s.sendUntil == 0 || t < s.sendUntil
}

// finished reports whether a session that stopped sending may leave:
// nothing outstanding (or DrainWait over), and without receipts, or with
// every sender done and every receipt asked for matched (or ReceiptWait
// over).
func (s *session) finished(now int64) bool {
	if s.win.inFlight() > 0 && now-s.stoppedAt < int64(s.cfg.DrainWait) {
		return false
	}
	if s.rc == nil {
		return true
	}
	if now-s.stoppedAt >= int64(s.cfg.DrainWait+s.cfg.ReceiptWait) {
		return true
	}
	var want, got uint64
	for i := range s.run.live {
		l := &s.run.live[i]
		if l.sending.Load() {
			return false
		}
		want += l.dlrWant.Load()
		got += l.receipts.Load()
	}
	return got >= want
}

// setDeadline arms the read deadline: the next scheduled send at a target
// rate, a short poll once sending stopped, none at full speed (a cancelled
// run wakes the read from outside).
func (s *session) setDeadline(now int64, sending bool) error {
	var d int64
	switch {
	case !sending:
		d = now + int64(drainPoll)
	case s.interval > 0 && !s.win.full():
		d = s.next
	}
	if d == s.deadline {
		return nil
	}
	s.deadline = d
	if d == 0 {
		return s.conn.SetReadDeadline(time.Time{})
	}
	return s.conn.SetReadDeadline(s.run.base.Add(time.Duration(d)))
}

// fill queues submit_sm into the write buffer while the window has room and
// (at a target rate) sends are due. Each gets the intended send time: now at
// full speed, its slot on the schedule at a rate, however late.
func (s *session) fill(now int64) {
	for !s.win.full() {
		at := now
		if s.interval > 0 {
			if s.next > now || (s.sendUntil != 0 && s.next >= s.sendUntil) {
				return
			}
			at = s.next
		}
		if at >= s.measureFrom {
			if s.quota == 0 {
				return
			}
			if s.quota > 0 {
				s.quota--
			}
			s.st.submitted++
		}
		if s.interval > 0 {
			s.next += s.interval
		}
		s.send(at)
	}
}

// send appends one pre-encoded submit_sm with a fresh sequence number.
func (s *session) send(at int64) {
	tp := &s.plan.tpl[s.plan.sched[s.sched]]
	if s.sched++; s.sched == len(s.plan.sched) {
		s.sched = 0
	}
	o := len(s.wbuf)
	s.wbuf = append(s.wbuf, tp.frame...)
	binary.BigEndian.PutUint32(s.wbuf[o+12:], s.win.put(at, s.plan.receipts))
	if tp.refOff != 0 {
		if tp.first {
			s.ref++
		}
		s.wbuf[o+tp.refOff] = s.ref
	}
}

// flush writes the write buffer in one call.
func (s *session) flush() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	_, err := s.conn.Write(s.wbuf)
	s.wbuf = s.wbuf[:0]
	return err
}

// consume handles every whole PDU in the read buffer; now is when they
// were read. A framing error is fatal (the stream cannot be resynchronised).
func (s *session) consume(now int64) error {
	for {
		b := s.rbuf[s.r0:s.r1]
		n, err := codec.FrameLen(b, maxPDULen)
		if err != nil {
			return err
		}
		if n == 0 || len(b) < n {
			break
		}
		if err := s.handle(b[:n], now); err != nil {
			return err
		}
		s.r0 += n
	}
	s.compact()
	return nil
}

// reply appends a body-less or empty-message_id response, flushing first
// when a burst of deliver_sm has filled the write buffer.
func (s *session) reply(id codec.CommandID, st codec.Status, seq uint32, withID bool) error {
	if cap(s.wbuf)-len(s.wbuf) < respPDULen {
		if err := s.flush(); err != nil {
			return err
		}
	}
	h := codec.Header{CommandID: id, Status: st, Sequence: seq}
	if !withID {
		s.wbuf = codec.AppendHeaderOnly(s.wbuf, h)
		return nil
	}
	o := len(s.wbuf)
	s.wbuf = codec.AppendHeaderOnly(s.wbuf, h)
	s.wbuf = append(s.wbuf, 0)
	binary.BigEndian.PutUint32(s.wbuf[o:], respPDULen)
	return nil
}

// handle dispatches one PDU (frame is whole, FrameLen-checked).
func (s *session) handle(frame []byte, now int64) error {
	h, _ := codec.ParseHeader(frame)
	switch h.CommandID {
	case codec.SubmitSMRespID, codec.GenericNackID:
		s.onResp(h, frame[codec.HeaderLen:], now)
	case codec.DeliverSMID:
		return s.onDeliver(h, frame[codec.HeaderLen:], now)
	case codec.EnquireLinkID:
		s.st.enquire++
		return s.reply(codec.EnquireLinkRespID, codec.StatusOK, h.Sequence, false)
	case codec.UnbindID:
		s.unbound = true
		return s.reply(codec.UnbindRespID, codec.StatusOK, h.Sequence, false)
	case codec.UnbindRespID:
		s.unbound = true
	default:
		if !h.CommandID.IsResponse() {
			return s.reply(codec.GenericNackID, codec.StatusInvCmdID, h.Sequence, false)
		}
	}
	return nil
}

// onResp settles a submit_sm: latency from the intended send time, status
// counts, and for receipts the message id to wait for.
func (s *session) onResp(h codec.Header, body []byte, now int64) {
	at, dlr, ok := s.win.take(h.Sequence)
	if !ok {
		s.st.stray++
		return
	}
	measured := at >= s.measureFrom
	if measured {
		s.st.responses++
		s.last, s.lastR = now, now
	}
	if h.CommandID == codec.GenericNackID || h.Status != codec.StatusOK {
		if !measured {
			return
		}
		switch {
		case h.CommandID == codec.GenericNackID:
			s.st.nacks++
		case h.Status == codec.StatusThrottled:
			s.st.throttled++
		default:
			s.st.errors++
		}
		s.stat[h.Status]++
		return
	}
	if measured {
		s.st.ok++
		s.respH.record(now - at)
	}
	if !dlr || s.rc == nil {
		return
	}
	if s.resp.Decode(body) != nil || len(s.resp.MessageID) == 0 {
		s.st.errors++ // an OK response without a usable id: its receipt cannot match
		return
	}
	if measured {
		s.st.dlrWant++
	}
	if rAt, done := s.rc.submitted(s.resp.MessageID, at); done && measured {
		s.st.receipts++
		s.dlrH.record(rAt - at)
	}
}

// onDeliver answers a deliver_sm and matches it when it is a receipt.
func (s *session) onDeliver(h codec.Header, body []byte, now int64) error {
	if err := s.sm.Decode(body); err != nil {
		return s.reply(codec.DeliverSMRespID, codec.StatusOf(err), h.Sequence, true)
	}
	s.st.deliver++
	if err := s.reply(codec.DeliverSMRespID, codec.StatusOK, h.Sequence, true); err != nil {
		return err
	}
	if s.rc == nil || s.sm.ESMClass&codec.ESMClassTypeMask != codec.ESMClassDeliveryReceipt {
		return nil
	}
	id, ok := s.sm.TLVs.CString(codec.TagReceiptedMessageID)
	if !ok || len(id) == 0 {
		id = receiptTextID(s.sm.ShortMessage)
	}
	if len(id) == 0 {
		return nil
	}
	if at, matched := s.rc.received(id, now); matched && at >= s.measureFrom {
		s.st.receipts++
		s.dlrH.record(now - at)
		s.last = now
	}
	return nil
}

// publish stores the counters for the progress line and the receipt wait.
func (s *session) publish() {
	s.pub.submitted.Store(s.st.submitted)
	s.pub.responses.Store(s.st.responses)
	s.pub.errors.Store(s.st.errors + s.st.throttled + s.st.nacks)
	s.pub.receipts.Store(s.st.receipts)
	s.pub.dlrWant.Store(s.st.dlrWant)
}

// unbind ends the session politely; errors only shorten the goodbye.
func (s *session) unbind() {
	if s.conn == nil {
		return
	}
	defer s.conn.Close()
	if s.unbound {
		_ = s.flush()
		return
	}
	s.wbuf = codec.AppendHeaderOnly(s.wbuf, codec.Header{CommandID: codec.UnbindID, Sequence: 0x7FFFFFFF})
	if s.flush() != nil {
		return
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(unbindWait))
	for {
		f, err := s.readFrame()
		if err != nil {
			return
		}
		h, _ := codec.ParseHeader(f)
		switch h.CommandID {
		case codec.UnbindRespID:
			return
		case codec.DeliverSMID:
			_ = s.reply(codec.DeliverSMRespID, codec.StatusOK, h.Sequence, true)
			_ = s.flush()
		case codec.EnquireLinkID, codec.UnbindID:
			_ = s.reply(h.CommandID.Response(), codec.StatusOK, h.Sequence, false)
			_ = s.flush()
			if h.CommandID == codec.UnbindID {
				return
			}
		}
	}
}
