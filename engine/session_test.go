package engine

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

func decodeBindResp(t *testing.T, f []byte) *codec.BindResp {
	t.Helper()
	var r codec.BindResp
	if err := r.Decode(f[codec.HeaderLen:]); err != nil {
		t.Fatalf("bind_resp body: %v", err)
	}
	return &r
}

func TestBindEnquireSubmitUnbind(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	for _, kind := range []codec.CommandID{codec.BindTransmitterID, codec.BindReceiverID, codec.BindTransceiverID} {
		c := ts.dial(t)
		h, f, err := c.Bind(kind, "user", "secret", codec.InterfaceVersion34)
		if err != nil {
			t.Fatal(err)
		}
		if h.CommandID != kind.Response() || h.Status != codec.StatusOK || h.Sequence != 1 {
			t.Fatalf("%v: got %v %v seq %d", kind, h.CommandID, h.Status, h.Sequence)
		}
		r := decodeBindResp(t, f)
		if string(r.SystemID) != "smppd" {
			t.Fatalf("system_id %q", r.SystemID)
		}
		if v, ok := r.SCInterfaceVersion(); !ok || v != 0x34 {
			t.Fatalf("sc_interface_version %x %v", v, ok)
		}
		mustSend(t, c, codec.EnquireLinkID, 7, nil)
		if h, _ := mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK); h.Sequence != 7 {
			t.Fatalf("enquire_link_resp seq %d", h.Sequence)
		}
		if kind != codec.BindReceiverID {
			mustSend(t, c, codec.SubmitSMID, 8, smpptest.SubmitBody("123", "456", "hello"))
			h, f := mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
			var sr codec.SubmitSMResp
			if err := sr.Decode(f[codec.HeaderLen:]); err != nil || len(sr.MessageID) == 0 || h.Sequence != 8 {
				t.Fatalf("submit_sm_resp %q seq %d err %v", sr.MessageID, h.Sequence, err)
			}
		}
		mustSend(t, c, codec.UnbindID, 9, nil)
		mustExpect(t, c, codec.UnbindRespID, codec.StatusOK)
		mustClosed(t, c)
	}
	ts.logs.waitLog(t, `"event":"bind"`, `"system_id":"user"`)
	ts.logs.waitLog(t, `"event":"close"`, `"reason":"unbound"`)
	eventually(t, "principals released", func() bool { return ts.auth.released.Load() == 3 })
}

