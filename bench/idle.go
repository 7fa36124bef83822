package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

// IdleConfig is a run that binds Sessions connections and holds them
// without traffic, answering what the SMSC sends (enquire_link above all),
// to measure what bound but idle sessions cost the server.
type IdleConfig struct {
	Addr       string
	SystemID   string
	Password   string
	SystemType string
	Bind       BindMode
	Sessions   int
	// Parallel is how many binds are in flight at once (default 64): enough
	// to bind thousands in seconds, few enough not to overflow the
	// server's accept backlog.
	Parallel int
	// Hold is how long to keep the sessions once all binds are settled;
	// 0 holds until ctx ends.
	Hold time.Duration
	// OnBound, when set, is called once all binds are settled (bound or
	// failed), before holding.
	OnBound func(bound, failed int, took time.Duration)
}

// IdleResult is a finished idle run.
type IdleResult struct {
	Addr         string   `json:"addr"`
	Sessions     int      `json:"sessions"`
	Bound        int      `json:"bound"`
	Failed       int      `json:"failed"` // binds refused or broken (a cancelled run leaves some untried)
	BindSeconds  float64  `json:"bind_s"` // until every bind was settled
	HeldSeconds  float64  `json:"held_s"`
	Dropped      int      `json:"dropped"` // bound sessions the SMSC closed or unbound while held
	EnquireLinks uint64   `json:"enquire_links"`
	Errors       []string `json:"errors,omitempty"` // the first few distinct failures
}

const maxIdleErrors = 5

// idleConn is one held session: a connection and a buffer for the small
// PDUs an idle session receives.
type idleConn struct {
	c       net.Conn
	buf     []byte
	wmu     sync.Mutex // the holder answers, Idle's end unbinds
	dropped atomic.Bool
}

// Idle binds cfg.Sessions sessions and holds them as IdleConfig says. The
// first bind goes alone, so that the server verifies the password once and
// the rest hit its credential cache. It fails only when the first bind
// fails; single failures are counted in the result.
func Idle(ctx context.Context, cfg IdleConfig) (*IdleResult, error) {
	if cfg.Sessions < 1 {
		return nil, errors.New("bench: idle sessions must be at least 1")
	}
	if cfg.Parallel < 1 {
		cfg.Parallel = 64
	}
	res := &IdleResult{Addr: cfg.Addr, Sessions: cfg.Sessions}
	start := time.Now()
	first, err := idleBind(&cfg)
	if err != nil {
		return nil, err
	}
	conns := make([]*idleConn, cfg.Sessions)
	conns[0] = first
	var (
		next   atomic.Int64
		mu     sync.Mutex
		failed int
		seen   = map[string]bool{}
		wg     sync.WaitGroup
	)
	next.Store(1)
	for w := 0; w < cfg.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= cfg.Sessions {
					return
				}
				c, err := idleBind(&cfg)
				if err == nil {
					conns[i] = c
					continue
				}
				mu.Lock()
				failed++
				if msg := err.Error(); !seen[msg] && len(seen) < maxIdleErrors {
					seen[msg] = true
					res.Errors = append(res.Errors, msg)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	res.BindSeconds = took.Seconds()
	var enq atomic.Uint64
	var holders sync.WaitGroup
	for _, c := range conns {
		if c == nil {
			continue
		}
		res.Bound++
		holders.Add(1)
		go func(c *idleConn) {
			defer holders.Done()
			c.hold(&enq)
		}(c)
	}
	res.Failed = failed
	if cfg.OnBound != nil {
		cfg.OnBound(res.Bound, res.Failed, took)
	}
	held := time.Now()
	if ctx.Err() == nil {
		var timeout <-chan time.Time
		if cfg.Hold > 0 {
			t := time.NewTimer(cfg.Hold)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-timeout:
		}
	}
	res.HeldSeconds = time.Since(held).Seconds()
	for _, c := range conns {
		if c != nil {
			if c.dropped.Load() {
				res.Dropped++
			}
			c.close()
		}
	}
	holders.Wait()
	res.EnquireLinks = enq.Load()
	return res, nil
}

// idleBind dials and binds one session.
func idleBind(cfg *IdleConfig) (*idleConn, error) {
	c, err := net.DialTimeout("tcp", cfg.Addr, bindTimeout)
	if err != nil {
		return nil, err
	}
	ic := &idleConn{c: c, buf: make([]byte, 0, 256)}
	id := codec.BindTransmitterID
	if cfg.Bind == BindTransceiver {
		id = codec.BindTransceiverID
	}
	b := codec.Bind{
		SystemID:         []byte(cfg.SystemID),
		Password:         []byte(cfg.Password),
		SystemType:       []byte(cfg.SystemType),
		InterfaceVersion: codec.InterfaceVersion34,
	}
	out, err := b.Append(nil, codec.Header{CommandID: id, Sequence: 1})
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(bindTimeout))
	if _, err := c.Write(out); err != nil {
		_ = c.Close()
		return nil, err
	}
	for {
		f, err := ic.read()
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("waiting for bind response: %w", err)
		}
		h, _ := codec.ParseHeader(f)
		if h.CommandID != id.Response() && h.CommandID != codec.GenericNackID {
			continue
		}
		if h.Status != codec.StatusOK || h.CommandID == codec.GenericNackID {
			_ = c.Close()
			return nil, fmt.Errorf("bind refused: %s (%s)", h.Status, h.Status.Description())
		}
		_ = c.SetDeadline(time.Time{})
		return ic, nil
	}
}

