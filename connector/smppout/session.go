package smppout

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// Session timing.
const (
	minTick         = 5 * time.Millisecond
	maxTick         = time.Second
	maxThrottleWait = 20 * time.Millisecond // re-check an injected clock at least this often
	maxUnbindWait   = 2 * time.Second
)

var errUnbound = errors.New("smppout: the upstream unbound the session")

// bindError is a bind refused by the upstream.
type bindError struct{ status codec.Status }

func (e *bindError) Error() string { return "smppout: bind refused: " + e.status.String() }

// session is one bind to the upstream: a worker goroutine (run) that
// connects, binds, reconnects with backoff and sends, and while connected
// a reader goroutine (readLoop) that handles everything the upstream sends.
type session struct {
	c    *client
	idx  int
	kind codec.CommandID
	tx   bool
	log  zerolog.Logger

	wmu sync.Mutex // serialises writes of the worker and the reader

	// mu guards win, cur (the reader compares against it), the send
	// state of the jobs this session holds, live and calls.
	mu    sync.Mutex
	win   window
	cur   *job     // job whose parts are being sent; set by the worker only
	live  net.Conn // the bound connection, for forwarded calls; nil when down
	calls []call   // cancel_sm / replace_sm waiting for a response

	room   chan struct{} // the reader freed a window slot
	kick   chan struct{} // the dispatcher has ready jobs
	lastRx atomic.Int64  // mono ns of the last PDU read
	elSeq  atomic.Uint32 // outstanding enquire_link, 0 = none

	// Worker-owned.
	over      bool // past the bind gate: takes no submits (gate.go)
	elSent    int64
	tickEvery time.Duration
	tick      *time.Ticker
	throttle  *time.Timer
	enc       encoder
	ctl       []byte
	doneBuf   []*job

	// Reader-owned (the worker uses rbuf only while binding, before the
	// reader starts).
	rx reader
}

func newSession(c *client, idx int, kind codec.CommandID) *session {
	o := &c.opts
	s := &session{
		c: c, idx: idx, kind: kind, tx: kind != codec.BindReceiverID,
		log:     c.log.With().Int("bind", idx).Str("bind_type", kind.String()).Logger(),
		win:     newWindow(o.Window),
		room:    make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
		enc:     newEncoder(),
		ctl:     make([]byte, 0, codec.HeaderLen),
		doneBuf: make([]*job, 0, o.Window+1),
		rx:      newReader(),
	}
	s.tickEvery = min(max(min(o.EnquireLink, o.ResponseTimeout)/4, minTick), maxTick)
	s.tick = time.NewTicker(s.tickEvery)
	s.tick.Stop()
	s.throttle = time.NewTimer(time.Hour)
	s.throttle.Stop()
	return s
}

// run is the worker: connect, serve, reconnect, until the connector stops.
func (s *session) run() {
	defer s.c.wg.Done()
	c := s.c
	fails := 0
	for first := true; ; first = false {
		if c.shuttingDown() {
			return
		}
		if !s.waitGate() {
			return
		}
		if !first {
			c.reconnect.Add(1)
		}
		nc, err := s.connect()
		if err != nil {
			if c.shuttingDown() {
				return
			}
			d := backoff(c.opts.ReconnectMin, c.opts.ReconnectMax, fails)
			fails++
			ev := s.log.Warn().Err(err).Str("remote", c.addr).Int("attempt", fails).Dur("retry_in", d)
			var be *bindError
			if errors.As(err, &be) {
				ev = ev.Stringer("status", be.status)
			}
			ev.Msg("upstream bind failed")
			if !s.sleep(d) {
				return
			}
			continue
		}
		fails = 0
		s.serve(nc)
		if c.shuttingDown() || !s.sleep(backoff(c.opts.ReconnectMin, c.opts.ReconnectMax, 0)) {
			return
		}
	}
}

// sleep waits d; false when the connector stops meanwhile.
func (s *session) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.c.ctx.Done():
		return false
	}
}