func TestDataSMAndSubmitMulti(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	ds := codec.DataSM{ServiceType: nil, SourceAddr: []byte("1"), DestinationAddr: []byte("2")}
	f, err := ds.Append(nil, codec.Header{CommandID: codec.DataSMID, Sequence: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	mustExpect(t, c, codec.DataSMRespID, codec.StatusOK)
	var sm codec.SubmitMulti
	sm.SourceAddr = []byte("1")
	sm.Dests.AddSME(1, 1, []byte("4912345"))
	sm.Dests.AddSME(1, 1, []byte("4912346"))
	sm.ShortMessage = []byte("hi")
	f, err = sm.Append(nil, codec.Header{CommandID: codec.SubmitMultiID, Sequence: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	mustExpect(t, c, codec.SubmitMultiRespID, codec.StatusOK)
	mustSend(t, c, codec.QuerySMID, 5, []byte{'x', 0, 0, 0, 0})
	mustExpect(t, c, codec.QuerySMRespID, codec.StatusQueryFail)
}

// TestBindRefusalShapes pins the failed bind_*_resp bodies: transmitter
// and receiver refusals are header-only, a transceiver refusal carries our
// system_id and no TLV (gosmpp v0.3.1 fails to parse a header-only one).
func TestBindRefusalShapes(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	cases := []struct {
		user, pw string
		want     codec.Status
	}{
		{"user", "wrong", codec.StatusInvPaswd},
		{"nobody", "secret", codec.StatusInvPaswd},
		{"policy", "x", codec.StatusBindFail},
	}
	kinds := []struct {
		bind    codec.CommandID
		wantLen int
	}{
		{codec.BindTransmitterID, codec.HeaderLen},
		{codec.BindReceiverID, codec.HeaderLen},
		{codec.BindTransceiverID, codec.HeaderLen + len("smppd") + 1},
	}
	for _, k := range kinds {
		for _, tc := range cases {
			c := ts.dial(t)
			h, f, err := c.Bind(k.bind, tc.user, tc.pw, codec.InterfaceVersion34)
			if err != nil {
				t.Fatal(err)
			}
			if h.Status != tc.want || h.CommandID != k.bind.Response() {
				t.Fatalf("%v %s/%s: %v %v, want %v", k.bind, tc.user, tc.pw, h.CommandID, h.Status, tc.want)
			}
			if len(f) != k.wantLen || int(h.Length) != k.wantLen {
				t.Fatalf("%v refusal: %d octets (command_length %d), want %d", k.bind, len(f), h.Length, k.wantLen)
			}
			if k.bind == codec.BindTransceiverID {
				if r := decodeBindResp(t, f); string(r.SystemID) != "smppd" {
					t.Fatalf("transceiver refusal system_id %q", r.SystemID)
				}
			}
			mustClosed(t, c)
		}
	}
	ts.logs.waitLog(t, `"reason":"bind_failed"`)
	// Operators need to know which account is failing.
	ts.logs.waitLog(t, `"message":"bind refused"`, `"system_id":"nobody"`, `"status":"ESME_RINVPASWD"`)
	ts.logs.waitLog(t, `"message":"bind refused"`, `"system_id":"policy"`, `"status":"ESME_RBINDFAIL"`)
}

func TestInterfaceVersion33GetsNoTLVs(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.dial(t)
	h, f, err := c.Bind(codec.BindTransceiverID, "user", "secret", 0x33)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	if want := codec.HeaderLen + len("smppd") + 1; len(f) != want {
		t.Fatalf("bind_resp of %d octets, want %d (no TLVs)", len(f), want)
	}
	// The refusal path obeys it too.
	c2 := ts.dial(t)
	h, f, err = c2.Bind(codec.BindTransceiverID, "user", "bad", 0x00)
	if err != nil || h.Status != codec.StatusInvPaswd || len(f) != codec.HeaderLen+6 {
		t.Fatalf("refusal: %v len %d err %v", h.Status, len(f), err)
	}
}

func TestEnquireLinkAnsweredInOpen(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.dial(t)
	mustSend(t, c, codec.EnquireLinkID, 42, nil)
	if h, _ := mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK); h.Sequence != 42 {
		t.Fatalf("seq %d", h.Sequence)
	}
}

func TestWrongStateAnswersInvBndSts(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	// In OPEN: the matching response (generic_nack for outbind, which has
	// none) with ESME_RINVBNDSTS, then the connection is closed.
	open := []struct {
		id, resp codec.CommandID
		body     []byte
	}{
		{codec.SubmitSMID, codec.SubmitSMRespID, smpptest.SubmitBody("1", "2", "x")},
		{codec.UnbindID, codec.UnbindRespID, nil},
		{codec.QuerySMID, codec.QuerySMRespID, []byte{'x', 0, 0, 0, 0}},
		{codec.OutbindID, codec.GenericNackID, smpptest.BindBody("a", "b", 0x34)[:4]},
	}
	for i, tc := range open {
		c := ts.dial(t)
		mustSend(t, c, tc.id, uint32(i+1), tc.body)
		if h, _ := mustExpect(t, c, tc.resp, codec.StatusInvBndSts); h.Sequence != uint32(i+1) {
			t.Fatalf("%v: seq %d", tc.id, h.Sequence)
		}
		mustClosed(t, c)
	}
	ts.logs.waitLog(t, `"reason":"wrong_state"`)

	rx := ts.bound(t, codec.BindReceiverID)
	mustSend(t, rx, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, rx, codec.SubmitSMRespID, codec.StatusInvBndSts)
	mustSend(t, rx, codec.DeliverSMID, 3, smpptest.DeliverBody("1", "2", "x"))
	mustExpect(t, rx, codec.DeliverSMRespID, codec.StatusInvBndSts)
	mustSend(t, rx, codec.EnquireLinkID, 4, nil) // still alive
	mustExpect(t, rx, codec.EnquireLinkRespID, codec.StatusOK)
}

func TestBindWhenBoundAnswersAlyBnd(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	h, f, err := c.Bind(codec.BindTransmitterID, "user", "secret", 0x34)
	if err != nil || h.Status != codec.StatusAlyBnd || h.CommandID != codec.BindTransmitterRespID {
		t.Fatalf("second bind: %v %v %v", h.CommandID, h.Status, err)
	}
	if len(f) != codec.HeaderLen { // a refused bind_transmitter_resp is header-only
		t.Fatalf("ESME_RALYBND answer of %d octets, want the header only", len(f))
	}
	mustSend(t, c, codec.SubmitSMID, 9, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	if n := ts.auth.calls.Load(); n != 1 {
		t.Fatalf("Authenticator called %d times", n)
	}
}

func TestUnknownCommandNackedStreamInSync(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	// Reserved ids, one with a body, then a valid PDU in the same write.
	var buf []byte
	buf = append(buf, smpptest.Frame(0x0000000A, 0, 11, nil)...)
	buf = append(buf, smpptest.Frame(0x00000111, 0, 12, []byte("broadcast body"))...)
	buf = append(buf, smpptest.Frame(codec.EnquireLinkID, 0, 13, nil)...)
	if err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint32{11, 12} {
		if h, _ := mustExpect(t, c, codec.GenericNackID, codec.StatusInvCmdID); h.Sequence != seq {
			t.Fatalf("nack seq %d, want %d", h.Sequence, seq)
		}
	}
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK)
	// An unknown response is ignored, not nacked.
	mustSend(t, c, 0x8000000A, 14, nil)
	mustSend(t, c, codec.EnquireLinkID, 15, nil)
	if h, _ := mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK); h.Sequence != 15 {
		t.Fatalf("seq %d", h.Sequence)
	}
}

func TestBadCommandLengthNackAndClose(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.MaxPDULen = 4096 })
	for _, n := range []uint32{0, 8, 15, 4097, 0x48545450} {
		c := ts.dial(t)
		f := smpptest.Frame(codec.EnquireLinkID, 0, 77, nil)
		binary.BigEndian.PutUint32(f, n)
		if err := c.Write(f); err != nil {
			t.Fatal(err)
		}
		h, _ := mustExpect(t, c, codec.GenericNackID, codec.StatusInvCmdLen)
		if h.Sequence != 77 {
			t.Fatalf("len %d: nack seq %d", n, h.Sequence)
		}
		mustClosed(t, c)
	}
	ts.logs.waitLog(t, `"reason":"bad_framing"`)
}

