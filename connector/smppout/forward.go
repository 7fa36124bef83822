package smppout

import (
	"context"
	"errors"
	"net"

	"github.com/smppd/smppd/codec"
)

// Errors of CancelUpstream and ReplaceUpstream.
var (
	ErrNotBound = errors.New("smppout: no transmitting session is bound")
	ErrLost     = errors.New("smppout: connection lost before the response")
)

// call is a cancel_sm or replace_sm waiting for its response.
type call struct {
	seq uint32
	ch  chan callResult
}

type callResult struct {
	status codec.Status
	err    error
}

// CancelUpstream sends cancel_sm p upstream, for a message the upstream
// already accepted: p.MessageID is the upstream's id (the one passed to
// Sink.Accepted) and the addresses those of the original submit. It waits
// for cancel_sm_resp (or generic_nack) on a bound transmitting session and
// returns its command_status; ErrNotBound, ErrLost or ctx's error when
// there is no answer. Any goroutine; it allocates (a cold path). The
// connector's own queue is not consulted: a message still queued here is
// cancelled with msg.Message.Cancel instead.
func (c *Connector) CancelUpstream(ctx context.Context, p *codec.CancelSM) (codec.Status, error) {
	return c.forward(ctx, func(dst []byte, seq uint32) ([]byte, error) {
		return p.Append(dst, codec.Header{CommandID: codec.CancelSMID, Sequence: seq})
	})
}

// ReplaceUpstream sends replace_sm p upstream (p.MessageID is the
// upstream's id) and waits for replace_sm_resp; see CancelUpstream.
func (c *Connector) ReplaceUpstream(ctx context.Context, p *codec.ReplaceSM) (codec.Status, error) {
	return c.forward(ctx, func(dst []byte, seq uint32) ([]byte, error) {
		return p.Append(dst, codec.Header{CommandID: codec.ReplaceSMID, Sequence: seq})
	})
}

func (c *Connector) forward(ctx context.Context, build func(dst []byte, seq uint32) ([]byte, error)) (codec.Status, error) {
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
		frame, err := build(nil, seq)
		if err == nil {
			err = s.write(nc, frame)
		}
		if err != nil {
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
