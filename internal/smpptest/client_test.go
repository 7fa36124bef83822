package smpptest

import (
	"net"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

func TestBuildersDecodeWithCodec(t *testing.T) {
	var b codec.Bind
	if err := b.Decode(BindBody("sys", "pw", 0x34)); err != nil || string(b.SystemID) != "sys" || string(b.Password) != "pw" || b.InterfaceVersion != 0x34 {
		t.Fatalf("bind body: %+v %v", b, err)
	}
	var sm codec.SM
	if err := sm.Decode(SubmitBody("1", "2", "text")); err != nil || string(sm.ShortMessage) != "text" || string(sm.DestinationAddr) != "2" {
		t.Fatalf("submit body: %v", err)
	}
	f := Frame(codec.EnquireLinkID, codec.StatusOK, 9, nil)
	h, err := codec.ParseHeader(f)
	if err != nil || h.Length != 16 || h.CommandID != codec.EnquireLinkID || h.Sequence != 9 {
		t.Fatalf("frame header %+v %v", h, err)
	}
}

func TestReadFrameAndExpect(t *testing.T) {
	a, b := net.Pipe()
	c := NewClient(a)
	defer c.Close()
	go func() {
		_, _ = b.Write(Frame(codec.EnquireLinkRespID, 0, 3, nil))
		_, _ = b.Write(Frame(codec.GenericNackID, codec.StatusInvCmdID, 4, nil))
		_ = b.Close()
	}()
	if _, _, err := c.Expect(time.Second, codec.EnquireLinkRespID, codec.StatusOK); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(time.Second, codec.GenericNackID, codec.StatusOK); err == nil {
		t.Fatal("Expect accepted the wrong status")
	}
	if err := c.ExpectClosed(time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestReadFrameKeepsWhatADeadlineCut: a deadline that ends ReadFrame in
// the middle of a frame (header or body) loses none of its bytes: the next
// call returns the whole frame, and the one after it the next frame.
func TestReadFrameKeepsWhatADeadlineCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	first := Frame(codec.DeliverSMID, 0, 7, SubmitBody("1", "2", "receipt"))
	second := Frame(codec.EnquireLinkID, 0, 8, nil)
	stream := append(append([]byte(nil), first...), second...)
	for _, cut := range []int{2, 4, 10, len(first) - 1} {
		if _, err := b.Write(stream[:cut]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadFrame(50 * time.Millisecond); err == nil {
			t.Fatalf("cut at %d: a frame before its last byte", cut)
		}
		if _, err := b.Write(stream[cut:]); err != nil {
			t.Fatal(err)
		}
		h, f, err := c.ReadFrame(time.Second)
		if err != nil || h.CommandID != codec.DeliverSMID || h.Sequence != 7 || string(f) != string(first) {
			t.Fatalf("cut at %d: %+v %v, want the whole deliver_sm", cut, h, err)
		}
		if _, _, err := c.Expect(time.Second, codec.EnquireLinkID, codec.StatusOK); err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
}