func TestMalformedBodyAnsweredSessionLives(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	bodies := [][]byte{
		[]byte("no-nul-anywhere"),                                // C-string without NUL
		smpptest.SubmitBody("1", "2", "x")[:12],                  // truncated
		append(smpptest.SubmitBody("1", "2", "x"), 0x02),         // a TLV header cut short
		smpptest.SubmitBody("12345678901234567890123", "2", "x"), // source_addr over 21
	}
	for i, b := range bodies {
		var sm codec.SM
		want := codec.StatusOf(sm.Decode(b))
		if want == codec.StatusOK {
			t.Fatalf("body %d decodes fine; test is wrong", i)
		}
		mustSend(t, c, codec.SubmitSMID, uint32(100+i), b)
		if h, _ := mustExpect(t, c, codec.SubmitSMRespID, want); h.Sequence != uint32(100+i) {
			t.Fatalf("seq %d", h.Sequence)
		}
	}
	mustSend(t, c, codec.EnquireLinkID, 200, []byte{0})
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusInvCmdLen)
	mustSend(t, c, codec.SubmitSMID, 201, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	// A malformed bind answers with the codec's status and leaves the session open.
	o := ts.dial(t)
	mustSend(t, o, codec.BindTransmitterID, 1, smpptest.BindBody("a-system-id-way-too-long", "pw", 0x34))
	mustExpect(t, o, codec.BindTransmitterRespID, codec.StatusInvSysID)
	mustSend(t, o, codec.EnquireLinkID, 2, nil)
	mustExpect(t, o, codec.EnquireLinkRespID, codec.StatusOK)
}

func TestSplitAndCoalescedFrames(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	f := smpptest.Frame(codec.SubmitSMID, 0, 5, smpptest.SubmitBody("1", "2", "split"))
	for i := range f {
		if err := c.Write(f[i : i+1]); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	var many []byte
	for i := 0; i < 300; i++ { // more than one fairness batch in one write
		many = append(many, smpptest.Frame(codec.EnquireLinkID, 0, uint32(1000+i), nil)...)
	}
	if err := c.Write(many); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if h, _ := mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK); h.Sequence != uint32(1000+i) {
			t.Fatalf("out of order: %d at %d", h.Sequence, i)
		}
	}
}

