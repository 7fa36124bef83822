package crash

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

// TestStubHoldsUntilAcknowledged: the stub refuses the destinations it
// should, sends a receipt for each accepted submit, and sends a receipt
// (or an MO) again on the next bind when the first bind closed without
// answering it.
func TestStubHoldsUntilAcknowledged(t *testing.T) {
	s, err := startStub(1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	addr := "127.0.0.1:" + strconv.Itoa(s.port())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	w, err := dialSMPP(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Bind(codec.BindTransceiverID, stubSystemID, stubPassword); err != nil {
		t.Fatal(err)
	}
	sm := codec.SM{SourceAddr: []byte(crashSource), RegisteredDelivery: codec.RegisteredDeliveryReceipt, ShortMessage: []byte("hi")}
	for _, n := range []int{17, 18} {
		sm.DestinationAddr = []byte(destOf(n))
		if _, err := w.Send(codec.SubmitSMID, sm.Append, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.injectMO("mo one")
	var p codec.PDU
	statuses := map[codec.Status]int{}
	var upID string
	deliveries := 0
	_ = w.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(statuses) < 2 || deliveries < 2 {
		_, f, err := w.Read()
		if err != nil {
			t.Fatalf("first bind: %v (statuses %v, deliveries %d)", err, statuses, deliveries)
		}
		if err := p.Decode(f); err != nil {
			t.Fatal(err)
		}
		switch p.Header.CommandID {
		case codec.SubmitSMRespID:
			statuses[p.Header.Status]++
			if p.Header.Status == codec.StatusOK {
				upID = string(p.SubmitSMResp.MessageID)
			}
		case codec.DeliverSMID:
			deliveries++ // not answered: the stub must send it again
		}
	}
	if statuses[codec.StatusOK] != 1 || statuses[codec.StatusInvDstAdr] != 1 {
		t.Fatalf("submit statuses %v, want one ESME_ROK and one ESME_RINVDSTADR", statuses)
	}
	w.Close()

	w, err = dialSMPP(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Bind(codec.BindReceiverID, stubSystemID, stubPassword); err != nil {
		t.Fatal(err)
	}
	gotReceipt, gotMO := false, false
	_ = w.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !gotReceipt || !gotMO {
		h, f, err := w.Read()
		if err != nil {
			t.Fatalf("second bind: %v (receipt %v, MO %v)", err, gotReceipt, gotMO)
		}
		if h.CommandID != codec.DeliverSMID {
			continue
		}
		if err := p.Decode(f); err != nil {
			t.Fatal(err)
		}
		if p.SM.ESMClass&codec.ESMClassDeliveryReceipt != 0 {
			id, _ := p.SM.TLVs.CString(codec.TagReceiptedMessageID)
			gotReceipt = string(id) == upID
		} else {
			gotMO = string(p.SM.ShortMessage) == "mo one"
		}
		if err := w.Reply(h, codec.StatusOK, (&codec.DeliverSMResp{}).Append); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.stats()
		if st.receiptsAcked == 1 && st.mosAcked == 1 && st.queued == 0 {
			if st.brokenMO != 1 || !s.moWasAcked("mo one") || st.accepted != 1 || st.refused != 1 {
				t.Errorf("stats %+v", st)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stub stats %+v: the answered receipt and MO are still queued", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
