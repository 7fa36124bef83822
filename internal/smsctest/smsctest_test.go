package smsctest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/internal/smpptest"
)

const wait = 5 * time.Second

func start(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dial(t *testing.T, s *Server) *smpptest.Client {
	t.Helper()
	c, err := smpptest.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func bind(t *testing.T, c *smpptest.Client, kind codec.CommandID, sys, pw string) codec.Status {
	t.Helper()
	h, _, err := c.Bind(kind, sys, pw, codec.InterfaceVersion34)
	if err != nil {
		t.Fatal(err)
	}
	if h.CommandID != kind.Response() {
		t.Fatalf("bind answered with %v", h.CommandID)
	}
	return h.Status
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func submit(t *testing.T, c *smpptest.Client, dst, text string) uint32 {
	t.Helper()
	seq := c.NextSeq()
	if err := c.Send(codec.SubmitSMID, 0, seq, smpptest.SubmitBody("100", dst, text)); err != nil {
		t.Fatal(err)
	}
	return seq
}

func readPDU(t *testing.T, c *smpptest.Client) (codec.Header, *codec.PDU) {
	t.Helper()
	h, f, err := c.ReadFrame(wait)
	if err != nil {
		t.Fatal(err)
	}
	var p codec.PDU
	if err := p.Decode(f); err != nil {
		t.Fatalf("decode %v: %v", h.CommandID, err)
	}
	return h, &p
}

func TestBindCredentials(t *testing.T) {
	s := start(t, Options{SystemID: "up", Password: "pw", SystemType: "vas", Binds: AllowTransceiver | AllowReceiver})
	f := func(kind codec.CommandID, sys, pw string, want codec.Status) {
		t.Helper()
		c := dial(t, s)
		if st := bind(t, c, kind, sys, pw); st != want {
			t.Fatalf("bind %v %s/%s: %v, want %v", kind, sys, pw, st, want)
		}
	}
	f(codec.BindTransceiverID, "other", "pw", codec.StatusInvSysID)
	f(codec.BindTransceiverID, "up", "bad", codec.StatusInvPaswd)
	f(codec.BindTransmitterID, "up", "pw", codec.StatusBindFail)
	f(codec.BindTransceiverID, "up", "pw", codec.StatusInvSysTyp) // smpptest sends an empty system_type
	if s.Binds() != 0 || s.BindFailures() != 4 {
		t.Fatalf("binds %d failures %d", s.Binds(), s.BindFailures())
	}
	if lb := s.LastBind(); lb.Kind != codec.BindTransceiverID || lb.SystemID != "up" || lb.Status != codec.StatusInvSysTyp {
		t.Fatalf("last bind %+v", lb)
	}

	s2 := start(t, Options{})
	c := dial(t, s2)
	if st := bind(t, c, codec.BindTransmitterID, "any", "thing"); st != codec.StatusOK {
		t.Fatalf("open server refused: %v", st)
	}
	if st := bind(t, c, codec.BindTransmitterID, "any", "thing"); st != codec.StatusAlyBnd {
		t.Fatalf("second bind on one connection: %v", st)
	}
	eventually(t, "bound count", func() bool { return s2.Bound() == 1 && s2.BindsOf(codec.BindTransmitterID) == 1 })
}

func TestSubmitIDFormats(t *testing.T) {
	f := func(format IDFormat, width int, want string) {
		t.Helper()
		s := start(t, Options{IDFormat: format, IDWidth: width, FirstID: 0xABC, Record: true})
		c := dial(t, s)
		bind(t, c, codec.BindTransmitterID, "u", "p")
		seq := submit(t, c, "491700000001", "hello")
		h, p := readPDU(t, c)
		if h.CommandID != codec.SubmitSMRespID || h.Status != 0 || h.Sequence != seq {
			t.Fatalf("resp %+v", h)
		}
		if got := string(p.SubmitSMResp.MessageID); got != want {
			t.Fatalf("format %d: id %q, want %q", format, got, want)
		}
		rec := s.Submits()
		if len(rec) != 1 || rec[0].ID != want || rec[0].Dest != "491700000001" || string(rec[0].ShortMessage) != "hello" {
			t.Fatalf("recorded %+v", rec)
		}
	}
	f(IDDefault, 0, "2748")
	f(IDDecimal, 6, "002748")
	f(IDHexUpper, 0, "ABC")
	f(IDHexLower, 5, "00abc")
}

func TestScriptRefuseAndReceiptBeforeResp(t *testing.T) {
	s := start(t, Options{IDFormat: IDHexUpper, Script: func(sub *Submit) Action {
		switch string(sub.SM.DestinationAddr) {
		case "bad":
			return Action{Status: codec.StatusInvDstAdr}
		case "nack":
			return Action{Status: codec.StatusThrottled, Nack: true}
		}
		return Action{Receipt: Receipt{Send: true, Before: true, IDFormat: IDDecimal, Form: ReceiptBoth,
			HasNetErr: true, NetworkError: [3]byte{3, 0, 7}, Err: 12}}
	}})
	c := dial(t, s)
	bind(t, c, codec.BindTransceiverID, "u", "p")
	submit(t, c, "bad", "x")
	if h, p := readPDU(t, c); h.Status != codec.StatusInvDstAdr || len(p.SubmitSMResp.MessageID) != 0 {
		t.Fatalf("refusal %+v id %q", h, p.SubmitSMResp.MessageID)
	}
	seq := submit(t, c, "nack", "x")
	if h, _ := readPDU(t, c); h.CommandID != codec.GenericNackID || h.Status != codec.StatusThrottled || h.Sequence != seq {
		t.Fatalf("nack %+v", h)
	}
	submit(t, c, "491700000002", "hi")
	h, p := readPDU(t, c)
	if h.CommandID != codec.DeliverSMID {
		t.Fatalf("want the receipt first, got %v", h.CommandID)
	}
	if p.SM.ESMClass != codec.ESMClassDeliveryReceipt || string(p.SM.SourceAddr) != "491700000002" || string(p.SM.DestinationAddr) != "100" {
		t.Fatalf("receipt fields %+v", p.SM)
	}
	rid, _ := p.SM.TLVs.CString(codec.TagReceiptedMessageID)
	st, _ := p.SM.TLVs.Uint8(codec.TagMessageState)
	ne, _ := p.SM.TLVs.Get(codec.TagNetworkErrorCode)
	rt, err := receipt.Parse(p.SM.ShortMessage)
	if err != nil || !bytes.Equal(rt.ID, rid) || rt.Stat != receipt.StatDelivered || rt.ErrCode != 12 || st != 2 || !bytes.Equal(ne, []byte{3, 0, 7}) {
		t.Fatalf("receipt text %q tlv id %q state %d neterr %v", p.SM.ShortMessage, rid, st, ne)
	}
	if err := c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}); err != nil {
		t.Fatal(err)
	}
	h2, p2 := readPDU(t, c)
	if h2.CommandID != codec.SubmitSMRespID || h2.Status != 0 {
		t.Fatalf("resp after receipt: %+v", h2)
	}
	if !receipt.IDEqual(p2.SubmitSMResp.MessageID, rid) || bytes.Equal(p2.SubmitSMResp.MessageID, rid) {
		t.Fatalf("resp id %q vs receipt id %q: want the same number in another base", p2.SubmitSMResp.MessageID, rid)
	}
	eventually(t, "deliver_sm_resp counted", func() bool { ok, _ := s.DeliverResps(); return ok == 1 })
}

func TestHoldReleaseAndOutstanding(t *testing.T) {
	s := start(t, Options{Default: Action{Hold: true, Receipt: Receipt{Send: true, Form: ReceiptTLV}}})
	c := dial(t, s)
	bind(t, c, codec.BindTransceiverID, "u", "p")
	for i := 0; i < 3; i++ {
		submit(t, c, "1", "x")
	}
	eventually(t, "three held", func() bool { return s.Held() == 3 })
	if s.Outstanding() != 3 || s.MaxOutstanding() != 3 {
		t.Fatalf("outstanding %d max %d", s.Outstanding(), s.MaxOutstanding())
	}
	if n := s.ReleaseHeld(); n != 3 {
		t.Fatalf("released %d", n)
	}
	resps, rcpts := 0, 0
	for resps+rcpts < 6 {
		h, p := readPDU(t, c)
		switch h.CommandID {
		case codec.SubmitSMRespID:
			resps++
		case codec.DeliverSMID:
			if len(p.SM.ShortMessage) != 0 || !p.SM.TLVs.Has(codec.TagReceiptedMessageID) {
				t.Fatalf("TLV-only receipt has text %q", p.SM.ShortMessage)
			}
			rcpts++
		}
	}
	eventually(t, "outstanding drained", func() bool { return s.Outstanding() == 0 })
}

func TestReceiptWaitsForReceiver(t *testing.T) {
	s := start(t, Options{Default: Action{Receipt: Receipt{Send: true, Form: ReceiptText, State: codec.MessageStateUndeliverable}}})
	tx := dial(t, s)
	bind(t, tx, codec.BindTransmitterID, "u", "p")
	submit(t, tx, "2", "x")
	if h, _ := readPDU(t, tx); h.CommandID != codec.SubmitSMRespID {
		t.Fatalf("got %v", h.CommandID)
	}
	rx := dial(t, s)
	bind(t, rx, codec.BindReceiverID, "u", "p")
	h, p := readPDU(t, rx)
	if h.CommandID != codec.DeliverSMID || !strings.Contains(string(p.SM.ShortMessage), "stat:UNDELIV") {
		t.Fatalf("receiver got %v %q", h.CommandID, p.SM.ShortMessage)
	}
	// A receiver may not submit.
	seq := submit(t, rx, "3", "x")
	if h, _ := readPDU(t, rx); h.CommandID != codec.GenericNackID || h.Status != codec.StatusInvBndSts || h.Sequence != seq {
		t.Fatalf("submit on a receiver: %+v", h)
	}
}

func TestMOEnquireUnbindDrop(t *testing.T) {
	s := start(t, Options{Script: func(sub *Submit) Action {
		return Action{Drop: string(sub.SM.DestinationAddr) == "drop"}
	}})
	if err := s.DeliverMO(MO{Source: "1", Dest: "2", ShortMessage: []byte("x")}); err != ErrNoReceiver {
		t.Fatalf("MO with nobody bound: %v", err)
	}
	c := dial(t, s)
	bind(t, c, codec.BindTransceiverID, "u", "p")
	if err := s.DeliverMO(MO{Source: "4917", Dest: "555", ShortMessage: []byte("ping")}); err != nil {
		t.Fatal(err)
	}
	h, p := readPDU(t, c)
	if h.CommandID != codec.DeliverSMID || string(p.SM.ShortMessage) != "ping" || p.SM.ESMClass != 0 {
		t.Fatalf("MO %v %+v", h.CommandID, p.SM)
	}
	if err := c.Send(codec.EnquireLinkID, 0, c.NextSeq(), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(wait, codec.EnquireLinkRespID, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "counters", func() bool { return s.EnquireLinks() == 1 && s.MOSent() == 1 })
	submit(t, c, "drop", "x")
	if err := c.ExpectClosed(wait); err != nil {
		t.Fatal(err)
	}

	c2 := dial(t, s)
	bind(t, c2, codec.BindTransceiverID, "u", "p")
	if err := c2.Send(codec.UnbindID, 0, c2.NextSeq(), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c2.Expect(wait, codec.UnbindRespID, 0); err != nil {
		t.Fatal(err)
	}
	if err := c2.ExpectClosed(wait); err != nil {
		t.Fatal(err)
	}
	if s.Unbinds() != 1 {
		t.Fatalf("unbinds %d", s.Unbinds())
	}

	c3 := dial(t, s)
	bind(t, c3, codec.BindTransceiverID, "u", "p")
	eventually(t, "one bound", func() bool { return s.Bound() == 1 })
	if n := s.UnbindAll(); n != 1 {
		t.Fatalf("UnbindAll sent %d", n)
	}
	h, _, err := c3.ReadFrame(wait)
	if err != nil || h.CommandID != codec.UnbindID {
		t.Fatalf("want unbind, got %v %v", h.CommandID, err)
	}
	if err := c3.Send(codec.UnbindRespID, 0, h.Sequence, nil); err != nil {
		t.Fatal(err)
	}
	if err := c3.ExpectClosed(wait); err != nil {
		t.Fatal(err)
	}
	c4 := dial(t, s)
	bind(t, c4, codec.BindTransceiverID, "u", "p")
	eventually(t, "bound again", func() bool { return s.Bound() == 1 })
	if s.DropAll() != 1 {
		t.Fatal("DropAll closed nothing")
	}
	if err := c4.ExpectClosed(wait); err != nil {
		t.Fatal(err)
	}
	eventually(t, "nothing bound", func() bool { return s.Bound() == 0 })
}

func TestDelayedResponse(t *testing.T) {
	s := start(t, Options{Default: Action{Delay: time.Millisecond, Receipt: Receipt{Send: true, Delay: time.Millisecond}}})
	c := dial(t, s)
	bind(t, c, codec.BindTransceiverID, "u", "p")
	submit(t, c, "1", "x")
	if h, _ := readPDU(t, c); h.CommandID != codec.SubmitSMRespID {
		t.Fatalf("first %v", h.CommandID)
	}
	if h, _ := readPDU(t, c); h.CommandID != codec.DeliverSMID {
		t.Fatalf("second %v", h.CommandID)
	}
	eventually(t, "receipt counted", func() bool { return s.ReceiptsSent() == 1 })
}

func TestSendReceiptAndUnknownCommand(t *testing.T) {
	s := start(t, Options{})
	c := dial(t, s)
	bind(t, c, codec.BindReceiverID, "u", "p")
	if err := s.SendReceipt("77", "100", "200", Receipt{State: codec.MessageStateExpired}); err != nil {
		t.Fatal(err)
	}
	_, p := readPDU(t, c)
	if st, _ := p.SM.TLVs.Uint8(codec.TagMessageState); st != uint8(codec.MessageStateExpired) || string(p.SM.SourceAddr) != "100" {
		t.Fatalf("receipt %+v", p.SM)
	}
	if err := c.Send(codec.CommandID(0x0000FFFF), 0, 9, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(wait, codec.GenericNackID, codec.StatusInvCmdID); err != nil {
		t.Fatal(err)
	}
}

func TestCancelReplace(t *testing.T) {
	var seen []string
	s := start(t, Options{Manage: func(cmd codec.CommandID, id []byte) codec.Status {
		seen = append(seen, cmd.String()+":"+string(id))
		if string(id) == "gone" {
			return codec.StatusCancelFail
		}
		return codec.StatusOK
	}})
	c := dial(t, s)
	bind(t, c, codec.BindTransmitterID, "u", "p")
	var cs codec.CancelSM
	cs.MessageID, cs.SourceAddr, cs.DestinationAddr = []byte("gone"), []byte("1"), []byte("2")
	f, err := cs.Append(nil, codec.Header{CommandID: codec.CancelSMID, Sequence: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(wait, codec.CancelSMRespID, codec.StatusCancelFail); err != nil {
		t.Fatal(err)
	}
	var rs codec.ReplaceSM
	rs.MessageID, rs.ShortMessage = []byte("42"), []byte("new text")
	if f, err = rs.Append(nil, codec.Header{CommandID: codec.ReplaceSMID, Sequence: 6}); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(wait, codec.ReplaceSMRespID, codec.StatusOK); err != nil {
		t.Fatal(err)
	}
	if s.Cancels() != 1 || s.Replaces() != 1 || strings.Join(seen, ",") != "cancel_sm:gone,replace_sm:42" {
		t.Fatalf("cancels %d replaces %d seen %v", s.Cancels(), s.Replaces(), seen)
	}
}