// read returns the next PDU; it is valid until the next read. Two reads
// per PDU (header, then body) are fine for a session that is idle.
func (ic *idleConn) read() ([]byte, error) {
	ic.buf = ic.buf[:codec.HeaderLen]
	if _, err := io.ReadFull(ic.c, ic.buf); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(ic.buf))
	if n < codec.HeaderLen || n > maxPDULen {
		return nil, fmt.Errorf("bench: command_length %d", n)
	}
	if n > cap(ic.buf) {
		ic.buf = append(ic.buf, make([]byte, n-codec.HeaderLen)...)
	}
	ic.buf = ic.buf[:n]
	if _, err := io.ReadFull(ic.c, ic.buf[codec.HeaderLen:]); err != nil {
		return nil, err
	}
	return ic.buf, nil
}

// hold answers the SMSC until the connection ends: enquire_link, unbind,
// deliver_sm (an MO or receipt for bench), and generic_nack to anything
// else it asks.
func (ic *idleConn) hold(enq *atomic.Uint64) {
	for {
		f, err := ic.read()
		if err != nil {
			ic.dropped.Store(true)
			return
		}
		h, _ := codec.ParseHeader(f)
		var resp codec.Header
		switch h.CommandID {
		case codec.EnquireLinkID:
			enq.Add(1)
			resp = codec.Header{CommandID: codec.EnquireLinkRespID, Sequence: h.Sequence}
		case codec.UnbindID:
			ic.dropped.Store(true) // before answering: the SMSC may look as soon as it reads the answer
			ic.write(codec.AppendHeaderOnly(nil, codec.Header{CommandID: codec.UnbindRespID, Sequence: h.Sequence}))
			_ = ic.c.Close()
			return
		case codec.DeliverSMID:
			b := codec.AppendHeaderOnly(nil, codec.Header{CommandID: codec.DeliverSMRespID, Sequence: h.Sequence})
			b = append(b, 0) // empty message_id
			binary.BigEndian.PutUint32(b, respPDULen)
			ic.write(b)
			continue
		default:
			if h.CommandID.IsResponse() {
				continue
			}
			resp = codec.Header{CommandID: codec.GenericNackID, Status: codec.StatusInvCmdID, Sequence: h.Sequence}
		}
		ic.write(codec.AppendHeaderOnly(nil, resp))
	}
}

func (ic *idleConn) write(b []byte) {
	ic.wmu.Lock()
	_, _ = ic.c.Write(b)
	ic.wmu.Unlock()
}

// close unbinds without waiting for the answer (the server may be
// unbinding thousands at once) and closes; the holder then returns. A
// session the SMSC dropped is already closed.
func (ic *idleConn) close() {
	if !ic.dropped.Load() {
		_ = ic.c.SetWriteDeadline(time.Now().Add(unbindWait))
		ic.write(codec.AppendHeaderOnly(nil, codec.Header{CommandID: codec.UnbindID, Sequence: 0x7FFFFFFF}))
	}
	_ = ic.c.Close()
}
