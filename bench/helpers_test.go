package bench

import (
	"encoding/binary"
	"strconv"

	"github.com/smppd/smppd/codec"
	"net"
	"testing"
	"time"
)

// discardConn is a net.Conn whose writes vanish: the allocation gates drive
// the session's per-message path without a socket.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error) { return len(b), nil }

// testSession builds a session as Run would, without dialling.
func testSessionNoAlloc(t testing.TB, cfg Config) *session {
	t.Helper()
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m, _ := ParseMix(cfg.Mix)
	plan, err := buildTemplates(&cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	r := &runState{cfg: &cfg, plan: plan, live: make([]live, 1), base: time.Now()}
	if cfg.Receipts {
		r.rc = newReceipts()
	}
	s := newSession(0, r)
	s.conn = discardConn{}
	return s
}

// answerWindow writes, into the session's read buffer, a submit_sm_resp for
// every submit_sm in its write buffer (message_id = the sequence number in
// decimal) and, with receipts, a deliver_sm receipt for each.
// The harness keeps its scratch across calls so that only the session's
// own work is counted.
type answerer struct {
	idb  [12]byte
	resp codec.SubmitSMResp
	dlr  codec.DeliverSM
}

var statText = []byte("stat:DELIVRD")

func (a *answerer) answerWindow(t testing.TB, s *session, receipts bool) {
	idb, resp, dlr := &a.idb, &a.resp, &a.dlr
	w := s.wbuf
	for len(w) > 0 {
		n := int(binary.BigEndian.Uint32(w))
		seq := binary.BigEndian.Uint32(w[12:])
		w = w[n:]
		id := strconv.AppendUint(idb[:0], uint64(seq), 10)
		resp.MessageID = id
		out, err := resp.Append(s.rbuf[s.r1:s.r1], codec.Header{CommandID: codec.SubmitSMRespID, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		s.r1 += len(out)
		if !receipts {
			continue
		}
		dlr.Reset()
		dlr.ESMClass = codec.ESMClassDeliveryReceipt
		dlr.ShortMessage = statText
		dlr.TLVs.AddCString(codec.TagReceiptedMessageID, id)
		out, err = dlr.Append(s.rbuf[s.r1:s.r1], codec.Header{CommandID: codec.DeliverSMID, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		s.r1 += len(out)
	}
	s.wbuf = s.wbuf[:0]
}
