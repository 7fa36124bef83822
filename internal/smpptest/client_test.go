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