func TestPDUsWaitWhileBindPending(t *testing.T) {
	t.Parallel()
	ts := start(t, gatedAuth)
	c := ts.dial(t)
	var buf []byte
	buf = append(buf, smpptest.Frame(codec.BindTransceiverID, 0, 1, smpptest.BindBody("user", "secret", 0x34))...)
	buf = append(buf, smpptest.Frame(codec.SubmitSMID, 0, 2, smpptest.SubmitBody("1", "2", "x"))...)
	buf = append(buf, smpptest.Frame(codec.EnquireLinkID, 0, 3, nil)...)
	if err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Authenticate called", func() bool { return ts.auth.calls.Load() == 1 })
	// Another session on the server is served while this bind waits.
	o := ts.dial(t)
	mustSend(t, o, codec.EnquireLinkID, 1, nil)
	mustExpect(t, o, codec.EnquireLinkRespID, codec.StatusOK)
	ts.auth.gate <- struct{}{}
	mustExpect(t, c, codec.BindTransceiverRespID, codec.StatusOK)
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK) // not RINVBNDSTS: handled after the bind
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK)
}

func TestBindResultAfterCloseReleasesPrincipal(t *testing.T) {
	t.Parallel()
	ts := start(t, gatedAuth)
	c := ts.dial(t)
	mustSend(t, c, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	eventually(t, "Authenticate called", func() bool { return ts.auth.calls.Load() == 1 })
	_ = c.Close()
	eventually(t, "session closed", func() bool { return ts.Stats().Sessions == 0 })
	ts.auth.gate <- struct{}{}
	eventually(t, "principal released", func() bool { return ts.auth.released.Load() == 1 })
	if ts.auth.granted.Load() != 1 || ts.Stats().Bound != 0 {
		t.Fatalf("granted %d bound %d", ts.auth.granted.Load(), ts.Stats().Bound)
	}
}

func TestPanicClosesOnlyThatSession(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.Submit = panicky{} })
	bad := ts.bound(t, codec.BindTransceiverID)
	good := ts.bound(t, codec.BindTransceiverID)
	mustSend(t, bad, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "boom"))
	mustClosed(t, bad)
	mustSend(t, good, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "fine"))
	mustExpect(t, good, codec.SubmitSMRespID, codec.StatusOK)
	if ts.Stats().Panics != 1 {
		t.Fatalf("panics %d", ts.Stats().Panics)
	}
	ts.logs.waitLog(t, `"reason":"internal_error"`)
}

type panicky struct{}

func (panicky) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	if string(req.SubmitSM.ShortMessage) == "boom" {
		panic("handler bug")
	}
	res.MessageID = append(res.MessageID, "ok1"...)
}

func TestBindStormRefusedWhenAuthQueueFull(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		gatedAuth(o)
		o.AuthWorkers = 1
		o.AuthQueue = 1
		o.MaxPendingBindsPerIP = 3 // every bind here comes from 127.0.0.1
	})
	first := ts.dial(t) // taken by the only worker, which waits at the gate
	mustSend(t, first, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	eventually(t, "worker busy", func() bool { return ts.auth.calls.Load() == 1 })
	second := ts.dial(t) // waits in the queue
	mustSend(t, second, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	eventually(t, "second bind queued", func() bool { return len(ts.authQ) == 1 })
	third := ts.dial(t)
	mustSend(t, third, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	_, f := mustExpect(t, third, codec.BindTransceiverRespID, codec.StatusBindFail)
	if r := decodeBindResp(t, f); string(r.SystemID) != "smppd" {
		t.Fatalf("system_id %q", r.SystemID)
	}
	mustClosed(t, third)
	// Traffic elsewhere is not stalled while binds wait.
	o := ts.dial(t)
	mustSend(t, o, codec.EnquireLinkID, 5, nil)
	mustExpect(t, o, codec.EnquireLinkRespID, codec.StatusOK)
	ts.auth.gate <- struct{}{}
	ts.auth.gate <- struct{}{}
	mustExpect(t, first, codec.BindTransceiverRespID, codec.StatusOK)
	mustExpect(t, second, codec.BindTransceiverRespID, codec.StatusOK)
}

// A peer that closes its socket without unbind is an orderly close
// (gnet reports it as a wrapped io.EOF), not an I/O error: info level,
// reason peer_closed.
func TestPeerCloseIsNotIOError(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransceiverID)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ts.logs.waitLog(t, `"level":"info"`, `"event":"close"`, `"reason":"peer_closed"`, `"system_id":"user"`)
}
