// Package rawsmsc is the physical ceiling of an SMPP server on this
// machine: it answers every PDU by its command id alone, never parsing a
// body. Any bind is accepted, every submit_sm gets the same submit_sm_resp
// (only the sequence number is copied in), enquire_link and unbind are
// answered, other requests get generic_nack ESME_RINVCMDID, responses are
// dropped. One goroutine per connection reads into a fixed buffer and writes
// every answer to one read with one Write. Standard library only, so that
// the figure it gives owes nothing to our codec.
package rawsmsc

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
)

// SMPP 3.4 command ids and the statuses used here (§5.1.2, §5.1.3).
const (
	bindReceiver    = 0x00000001
	bindTransmitter = 0x00000002
	submitSM        = 0x00000004
	unbind          = 0x00000006
	bindTransceiver = 0x00000009
	enquireLink     = 0x00000015
	genericNack     = 0x80000000
	respBit         = 0x80000000
	statusInvCmdID  = 0x00000003
	statusInvCmdLen = 0x00000002
	headerLen       = 16
	maxPDU          = 72 << 10
	bufLen          = 256 << 10
)

// messageID is the id of every submit_sm_resp: the ceiling does no id work.
const messageID = "0000000000000001"

// Server is a running raw SMSC. Close stops it.
type Server struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Listen starts a server on addr ("127.0.0.1:0" picks a free port).
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, closes every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// Fixed answers; each is copied and its sequence number patched.
var (
	submitResp = header(submitSM|respBit, 0, headerLen+len(messageID)+1, append([]byte(messageID), 0))
	bindBody   = []byte("raw\x00")
)

func header(cmd, status uint32, n int, body []byte) []byte {
	b := make([]byte, headerLen, n)
	binary.BigEndian.PutUint32(b[0:], uint32(n))
	binary.BigEndian.PutUint32(b[4:], cmd)
	binary.BigEndian.PutUint32(b[8:], status)
	return append(b, body...)
}

// serve answers one connection until it closes, unbinds or breaks framing.
func serve(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	in := make([]byte, bufLen)
	out := make([]byte, 0, bufLen)
	r0, r1 := 0, 0
	for {
		n, err := c.Read(in[r1:])
		r1 += n
		quit := false
		for !quit && r1-r0 >= headerLen {
			f := in[r0:r1]
			l := int(binary.BigEndian.Uint32(f))
			if l < headerLen || l > maxPDU {
				out = appendHeader(out, genericNack, statusInvCmdLen, f[12:16])
				_, _ = c.Write(out)
				return
			}
			if len(f) < l {
				break
			}
			cmd := binary.BigEndian.Uint32(f[4:])
			seq := f[12:16]
			switch cmd {
			case submitSM:
				o := len(out)
				out = append(out, submitResp...)
				copy(out[o+12:o+16], seq)
			case bindTransmitter, bindReceiver, bindTransceiver:
				o := len(out)
				out = appendHeader(out, cmd|respBit, 0, seq)
				out = append(out, bindBody...)
				binary.BigEndian.PutUint32(out[o:], uint32(headerLen+len(bindBody)))
			case enquireLink:
				out = appendHeader(out, enquireLink|respBit, 0, seq)
			case unbind:
				out = appendHeader(out, unbind|respBit, 0, seq)
				quit = true
			default:
				if cmd&respBit == 0 {
					out = appendHeader(out, genericNack, statusInvCmdID, seq)
				}
			}
			r0 += l
		}
		if len(out) > 0 {
			if _, werr := c.Write(out); werr != nil {
				return
			}
			out = out[:0]
		}
		if quit || err != nil {
			return
		}
		if r0 == r1 {
			r0, r1 = 0, 0
		} else if len(in)-r1 < maxPDU {
			r1 = copy(in, in[r0:r1])
			r0 = 0
		}
	}
}

// appendHeader appends a 16-octet PDU with the given sequence octets.
func appendHeader(out []byte, cmd, status uint32, seq []byte) []byte {
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[0:], headerLen)
	binary.BigEndian.PutUint32(h[4:], cmd)
	binary.BigEndian.PutUint32(h[8:], status)
	copy(h[12:], seq)
	return append(out, h[:]...)
}
