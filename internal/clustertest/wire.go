package clustertest

import (
	"bufio"
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
	ioTimeout   = 5 * time.Second // a write, or a bind answer, slower than this fails the connection
	dialTimeout = 2 * time.Second
)

// wire is one SMPP connection: one reader (the owner's goroutine) and
// writers from any goroutine under wmu.
type wire struct {
	c    net.Conn
	br   *bufio.Reader
	rbuf []byte
	wmu  sync.Mutex
	wbuf []byte
	seq  uint32 // under wmu
}

func dial(addr string) (*wire, error) {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	return &wire{c: c, br: bufio.NewReaderSize(c, 64<<10), wbuf: make([]byte, 0, 512)}, nil
}

func (w *wire) close() { _ = w.c.Close() }

// read returns the next frame, a view valid until the next read.
func (w *wire) read() (codec.Header, []byte, error) {
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

type encoder func(dst []byte, h codec.Header) ([]byte, error)

// send writes a request with the next sequence number; before runs under
// the write lock once the sequence is known, so an answer cannot overtake
// the caller's bookkeeping.
func (w *wire) send(id codec.CommandID, enc encoder, before func(seq uint32)) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.seq++
	if w.seq == 0 || w.seq > 0x7FFFFFFF {
		w.seq = 1
	}
	if before != nil {
		before(w.seq)
	}
	return w.writeLocked(codec.Header{CommandID: id, Sequence: w.seq}, enc)
}

// reply writes the response to request h.
func (w *wire) reply(h codec.Header, st codec.Status, enc encoder) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.writeLocked(codec.Header{CommandID: h.CommandID.Response(), Status: st, Sequence: h.Sequence}, enc)
}

func (w *wire) writeLocked(h codec.Header, enc encoder) error {
	var err error
	if enc == nil {
		w.wbuf = codec.AppendHeaderOnly(w.wbuf[:0], h)
	} else if w.wbuf, err = enc(w.wbuf[:0], h); err != nil {
		return err
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	_, err = w.c.Write(w.wbuf)
	return err
}

// bind sends a bind of kind as the test's user and waits for its answer.
func (w *wire) bind(kind codec.CommandID) error { return w.bindAs(kind, user, password) }

// bindAs sends a bind of kind as systemID and waits for its answer.
func (w *wire) bindAs(kind codec.CommandID, systemID, pass string) error {
	b := codec.Bind{SystemID: []byte(systemID), Password: []byte(pass), InterfaceVersion: codec.InterfaceVersion34}
	if err := w.send(kind, b.Append, nil); err != nil {
		return err
	}
	_ = w.c.SetReadDeadline(time.Now().Add(ioTimeout))
	defer w.c.SetReadDeadline(time.Time{})
	for {
		h, _, err := w.read()
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

// housekeeping answers enquire_link and unbind; it reports whether h was
// one of them and whether the connection should end.
func (w *wire) housekeeping(h codec.Header) (handled, end bool) {
	switch h.CommandID {
	case codec.EnquireLinkID:
		_ = w.reply(h, codec.StatusOK, nil)
		return true, false
	case codec.UnbindID:
		_ = w.reply(h, codec.StatusOK, nil)
		return true, true
	case codec.EnquireLinkRespID, codec.UnbindRespID:
		return true, false
	}
	return false, false
}