// connect dials (TLS if configured) and binds. The bind runs on this
// goroutine with its deadline; the connector stopping aborts it.
func (s *session) connect() (net.Conn, error) {
	c := s.c
	o := &c.opts
	d := net.Dialer{Timeout: o.ResponseTimeout}
	nc, err := d.DialContext(c.ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	raw := nc
	stop := context.AfterFunc(c.ctx, func() { _ = raw.Close() })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(o.ResponseTimeout))
	if o.TLS != nil {
		tc := tls.Client(nc, o.TLS)
		if err := tc.Handshake(); err != nil {
			_ = raw.Close()
			return nil, err
		}
		nc = tc
	}
	s.mu.Lock()
	seq := s.win.control()
	s.mu.Unlock()
	b := codec.Bind{SystemID: []byte(o.SystemID), Password: []byte(o.Password), SystemType: []byte(o.SystemType),
		InterfaceVersion: codec.InterfaceVersion34}
	frame, err := b.Append(s.enc.frame[:0], codec.Header{CommandID: s.kind, Sequence: seq})
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	if _, err := nc.Write(frame); err != nil {
		_ = raw.Close()
		return nil, err
	}
	s.rx.r0, s.rx.r1 = 0, 0
	for {
		f, err := s.rx.readFrame(nc)
		if err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("smppout: waiting for bind response: %w", err)
		}
		h, _ := codec.ParseHeader(f)
		switch h.CommandID {
		case s.kind.Response(), codec.GenericNackID:
			if h.Status != codec.StatusOK || h.CommandID == codec.GenericNackID {
				_ = raw.Close()
				return nil, &bindError{status: h.Status}
			}
			_ = nc.SetDeadline(time.Time{})
			return nc, nil
		}
	}
}

// serve runs one bound connection until it dies or the connector stops,
// then hands back what was in flight.
func (s *session) serve(nc net.Conn) {
	c := s.c
	dead := make(chan struct{})
	s.over = false
	s.lastRx.Store(c.mono())
	s.elSeq.Store(0)
	s.setUp(true)
	s.setLive(nc)
	s.log.Info().Str("remote", c.addr).Str("system_id", c.opts.SystemID).Msg("upstream bound")
	go s.readLoop(nc, dead)
	s.tick.Reset(s.tickEvery)
	reason := s.loop(nc, dead)
	s.tick.Stop()
	s.setUp(false)
	_ = nc.Close()
	<-dead
	s.setLive(nil)
	if s.rx.err != nil && reason == nil {
		reason = s.rx.err
	}
	n := s.abandon()
	if errors.Is(reason, errGated) {
		s.log.Info().Str("event", "upstream_unbound_gated").Int("in_flight", n).
			Msg("upstream unbound: past this node's share of cluster_binds")
	} else if !c.shuttingDown() {
		s.log.Warn().AnErr("reason", reason).Int("in_flight", n).Msg("upstream connection lost")
	}
}

// loop is the connected worker loop; it returns why it ended (nil when
// the connector stops). A transmitting session with room takes the oldest
// ready job itself, and sleeps when there is none until kicked.
func (s *session) loop(nc net.Conn, dead chan struct{}) error {
	c := s.c
	for {
		if s.tx && !s.over && s.cur == nil && s.hasRoom() {
			if j := c.nextReady(); j != nil {
				s.take(j)
				s.pump(nc)
				continue
			}
		}
		select {
		case <-s.kick:
		case <-s.room:
			s.pump(nc)
		case <-s.throttle.C:
			s.pump(nc)
		case <-s.tick.C:
			if err := s.housekeep(nc); err != nil {
				return err
			}
			if err := s.gate(); err != nil {
				s.unbind(nc, dead)
				return err
			}
		case <-dead:
			return nil
		case <-c.ctx.Done():
			s.unbind(nc, dead)
			return nil
		}
	}
}

func (s *session) setUp(up bool) {
	d := int32(1)
	if !up {
		d = -1
	}
	s.c.bindsUp.Add(d)
	if s.tx {
		s.c.txUp.Add(d)
	}
}

func (s *session) hasRoom() bool {
	s.mu.Lock()
	r := s.win.room()
	s.mu.Unlock()
	return r
}

// take starts an attempt on a job taken from the dispatcher.
func (s *session) take(j *job) {
	c := s.c
	m := j.m
	if !m.Claim() {
		c.fail(j, 0, msg.StateDeleted)
		return
	}
	if c.now() >= j.expires {
		c.expire(j)
		return
	}
	if st, ok := s.prepare(j); !ok {
		c.fail(j, uint32(st), msg.StateRejected)
		return
	}
	m.Attempts++
	s.mu.Lock()
	j.temp, j.inflight = false, 0
	j.next = j.nextUnaccepted(0)
	s.cur = j
	s.mu.Unlock()
}

// pump sends parts of the current job while the window and the throughput
// bucket allow.
func (s *session) pump(nc net.Conn) {
	for s.cur != nil && s.hasRoom() {
		if w := s.c.bucket.take(s.c.now()); w > 0 {
			s.throttle.Reset(min(time.Duration(w), maxThrottleWait))
			return
		}
		s.sendNext(nc)
	}
}

