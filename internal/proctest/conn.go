// Package proctest holds what the process-level harnesses
// (internal/crash, internal/clustertest) share to drive a real smppd from
// outside: an SMPP client connection, a pool of receiver binds, the child
// process and its start-up wait, and the rewriting of TOML configuration.
// It speaks SMPP and HTTP only: no package of the server is imported.
package proctest

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	maxReadPDU  = 1 << 20
	IOTimeout   = 5 * time.Second // a write, or a bind answer, slower than this fails the connection
	dialTimeout = 2 * time.Second
)

// Conn is one SMPP connection: one reader (the owner's goroutine) and
// writers from any goroutine under wmu.
type Conn struct {
	c    net.Conn
	br   *bufio.Reader
	rbuf []byte
	wmu  sync.Mutex
	wbuf []byte
	seq  uint32 // under wmu
}

// NewConn wraps an established connection.
func NewConn(c net.Conn) *Conn {
	return &Conn{c: c, br: bufio.NewReaderSize(c, 64<<10), wbuf: make([]byte, 0, 512)}
}

// Dial connects to addr on loopback.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewConn(c), nil
}

// Close closes the connection.
func (w *Conn) Close() { _ = w.c.Close() }

// SetReadDeadline bounds the reads, as net.Conn's does.
func (w *Conn) SetReadDeadline(t time.Time) error { return w.c.SetReadDeadline(t) }

// Read returns the next frame, a view valid until the next Read.
func (w *Conn) Read() (codec.Header, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(w.br, hdr[:]); err != nil {
		return codec.Header{}, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < codec.HeaderLen || n > maxReadPDU {
		return codec.Header{}, nil, fmt.Errorf("peer sent command_length %d", n)
	}
	if cap(w.rbuf) < int(n) {
		w.rbuf = make([]byte, n)
	}
	f := w.rbuf[:n]
	copy(f, hdr[:])
	if _, err := io.ReadFull(w.br, f[4:]); err != nil {
		return codec.Header{}, nil, err
	}
	h, err := codec.ParseHeader(f)
	return h, f, err
}

// Encoder appends one whole PDU with header h to dst.
type Encoder func(dst []byte, h codec.Header) ([]byte, error)

// Send encodes a request with the next sequence number and writes it; it
// returns the sequence used. before runs under the write lock once the
// sequence is known, so a reply cannot overtake the caller's bookkeeping.
func (w *Conn) Send(id codec.CommandID, enc Encoder, before func(seq uint32)) (uint32, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.seq++
	if w.seq == 0 || w.seq > 0x7FFFFFFF {
		w.seq = 1
	}
	seq := w.seq
	if before != nil {
		before(seq)
	}
	return seq, w.writeLocked(codec.Header{CommandID: id, Sequence: seq}, enc)
}

// Reply writes a response to the request h.
func (w *Conn) Reply(h codec.Header, st codec.Status, enc Encoder) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.writeLocked(codec.Header{CommandID: h.CommandID.Response(), Status: st, Sequence: h.Sequence}, enc)
}

func (w *Conn) writeLocked(h codec.Header, enc Encoder) error {
	var err error
	if enc == nil {
		w.wbuf = codec.AppendHeaderOnly(w.wbuf[:0], h)
	} else if w.wbuf, err = enc(w.wbuf[:0], h); err != nil {
		return err
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(IOTimeout))
	_, err = w.c.Write(w.wbuf)
	return err
}

// Bind sends a bind of kind as systemID and waits for its answer,
// skipping anything the peer sends first.
func (w *Conn) Bind(kind codec.CommandID, systemID, pass string) error {
	b := codec.Bind{SystemID: []byte(systemID), Password: []byte(pass), InterfaceVersion: codec.InterfaceVersion34}
	if _, err := w.Send(kind, b.Append, nil); err != nil {
		return err
	}
	_ = w.c.SetReadDeadline(time.Now().Add(IOTimeout))
	defer w.c.SetReadDeadline(time.Time{})
	for {
		h, _, err := w.Read()
		if err != nil {
			return err
		}
		if h.CommandID == kind.Response() || h.CommandID == codec.GenericNackID {
			if h.Status != codec.StatusOK {
				return fmt.Errorf("%v refused: %v", kind, h.Status)
			}
			return nil
		}
	}
}

// Housekeeping answers enquire_link and unbind; it reports whether h was
// one of them and whether the connection should end.
func (w *Conn) Housekeeping(h codec.Header) (handled, end bool) {
	switch h.CommandID {
	case codec.EnquireLinkID:
		_ = w.Reply(h, codec.StatusOK, nil)
		return true, false
	case codec.UnbindID:
		_ = w.Reply(h, codec.StatusOK, nil)
		return true, true
	case codec.EnquireLinkRespID, codec.UnbindRespID:
		return true, false
	}
	return false, false
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
