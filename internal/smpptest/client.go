// Package smpptest is a raw-PDU SMPP client for tests: dial, write frames,
// read frames with a deadline, and a few request builders. It checks
// nothing by itself; tests decide what a reply must be.
package smpptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/smppd/smppd/codec"
)

// Client is one TCP (or TLS, via NewClient) connection speaking raw PDUs.
// It is not safe for concurrent use.
type Client struct {
	Conn net.Conn
	seq  uint32
	hdr  [codec.HeaderLen]byte
	buf  []byte
	// The frame being read and how many of its bytes came: a deadline
	// that ends a ReadFrame mid-frame (a caller's short poll, or one that
	// passes while the goroutine waits for a CPU) keeps them for the next
	// call, so the stream stays in step.
	part []byte
	got  int
}

// Dial connects to addr over TCP.
func Dial(addr string) (*Client, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return NewClient(c), nil
}

// NewClient wraps an established connection.
func NewClient(c net.Conn) *Client { return &Client{Conn: c, buf: make([]byte, 0, 512)} }

// Close closes the connection.
func (c *Client) Close() error { return c.Conn.Close() }

// NextSeq returns the next request sequence number (1, 2, ...).
func (c *Client) NextSeq() uint32 { c.seq++; return c.seq }

// Write sends raw bytes as they are.
func (c *Client) Write(b []byte) error {
	_, err := c.Conn.Write(b)
	return err
}

// Send writes a PDU with the given header fields and body; command_length is computed.
func (c *Client) Send(id codec.CommandID, st codec.Status, seq uint32, body []byte) error {
	return c.Write(Frame(id, st, seq, body))
}

// ReadFrame reads one whole PDU, waiting at most d. The returned frame is a
// new slice owned by the caller.
func (c *Client) ReadFrame(d time.Duration) (codec.Header, []byte, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	if c.part == nil {
		if err := c.fill(c.hdr[:4]); err != nil {
			return codec.Header{}, nil, err
		}
		n := binary.BigEndian.Uint32(c.hdr[:4])
		c.got = 0
		if n < codec.HeaderLen || n > 1<<20 {
			return codec.Header{}, nil, fmt.Errorf("smpptest: bad command_length %d", n)
		}
		c.part = make([]byte, n)
		c.got = copy(c.part, c.hdr[:4])
	}
	if err := c.fill(c.part); err != nil {
		return codec.Header{}, nil, err
	}
	frame := c.part
	c.part, c.got = nil, 0
	h, err := codec.ParseHeader(frame)
	return h, frame, err
}

// fill reads into b from b[c.got:] until b is full, counting in c.got what
// came even when an error (the deadline) stops it.
func (c *Client) fill(b []byte) error {
	for c.got < len(b) {
		k, err := c.Conn.Read(b[c.got:])
		c.got += k
		if err != nil && c.got < len(b) {
			return err
		}
	}
	return nil
}

// Expect reads one PDU and checks its command id and status.
func (c *Client) Expect(d time.Duration, id codec.CommandID, st codec.Status) (codec.Header, []byte, error) {
	h, f, err := c.ReadFrame(d)
	if err != nil {
		return h, f, err
	}
	if h.CommandID != id || h.Status != st {
		return h, f, fmt.Errorf("smpptest: got %v %v seq %d, want %v %v", h.CommandID, h.Status, h.Sequence, id, st)
	}
	return h, f, nil
}

// ExpectClosed waits up to d for the server to close the connection,
// discarding any PDUs before it.
func (c *Client) ExpectClosed(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		_, _, err := c.ReadFrame(time.Until(deadline))
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errors.New("smpptest: connection still open")
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// Bind sends bind_<kind> with systemID and password and returns the response.
func (c *Client) Bind(kind codec.CommandID, systemID, password string, version uint8) (codec.Header, []byte, error) {
	if err := c.Send(kind, 0, c.NextSeq(), BindBody(systemID, password, version)); err != nil {
		return codec.Header{}, nil, err
	}
	return c.ReadFrame(5 * time.Second)
}

// Frame builds a whole PDU.
func Frame(id codec.CommandID, st codec.Status, seq uint32, body []byte) []byte {
	f := make([]byte, codec.HeaderLen+len(body))
	binary.BigEndian.PutUint32(f[0:], uint32(len(f)))
	binary.BigEndian.PutUint32(f[4:], uint32(id))
	binary.BigEndian.PutUint32(f[8:], uint32(st))
	binary.BigEndian.PutUint32(f[12:], seq)
	copy(f[16:], body)
	return f
}

// BindBody encodes a bind body: system_id, password, system_type "",
// interface_version, addr_ton 0, addr_npi 0, address_range "".
func BindBody(systemID, password string, version uint8) []byte {
	b := append([]byte(systemID), 0)
	b = append(b, password...)
	b = append(b, 0, 0, version, 0, 0, 0)
	return b
}

// SubmitBody encodes a minimal submit_sm body from src to dst with text.
func SubmitBody(src, dst, text string) []byte {
	b := []byte{0, 1, 1} // service_type "", source TON/NPI
	b = append(b, src...)
	b = append(b, 0, 1, 1)
	b = append(b, dst...)
	b = append(b, 0,
		0, 0, 0, // esm_class, protocol_id, priority_flag
		0, 0, // schedule_delivery_time, validity_period
		0, 0, 0, 0, // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
		byte(len(text)))
	return append(b, text...)
}

// DeliverBody encodes a minimal deliver_sm body (same layout as submit_sm).
func DeliverBody(src, dst, text string) []byte { return SubmitBody(src, dst, text) }
