package smppout

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// Errors of forwarded requests (cancel_sm, replace_sm), passed to their
// done callback (a request that outlives ResponseTimeout gets
// context.DeadlineExceeded).
var (
	ErrNotBound = errors.New("smppout: no transmitting session is bound")
	ErrLost     = errors.New("smppout: connection lost before the response")
	ErrStopped  = errors.New("smppout: connector stopped before the request was sent")
)

// forwardQueue bounds the cancel_sm and replace_sm requests waiting for
// the forwarder goroutine: beyond it CancelUpstream and ReplaceUpstream
// refuse rather than block the event loop that asks.
const forwardQueue = 64

// call is a cancel_sm or replace_sm waiting for its response.
type call struct {
	seq uint32
	ch  chan callResult
}

type callResult struct {
	status codec.Status
	err    error
}

// fwdReq is a cancel_sm or replace_sm taken by CancelUpstream or
// ReplaceUpstream: the frame is encoded at once (so the caller's views
// need not outlive the call) with sequence 0, set when it is sent.
type fwdReq struct {
	id       msg.ID
	cmd      codec.CommandID
	frame    []byte
	deadline time.Time // taken + ResponseTimeout: the wait in the queue counts
	done     func(codec.Status, error)
}

// fwdRequests is the forwarder's queue. closed is set, under mu, when the
// forwarder quits, so a request is either taken before (and answered by
// the forwarder's last drain) or refused: none is left unanswered.
type fwdRequests struct {
	mu     sync.Mutex
	closed bool
	ch     chan fwdReq
}

// CancelUpstream implements connector.Driver (Caps.Cancel): it asks the
// upstream to cancel a message it accepted, and never blocks. id is our id; p is sent as it
// is (p.MessageID is the upstream's id, the addresses those submitted).
// true means the request was taken and done will get, exactly once and
// from the forwarder goroutine, the upstream's cancel_sm_resp status or
// the error that kept it from coming within ResponseTimeout of now
// (ErrNotBound, ErrLost, ErrStopped, context.DeadlineExceeded). The
// connector reports nothing else: what the outcome means for the message
// is the caller's; done must not be nil. false when no transmitting bind
// is up, the connector is not running, p cannot be encoded or too many
// requests wait.
func (c *client) CancelUpstream(id msg.ID, p *codec.CancelSM, done connector.UpstreamDone) bool {
	if !c.forwarding() {
		return false
	}
	frame, err := p.Append(nil, codec.Header{CommandID: codec.CancelSMID})
	return err == nil && c.enqueue(fwdReq{id: id, cmd: codec.CancelSMID, frame: frame, done: done})
}

// ReplaceUpstream passes replace_sm p upstream (p.MessageID is the
// upstream's id), for connector.Driver (Caps.Replace): the same rules as
// CancelUpstream, done getting the replace_sm_resp status.
func (c *client) ReplaceUpstream(id msg.ID, p *codec.ReplaceSM, done connector.UpstreamDone) bool {
	if !c.forwarding() {
		return false
	}
	frame, err := p.Append(nil, codec.Header{CommandID: codec.ReplaceSMID})
	return err == nil && c.enqueue(fwdReq{id: id, cmd: codec.ReplaceSMID, frame: frame, done: done})
}

// forwarding reports whether a request could be sent now.
func (c *client) forwarding() bool {
	return !c.shuttingDown() && c.Up()
}

func (c *client) enqueue(r fwdReq) bool {
	r.deadline = time.Now().Add(c.opts.ResponseTimeout)
	q := &c.fwd
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	select {
	case q.ch <- r:
		return true
	default:
		return false
	}
}

// forwarder sends the queued cancel_sm and replace_sm one at a time (they
// are rare; one at a time keeps a slow upstream from piling up calls) and
// reports each outcome, until the connector stops; then what is still
// queued is reported ErrStopped.
func (c *client) forwarder() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			c.fwd.mu.Lock()
			c.fwd.closed = true
			c.fwd.mu.Unlock()
			for {
				select {
				case r := <-c.fwd.ch:
					r.done(0, ErrStopped)
				default:
					return
				}
			}
		case r := <-c.fwd.ch:
			c.forwardOne(r)
		}
	}
}

func (c *client) forwardOne(r fwdReq) {
	ctx, cancel := context.WithDeadline(c.ctx, r.deadline)
	st, err := c.forward(ctx, r.frame)
	cancel()
	if err != nil {
		c.log.Debug().Stringer("id", r.id).Stringer("command", r.cmd).Err(err).Msg("forwarded request not answered")
	}
	r.done(st, err)
}

// forward sends frame (its sequence number is set here) on the first bound
// transmitting session and waits for the response.
func (c *client) forward(ctx context.Context, frame []byte) (codec.Status, error) {
	if err := ctx.Err(); err != nil {
		return 0, err // its time went by in the queue: not sent at all
	}
	for _, s := range c.sessions {
		if !s.tx {
			continue
		}
		s.mu.Lock()
		nc := s.live
		if nc == nil {
			s.mu.Unlock()
			continue
		}
		seq := s.win.control()
		ch := make(chan callResult, 1)
		s.calls = append(s.calls, call{seq: seq, ch: ch})
		s.mu.Unlock()
		binary.BigEndian.PutUint32(frame[12:16], seq)
		if err := s.write(nc, frame); err != nil {
			s.dropCall(seq)
			return codec.StatusOf(err), err
		}
		select {
		case r := <-ch:
			return r.status, r.err
		case <-ctx.Done():
			s.dropCall(seq)
			return 0, ctx.Err()
		}
	}
	return 0, ErrNotBound
}

// setLive publishes the session's connection for forwarded calls (nil
// when it goes down, failing the calls still waiting).
func (s *session) setLive(nc net.Conn) {
	s.mu.Lock()
	s.live = nc
	calls := s.calls
	if nc == nil {
		s.calls = nil
	}
	s.mu.Unlock()
	if nc == nil {
		for _, cl := range calls {
			cl.ch <- callResult{err: ErrLost}
		}
	}
}

// finishCall hands a response to the call waiting for seq; false when none
// is.
func (s *session) finishCall(seq uint32, st codec.Status) bool {
	s.mu.Lock()
	for i, cl := range s.calls {
		if cl.seq == seq {
			s.calls = append(s.calls[:i], s.calls[i+1:]...)
			s.mu.Unlock()
			cl.ch <- callResult{status: st}
			return true
		}
	}
	s.mu.Unlock()
	return false
}

func (s *session) dropCall(seq uint32) {
	s.mu.Lock()
	for i, cl := range s.calls {
		if cl.seq == seq {
			s.calls = append(s.calls[:i], s.calls[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}