// sendNext encodes and sends the current job's next part (a slot is free).
func (s *session) sendNext(nc net.Conn) {
	c := s.c
	j := s.cur
	part := j.next
	frame, err := s.encode(j, part)
	s.mu.Lock()
	if err != nil && !j.failed {
		j.failed, j.status = true, uint32(codec.StatusOf(err))
	}
	if j.failed || j.temp {
		// Stop this attempt; whoever sees the last response completes it.
		s.cur = nil
		done := j.inflight == 0
		s.mu.Unlock()
		if done {
			c.complete(j)
		}
		return
	}
	seq := s.win.put(j, part, c.mono())
	j.inflight++
	j.next = j.nextUnaccepted(part + 1)
	if j.next >= j.nparts {
		s.cur = nil
	}
	s.mu.Unlock()
	binary.BigEndian.PutUint32(frame[12:16], seq)
	c.submitted.Add(1)
	if s.write(nc, frame) != nil {
		// The reader sees the broken connection too; the slot is handed
		// back on teardown.
		_ = nc.Close()
	}
}

// housekeep runs on the tick: enquire_link and response timeouts. An error
// means the connection is to be dropped.
func (s *session) housekeep(nc net.Conn) error {
	c := s.c
	o := &c.opts
	now := c.mono()
	if s.elSeq.Load() != 0 {
		if now-s.elSent > int64(o.ResponseTimeout) {
			return errors.New("smppout: enquire_link unanswered")
		}
	} else if now-s.lastRx.Load() >= int64(o.EnquireLink) {
		s.mu.Lock()
		seq := s.win.control()
		s.mu.Unlock()
		s.elSeq.Store(seq)
		s.elSent = now
		s.ctl = codec.AppendHeaderOnly(s.ctl[:0], codec.Header{CommandID: codec.EnquireLinkID, Sequence: seq})
		if err := s.write(nc, s.ctl); err != nil {
			return err
		}
	}
	if n := s.expireSlots(now - int64(o.ResponseTimeout)); n > 0 {
		s.log.Warn().Int("timed_out", n).Dur("response_timeout", o.ResponseTimeout).Msg("submit_sm unanswered: retrying")
	}
	return nil
}

// expireSlots gives up on submits sent before cutoff (a temporary failure)
// and returns how many.
func (s *session) expireSlots(cutoff int64) int {
	n := 0
	done := s.doneBuf[:0]
	s.mu.Lock()
	for i := range s.win.slots {
		sl := &s.win.slots[i]
		if sl.seq == 0 || sl.sentAt > cutoff {
			continue
		}
		j := sl.job
		s.win.release(uint32(i))
		j.inflight--
		j.temp = true
		j.unsure = true // the upstream may have taken it: never handed back
		n++
		if j.inflight == 0 && s.cur != j {
			done = append(done, j)
		}
	}
	s.mu.Unlock()
	for i, j := range done {
		done[i] = nil
		s.c.complete(j)
	}
	s.doneBuf = done[:0]
	return n
}

// abandon hands back everything in flight after the connection is gone
// (the reader has exited) and returns how many submits were outstanding.
func (s *session) abandon() int {
	n := 0
	done := s.doneBuf[:0]
	s.mu.Lock()
	for i := range s.win.slots {
		sl := &s.win.slots[i]
		if sl.seq == 0 {
			continue
		}
		j := sl.job
		s.win.release(uint32(i))
		j.inflight--
		j.temp = true
		j.unsure = true // the upstream may have taken it: never handed back
		n++
		if j.inflight == 0 && s.cur != j {
			done = append(done, j)
		}
	}
	if j := s.cur; j != nil {
		s.cur = nil
		j.temp = true
		if j.inflight == 0 {
			done = append(done, j)
		}
	}
	s.mu.Unlock()
	for i, j := range done {
		done[i] = nil
		s.c.complete(j)
	}
	s.doneBuf = done[:0]
	return n
}

// unbind asks the upstream to unbind and waits a little for its answer
// (the reader ends on unbind_resp).
func (s *session) unbind(nc net.Conn, dead chan struct{}) {
	s.mu.Lock()
	seq := s.win.control()
	s.mu.Unlock()
	s.ctl = codec.AppendHeaderOnly(s.ctl[:0], codec.Header{CommandID: codec.UnbindID, Sequence: seq})
	if s.write(nc, s.ctl) != nil {
		return
	}
	t := time.NewTimer(min(s.c.opts.ResponseTimeout, maxUnbindWait))
	defer t.Stop()
	select {
	case <-dead:
	case <-t.C:
	}
}

// write sends one frame; any goroutine of the session.
func (s *session) write(nc net.Conn, frame []byte) error {
	s.wmu.Lock()
	_ = nc.SetWriteDeadline(time.Now().Add(s.c.opts.ResponseTimeout))
	_, err := nc.Write(frame)
	s.wmu.Unlock()
	return err
}

// signalRoom wakes the worker after a slot was freed.
func (s *session) signalRoom() {
	select {
	case s.room <- struct{}{}:
	default:
	}
}
