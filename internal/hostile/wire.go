package hostile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// maxReadPDU bounds what this side accepts from the server.
const maxReadPDU = 1 << 20

// readFrame reads one PDU from r into buf (grown as needed) and returns
// its header and the whole frame, a view into buf.
func readFrame(r io.Reader, buf []byte) (codec.Header, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return codec.Header{}, buf, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < codec.HeaderLen || n > maxReadPDU {
		return codec.Header{}, buf, fmt.Errorf("server sent command_length %d", n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	copy(buf, hdr[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return codec.Header{}, buf, err
	}
	h, err := codec.ParseHeader(buf)
	return h, buf, err
}

// bindOn sends a bind of kind on c and waits up to d for its response,
// skipping anything else the server sends first. It reads exactly the
// frames it consumes, so PDUs after the bind_resp stay in the socket for
// the caller. It returns the status.
func bindOn(c net.Conn, kind codec.CommandID, user, pass string, d time.Duration) (codec.Status, error) {
	if err := writeAll(c, smpptest.Frame(kind, 0, 1, smpptest.BindBody(user, pass, 0x34)), d); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	var buf []byte
	for {
		h, f, err := readFrame(c, buf)
		buf = f
		if err != nil {
			return 0, err
		}
		if h.CommandID == kind.Response() || h.CommandID == codec.GenericNackID {
			return h.Status, nil
		}
	}
}

// writeAll writes b with a deadline d from now.
func writeAll(c net.Conn, b []byte, d time.Duration) error {
	_ = c.SetWriteDeadline(time.Now().Add(d))
	_, err := c.Write(b)
	_ = c.SetWriteDeadline(time.Time{})
	return err
}

// isClosedByPeer reports whether err means the server closed or reset the
// connection (as opposed to our own deadline or close).
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// repeatFrame returns n copies of the PDU id with no body, back to back.
func repeatFrame(id codec.CommandID, n int) []byte {
	out := make([]byte, 0, n*codec.HeaderLen)
	for i := range n {
		out = append(out, smpptest.Frame(id, 0, uint32(i+2), nil)...)
	}
	return out
}

// seconds formats a duration as seconds with millisecond precision.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// mib formats bytes in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/MiB) }
