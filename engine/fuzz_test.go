package engine

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// FuzzSession feeds an arbitrary byte stream into one session (bound first
// when mode's low bit is set) and checks the invariants: the server does not
// panic, every PDU it sends back is well formed, and another bound session
// on the same server keeps being served.
func FuzzSession(f *testing.F) {
	bind := smpptest.Frame(codec.BindTransceiverID, 0, 1, smpptest.BindBody("user", "secret", 0x34))
	sub := smpptest.Frame(codec.SubmitSMID, 0, 2, smpptest.SubmitBody("1", "2", "hi"))
	f.Add(byte(0), bind)
	f.Add(byte(1), sub)
	f.Add(byte(1), append(append([]byte{}, sub...), smpptest.Frame(codec.UnbindID, 0, 3, nil)...))
	f.Add(byte(0), []byte{0, 0, 0, 8, 0, 0, 0, 0})
	f.Add(byte(1), smpptest.Frame(0x00000111, 0, 4, []byte{1, 2, 3}))
	f.Add(byte(1), smpptest.Frame(codec.SubmitSMID, 0, 5, []byte("\x00\x01")))

	ts := start(f, func(o *Options) {
		o.EventLoops = 2
		o.PDUReadTimeout = time.Second
		o.SessionInitTimeout = 5 * time.Second
	})
	witness := ts.bound(f, codec.BindTransceiverID)
	var wseq uint32 = 100

	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		c, err := smpptest.Dial(ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if mode&1 == 1 {
			if h, _, err := c.Bind(codec.BindTransceiverID, "user", "secret", 0x34); err != nil || h.Status != codec.StatusOK {
				t.Fatalf("bind: %v %v", h.Status, err)
			}
		}
		_ = c.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Conn.Write(data)
		_ = c.Conn.(*net.TCPConn).CloseWrite()
		var pdu codec.PDU
		for {
			h, frame, err := c.ReadFrame(3 * time.Second)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("server neither answered nor closed: %v", err)
				}
				if errors.Is(err, io.EOF) || errors.As(err, &ne) {
					break
				}
				t.Fatalf("malformed frame from server: %v", err)
			}
			switch {
			case h.CommandID.IsResponse():
				if err := pdu.Decode(frame); err != nil {
					t.Fatalf("server sent a malformed %v: %v (% x)", h.CommandID, err, frame)
				}
			case h.CommandID == codec.EnquireLinkID || h.CommandID == codec.UnbindID:
				if len(frame) != codec.HeaderLen {
					t.Fatalf("server request %v of %d octets", h.CommandID, len(frame))
				}
			default:
				t.Fatalf("server sent unexpected %v", h.CommandID)
			}
		}
		wseq++
		if err := witness.Send(codec.EnquireLinkID, 0, wseq, nil); err != nil {
			t.Fatal(err)
		}
		for {
			h, _, err := witness.ReadFrame(wait)
			if err != nil {
				t.Fatalf("witness session not served: %v", err)
			}
			if h.CommandID == codec.EnquireLinkRespID && h.Sequence == wseq {
				break
			}
			if h.CommandID == codec.EnquireLinkID {
				_ = witness.Send(codec.EnquireLinkRespID, 0, h.Sequence, nil)
			}
		}
		if ts.Stats().Panics != 0 {
			t.Fatal("a panic was recovered in the server")
		}
	})
}
