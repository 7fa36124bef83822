package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// wantFrame builds the exact bytes of a PDU for byte-level comparisons,
// independently of the codec's encoders.
func wantFrame(id codec.CommandID, st codec.Status, seq uint32, body ...[]byte) []byte {
	return smpptest.Frame(id, st, seq, bytes.Join(body, nil))
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// seen is what a fake handler observed in one call (copies: views die with it).
type seen struct {
	systemID  string
	principal string // Principal.SystemID(), "" when nil
	kind      string // "query", "cancel" or "replace"; "mixed" when not exactly one PDU was set
	messageID string
	source    string
	text      string
}

// fakeManage answers by message id: "known" is found, anything else fails.
type fakeManage struct {
	mu    sync.Mutex
	calls []seen
}

func (m *fakeManage) record(req *ManageRequest, kind string, id, src []byte, text []byte) {
	n := 0
	for _, set := range []bool{req.Query != nil, req.Cancel != nil, req.Replace != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		kind = "mixed"
	}
	sn := seen{systemID: req.SystemID, kind: kind, messageID: string(id), source: string(src), text: string(text)}
	if req.Principal != nil {
		sn.principal = req.Principal.SystemID()
	}
	m.mu.Lock()
	m.calls = append(m.calls, sn)
	m.mu.Unlock()
}

func (m *fakeManage) last(t *testing.T) seen {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.calls) == 0 {
		t.Fatal("handler not called")
	}
	return m.calls[len(m.calls)-1]
}

func (m *fakeManage) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

func (m *fakeManage) HandleQuery(req *ManageRequest, res *QueryResult) {
	m.record(req, "query", req.Query.MessageID, req.Query.SourceAddr, nil)
	if len(res.FinalDate) != 0 || cap(res.FinalDate) < 17 || res.Status != codec.StatusOK {
		res.Status = codec.StatusSysErr // the test sees the contract broken
		return
	}
	switch string(req.Query.MessageID) {
	case "known":
		res.FinalDate = append(res.FinalDate, "250102030405000+"...)
		res.State, res.ErrorCode = codec.MessageStateDelivered, 7
	case "toolong":
		res.FinalDate = append(res.FinalDate, "2501020304050000+"...) // 17 characters
		res.State = codec.MessageStateDelivered
	default:
		// Fields set on a failure must not reach the wire.
		res.FinalDate = append(res.FinalDate, "250102030405000+"...)
		res.State, res.ErrorCode = codec.MessageStateUnknown, 9
		res.Status = codec.StatusQueryFail
	}
}

func (m *fakeManage) HandleCancel(req *ManageRequest) codec.Status {
	m.record(req, "cancel", req.Cancel.MessageID, req.Cancel.SourceAddr, nil)
	if string(req.Cancel.MessageID) == "known" {
		return codec.StatusOK
	}
	return codec.StatusCancelFail
}

func (m *fakeManage) HandleReplace(req *ManageRequest) codec.Status {
	m.record(req, "replace", req.Replace.MessageID, req.Replace.SourceAddr, req.Replace.ShortMessage)
	if string(req.Replace.MessageID) == "known" {
		return codec.StatusOK
	}
	return codec.StatusReplaceFail
}

func queryFrame(t *testing.T, seq uint32, id, src string) []byte {
	t.Helper()
	q := codec.QuerySM{MessageID: []byte(id), SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(src)}
	f, err := q.Append(nil, codec.Header{CommandID: codec.QuerySMID, Sequence: seq})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func cancelFrame(t *testing.T, seq uint32, id, src string) []byte {
	t.Helper()
	c := codec.CancelSM{MessageID: []byte(id), SourceAddr: []byte(src), DestinationAddr: []byte("4915")}
	f, err := c.Append(nil, codec.Header{CommandID: codec.CancelSMID, Sequence: seq})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func replaceFrame(t *testing.T, seq uint32, id, src, text string) []byte {
	t.Helper()
	r := codec.ReplaceSM{MessageID: []byte(id), SourceAddr: []byte(src), ShortMessage: []byte(text)}
	f, err := r.Append(nil, codec.Header{CommandID: codec.ReplaceSMID, Sequence: seq})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// roundTrip writes f and returns the next frame, whatever it is.
func roundTrip(t *testing.T, c *smpptest.Client, f []byte) []byte {
	t.Helper()
	if err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadFrame(wait)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestManageHandlerAnswers(t *testing.T) {
	t.Parallel()
	m := &fakeManage{}
	ts := start(t, func(o *Options) { o.Manage = m })
	c := ts.bound(t, codec.BindTransceiverID)

	steps := []struct {
		name string
		req  []byte
		want []byte
		saw  seen
	}{
		{"query found", queryFrame(t, 10, "known", "4917"),
			wantFrame(codec.QuerySMRespID, codec.StatusOK, 10, cstr("known"), cstr("250102030405000+"), []byte{2, 7}),
			seen{"user", "user", "query", "known", "4917", ""}},
		{"query failed: id echoed, rest empty", queryFrame(t, 11, "gone", "4917"),
			wantFrame(codec.QuerySMRespID, codec.StatusQueryFail, 11, cstr("gone"), cstr(""), []byte{0, 0}),
			seen{"user", "user", "query", "gone", "4917", ""}},
		{"query result not encodable", queryFrame(t, 12, "toolong", "4917"),
			wantFrame(codec.QuerySMRespID, codec.StatusSysErr, 12, cstr("toolong"), cstr(""), []byte{0, 0}),
			seen{"user", "user", "query", "toolong", "4917", ""}},
		{"cancel ok", cancelFrame(t, 13, "known", "4918"),
			wantFrame(codec.CancelSMRespID, codec.StatusOK, 13),
			seen{"user", "user", "cancel", "known", "4918", ""}},
		{"cancel failed", cancelFrame(t, 14, "gone", "4918"),
			wantFrame(codec.CancelSMRespID, codec.StatusCancelFail, 14),
			seen{"user", "user", "cancel", "gone", "4918", ""}},
		{"replace ok", replaceFrame(t, 15, "known", "4919", "new text"),
			wantFrame(codec.ReplaceSMRespID, codec.StatusOK, 15),
			seen{"user", "user", "replace", "known", "4919", "new text"}},
		{"replace failed", replaceFrame(t, 16, "gone", "4919", "x"),
			wantFrame(codec.ReplaceSMRespID, codec.StatusReplaceFail, 16),
			seen{"user", "user", "replace", "gone", "4919", "x"}},
	}
	for i, st := range steps {
		got := roundTrip(t, c, st.req)
		if !bytes.Equal(got, st.want) {
			t.Fatalf("%s: got\n% x\nwant\n% x", st.name, got, st.want)
		}
		if n := m.count(); n != i+1 {
			t.Fatalf("%s: handler called %d times, want %d", st.name, n, i+1)
		}
		if saw := m.last(t); saw != st.saw {
			t.Fatalf("%s: handler saw %+v, want %+v", st.name, saw, st.saw)
		}
	}
	ts.logs.waitLog(t, `"event":"bad_response"`, `"cmd":"query_sm_resp"`)

	// A malformed PDU is answered by the engine; the handler never sees it.
	mustSend(t, c, codec.QuerySMID, 20, []byte("no-nul"))
	mustExpect(t, c, codec.QuerySMRespID, codec.StatusInvCmdLen)
	mustSend(t, c, codec.CancelSMID, 21, []byte{0})
	mustExpect(t, c, codec.CancelSMRespID, codec.StatusInvCmdLen)
	if n := m.count(); n != len(steps) {
		t.Fatalf("handler called for malformed PDUs: %d calls", n)
	}
	// A receiver may not query: ESME_RINVBNDSTS before any handler call.
	rx := ts.bound(t, codec.BindReceiverID)
	if err := rx.Write(queryFrame(t, 30, "known", "1")); err != nil {
		t.Fatal(err)
	}
	mustExpect(t, rx, codec.QuerySMRespID, codec.StatusInvBndSts)
	if n := m.count(); n != len(steps) {
		t.Fatalf("handler called for a receiver: %d calls", n)
	}
}

func TestManageNilAnswersFailures(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.bound(t, codec.BindTransmitterID)
	cases := []struct{ req, want []byte }{
		{queryFrame(t, 3, "abc", "1"), wantFrame(codec.QuerySMRespID, codec.StatusQueryFail, 3, cstr("abc"), cstr(""), []byte{0, 0})},
		{cancelFrame(t, 4, "abc", "1"), wantFrame(codec.CancelSMRespID, codec.StatusCancelFail, 4)},
		{replaceFrame(t, 5, "abc", "1", "t"), wantFrame(codec.ReplaceSMRespID, codec.StatusReplaceFail, 5)},
	}
	for _, tc := range cases {
		if got := roundTrip(t, c, tc.req); !bytes.Equal(got, tc.want) {
			t.Fatalf("got\n% x\nwant\n% x", got, tc.want)
		}
	}
}

// multiHandler refuses the second and third destination of a submit_multi
// and records what it saw of each request.
type multiHandler struct {
	mu         sync.Mutex
	principals []Principal
	unsuccess  []bool // res.Unsuccess non-nil and empty on entry
	deferNext  atomic.Bool
	tokens     chan SubmitToken
}

func (h *multiHandler) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	h.mu.Lock()
	h.principals = append(h.principals, req.Principal)
	h.unsuccess = append(h.unsuccess, res.Unsuccess != nil && res.Unsuccess.Len() == 0)
	h.mu.Unlock()
	res.MessageID = append(res.MessageID, "id42"...)
	if m := req.SubmitMulti; m != nil {
		for i := 1; i < m.Dests.NumDests(); i++ {
			d := m.Dests.Dest(i)
			res.Unsuccess.Add(codec.Unsuccess{TON: d.TON, NPI: d.NPI, Addr: d.Addr, Status: codec.StatusInvDstAdr + codec.Status(i-1)})
		}
	}
	if h.deferNext.Swap(false) {
		res.Deferred = true
		h.tokens <- req.Token
	}
}

func multiFrame(t *testing.T, seq uint32, dests ...string) []byte {
	t.Helper()
	var sm codec.SubmitMulti
	sm.SourceAddr = []byte("1")
	for _, d := range dests {
		sm.Dests.AddSME(1, 1, []byte(d))
	}
	sm.ShortMessage = []byte("hi")
	f, err := sm.Append(nil, codec.Header{CommandID: codec.SubmitMultiID, Sequence: seq})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSubmitMultiUnsuccessAndPrincipal(t *testing.T) {
	t.Parallel()
	h := &multiHandler{tokens: make(chan SubmitToken, 1)}
	ts := start(t, func(o *Options) { o.Submit = h })
	c := ts.bound(t, codec.BindTransceiverID)

	got := roundTrip(t, c, multiFrame(t, 5, "4910", "4911", "4912"))
	want := wantFrame(codec.SubmitMultiRespID, codec.StatusOK, 5, cstr("id42"), []byte{2},
		[]byte{1, 1}, cstr("4911"), []byte{0, 0, 0, 0x0B}, // ESME_RINVDSTADR
		[]byte{1, 1}, cstr("4912"), []byte{0, 0, 0, 0x0C}) // ESME_RINVDSTADR+1 (ESME_RINVMSGID)
	if !bytes.Equal(got, want) {
		t.Fatalf("submit_multi_resp\n% x\nwant\n% x", got, want)
	}
	// The next submit_multi starts from an empty list.
	got = roundTrip(t, c, multiFrame(t, 6, "4910"))
	if want := wantFrame(codec.SubmitMultiRespID, codec.StatusOK, 6, cstr("id42"), []byte{0}); !bytes.Equal(got, want) {
		t.Fatalf("single destination\n% x\nwant\n% x", got, want)
	}
	// submit_sm gets no list.
	mustSend(t, c, codec.SubmitSMID, 7, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	// A deferred submit_multi (a durable store's answer after its commit)
	// still names the destinations the handler refused, though the read
	// buffer they were views into is long gone; a submit_multi answered
	// meanwhile has its own list.
	h.deferNext.Store(true)
	if err := c.Write(multiFrame(t, 8, "4910", "4911")); err != nil {
		t.Fatal(err)
	}
	tok := <-h.tokens
	got = roundTrip(t, c, multiFrame(t, 9, "4910"))
	if want := wantFrame(codec.SubmitMultiRespID, codec.StatusOK, 9, cstr("id42"), []byte{0}); !bytes.Equal(got, want) {
		t.Fatalf("answered while another waits\n% x\nwant\n% x", got, want)
	}
	if err := ts.Respond(tok, codec.StatusOK, []byte("late")); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadFrame(wait)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantFrame(codec.SubmitMultiRespID, codec.StatusOK, 8, cstr("late"), []byte{1},
		[]byte{1, 1}, cstr("4911"), []byte{0, 0, 0, 0x0B}); !bytes.Equal(got, want) {
		t.Fatalf("deferred\n% x\nwant\n% x", got, want)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	wantUnsuccess := []bool{true, true, false, true, true}
	if fmt.Sprint(h.unsuccess) != fmt.Sprint(wantUnsuccess) {
		t.Fatalf("Unsuccess on entry %v, want %v", h.unsuccess, wantUnsuccess)
	}
	for i, p := range h.principals {
		fp, ok := p.(*fakePrincipal)
		if !ok || fp.SystemID() != "user" {
			t.Fatalf("request %d: Principal %#v", i, p)
		}
	}
}

// An Unsuccess entry the codec refuses (address over 20 characters) turns
// the answer into ESME_RSYSERR rather than a bad frame.
func TestSubmitMultiBadUnsuccessIsSysErr(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.Submit = submitFunc(func(_ *SubmitRequest, res *SubmitResult) {
			res.MessageID = append(res.MessageID, "x"...)
			res.Unsuccess.Add(codec.Unsuccess{Addr: []byte("123456789012345678901")})
		})
	})
	c := ts.bound(t, codec.BindTransmitterID)
	got := roundTrip(t, c, multiFrame(t, 3, "4910"))
	if want := wantFrame(codec.SubmitMultiRespID, codec.StatusSysErr, 3, cstr(""), []byte{0}); !bytes.Equal(got, want) {
		t.Fatalf("got\n% x\nwant\n% x", got, want)
	}
	ts.logs.waitLog(t, `"event":"bad_response"`, `"cmd":"submit_multi_resp"`)
}

type submitFunc func(*SubmitRequest, *SubmitResult)

func (f submitFunc) HandleSubmit(req *SubmitRequest, res *SubmitResult) { f(req, res) }

// binds records BindObserver calls in order.
type binds struct {
	mu     sync.Mutex
	events []string
}

func (b *binds) Bound(id string, t BindType)   { b.add("+" + id + "/" + t.String()) }
func (b *binds) Unbound(id string, t BindType) { b.add("-" + id + "/" + t.String()) }

func (b *binds) add(e string) {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.mu.Unlock()
}

func (b *binds) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprint(b.events)
}

// waitFor waits until the recorded events equal want exactly.
func (b *binds) waitFor(t *testing.T, want ...string) {
	t.Helper()
	w := fmt.Sprint(want)
	eventually(t, "observer events "+w, func() bool { return b.String() == w })
}

func TestBindObserver(t *testing.T) {
	t.Parallel()
	ob := &binds{}
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.Binds = ob
		o.Deliveries = k
	})
	var want []string
	step := func(events ...string) {
		t.Helper()
		want = append(want, events...)
		ob.waitFor(t, want...)
	}

	// Transmitter: unbind from the peer.
	tx := ts.bound(t, codec.BindTransmitterID)
	step("+user/transmitter")
	mustSend(t, tx, codec.UnbindID, 2, nil)
	mustExpect(t, tx, codec.UnbindRespID, codec.StatusOK)
	mustClosed(t, tx)
	step("-user/transmitter")

	// Receiver: the peer drops the connection.
	rx := ts.bound(t, codec.BindReceiverID)
	step("+user/receiver")
	_ = rx.Close()
	step("-user/receiver")

	// Transceiver of another user: unbind from the peer, then a transmitter
	// of the first user is still reported separately.
	trx := ts.dial(t)
	if h, _, err := trx.Bind(codec.BindTransceiverID, "user2", "secret2", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind user2: %v %v", h.Status, err)
	}
	step("+user2/transceiver")
	mustSend(t, trx, codec.UnbindID, 2, nil)
	mustExpect(t, trx, codec.UnbindRespID, codec.StatusOK)
	step("-user2/transceiver")

	// Refused and malformed binds are not reported; nor is a bind whose
	// session closed while the Authenticator ran (covered by the exact
	// event list checked at the next step).
	bad := ts.dial(t)
	if h, _, err := bad.Bind(codec.BindReceiverID, "user", "wrong", 0x34); err != nil || h.Status != codec.StatusInvPaswd {
		t.Fatalf("refused bind: %v %v", h.Status, err)
	}
	mustClosed(t, bad)
	bad = ts.dial(t)
	mustSend(t, bad, codec.BindReceiverID, 1, smpptest.BindBody("a-system-id-way-too-long", "pw", 0x34))
	mustExpect(t, bad, codec.BindReceiverRespID, codec.StatusInvSysID)

	// Bound runs after the session is deliverable: a Deliver from the
	// observer reaches the new receiver right after its bind_resp.
	ob2 := &deliverOnBind{srv: make(chan *Server, 1)}
	k2 := &sink{}
	ts2 := start(t, func(o *Options) { o.Binds = ob2; o.Deliveries = k2 })
	ob2.srv <- ts2.Server
	rx2 := ts2.bound(t, codec.BindReceiverID)
	dh, _ := mustExpect(t, rx2, codec.DeliverSMID, codec.StatusOK)
	mustSend(t, rx2, codec.DeliverSMRespID, dh.Sequence, []byte{0})
	eventually(t, "held item delivered", func() bool { o, ok := k2.get(99); return ok && o.err == nil })

	// Shutdown: every bound session is reported once.
	a := ts.bound(t, codec.BindTransceiverID)
	b := ts.bound(t, codec.BindReceiverID)
	step("+user/transceiver", "+user/receiver")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mustClosed(t, a)
	mustClosed(t, b)
	ob.mu.Lock()
	tail := fmt.Sprint(ob.events[len(want):])
	ob.mu.Unlock()
	if tail != "[-user/transceiver -user/receiver]" && tail != "[-user/receiver -user/transceiver]" {
		t.Fatalf("after shutdown: %s (all: %s)", tail, ob)
	}
}

// The server's own unbind (inactivity here) reports Unbound when the unbind
// goes out, and not again at the close.
func TestBindObserverServerUnbind(t *testing.T) {
	t.Parallel()
	ob := &binds{}
	ts := start(t, func(o *Options) {
		o.Binds = ob
		o.InactivityTimeout = 200 * time.Millisecond
	})
	trx := ts.bound(t, codec.BindTransceiverID)
	h, _ := mustExpect(t, trx, codec.UnbindID, codec.StatusOK)
	ob.waitFor(t, "+user/transceiver", "-user/transceiver")
	mustSend(t, trx, codec.UnbindRespID, h.Sequence, nil)
	mustClosed(t, trx)
	ts.logs.waitLog(t, `"event":"close"`, `"reason":"inactivity_timeout"`)
	if got := ob.String(); got != "[+user/transceiver -user/transceiver]" {
		t.Fatalf("events %s", got)
	}
	// A session closing while its bind is checked is never reported.
	gated := start(t, func(o *Options) { gatedAuth(o); o.Binds = ob })
	c := gated.dial(t)
	mustSend(t, c, codec.BindReceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	eventually(t, "Authenticate called", func() bool { return gated.auth.calls.Load() == 1 })
	_ = c.Close()
	eventually(t, "session closed", func() bool { return gated.Stats().Sessions == 0 })
	gated.auth.gate <- struct{}{}
	eventually(t, "principal released", func() bool { return gated.auth.released.Load() == 1 })
	if got := ob.String(); got != "[+user/transceiver -user/transceiver]" {
		t.Fatalf("events after a bind that lost its session: %s", got)
	}
}

// deliverOnBind delivers a held item from Bound, as flow does.
type deliverOnBind struct {
	srv chan *Server
	s   *Server
}

func (d *deliverOnBind) Bound(id string, t BindType) {
	if d.s == nil {
		d.s = <-d.srv
	}
	if t == BindReceiver {
		_ = d.s.Deliver(id, &Delivery{Body: smpptest.DeliverBody("1", "2", "held"), Ref: 99})
	}
}

func (d *deliverOnBind) Unbound(string, BindType) {}

// A panicking observer costs a log line, not the bind or the cleanup.
func TestBindObserverPanicContained(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.Binds = panicObserver{} })
	c := ts.bound(t, codec.BindTransceiverID)
	mustSend(t, c, codec.EnquireLinkID, 2, nil)
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK)
	_ = c.Close()
	eventually(t, "session cleaned up", func() bool { return ts.Stats().Sessions == 0 && ts.auth.released.Load() == 1 })
	if n := ts.Stats().Panics; n != 2 {
		t.Fatalf("panics %d, want 2", n)
	}
	ts.logs.waitLog(t, `"message":"recovered panic in BindObserver"`)
}

type panicObserver struct{}

func (panicObserver) Bound(string, BindType)   { panic("observer bug") }
func (panicObserver) Unbound(string, BindType) { panic("observer bug") }

func TestMalformedBindLogged(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	c := ts.dial(t)
	mustSend(t, c, codec.BindReceiverID, 1, smpptest.BindBody("a-system-id-way-too-long", "pw", 0x34))
	mustExpect(t, c, codec.BindReceiverRespID, codec.StatusInvSysID)
	local := c.Conn.LocalAddr().String()
	ts.logs.waitLog(t, `"level":"warn"`, `"event":"bind_refused"`, `"reason":"decode_error"`,
		`"remote":"`+local+`"`, `"bind_type":"receiver"`, `"status":"ESME_RINVSYSID"`, `"message":"bind refused"`)
}

func TestDeliverySinkStatuses(t *testing.T) {
	t.Parallel()
	k := &sink{}
	ts := start(t, func(o *Options) { o.Deliveries = k })
	rx := ts.bound(t, codec.BindTransceiverID)
	cases := []struct {
		ref   uint64
		resp  codec.CommandID
		st    codec.Status
		wants codec.Status
	}{
		{1, codec.DeliverSMRespID, codec.StatusOK, codec.StatusOK},
		{2, codec.DeliverSMRespID, codec.StatusXPAppn, codec.StatusXPAppn},
		{3, codec.DeliverSMRespID, codec.StatusXTAppn, codec.StatusXTAppn},
		{4, codec.DeliverSMRespID, codec.StatusSysErr, codec.StatusSysErr},
		{5, codec.GenericNackID, codec.StatusInvCmdLen, codec.StatusInvCmdLen},
		{6, codec.GenericNackID, codec.StatusOK, codec.StatusUnknownErr},
	}
	for _, tc := range cases {
		if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "s"), Ref: tc.ref}); err != nil {
			t.Fatal(err)
		}
		h, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
		var body []byte
		if tc.resp == codec.DeliverSMRespID {
			body = []byte{0}
		}
		if err := rx.Send(tc.resp, tc.st, h.Sequence, body); err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprintf("outcome %d", tc.ref), func() bool { _, ok := k.get(tc.ref); return ok })
		if o, _ := k.get(tc.ref); o.err != nil || o.st != tc.wants {
			t.Fatalf("ref %d: %v %v, want %v", tc.ref, o.st, o.err, tc.wants)
		}
	}
	// The session survives every one of them.
	mustSend(t, rx, codec.EnquireLinkID, 50, nil)
	mustExpect(t, rx, codec.EnquireLinkRespID, codec.StatusOK)
}

// answerDeliveries answers every deliver_sm on c until it closes and
// counts them.
func answerDeliveries(c *smpptest.Client, n *atomic.Int32, done chan<- struct{}) {
	defer close(done)
	for {
		h, _, err := c.ReadFrame(wait)
		if err != nil {
			return
		}
		if h.CommandID == codec.DeliverSMID {
			n.Add(1)
			if c.Send(codec.DeliverSMRespID, codec.StatusOK, h.Sequence, []byte{0}) != nil {
				return
			}
		}
	}
}

// Deliver from many goroutines while receivers come and go: every accepted
// delivery gets exactly one outcome, and sessions share the load.
func TestDeliverConcurrentRoundRobin(t *testing.T) {
	t.Parallel()
	var outcomes sync.Map
	var dup atomic.Int32
	k := sinkFunc(func(d *Delivery, st codec.Status, err error) {
		if _, loaded := outcomes.LoadOrStore(d.Ref, err); loaded {
			dup.Add(1)
		}
	})
	ts := start(t, func(o *Options) { o.Deliveries = k })
	var counts [2]atomic.Int32
	var dones [2]chan struct{}
	for i := range counts {
		c := ts.bound(t, codec.BindReceiverID)
		dones[i] = make(chan struct{})
		go answerDeliveries(c, &counts[i], dones[i])
	}
	// Strict alternation between two sessions when one goroutine delivers.
	for i := 0; i < 10; i++ {
		if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "rr"), Ref: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "ten delivered", func() bool { return counts[0].Load()+counts[1].Load() == 10 })
	if counts[0].Load() != 5 || counts[1].Load() != 5 {
		t.Fatalf("round robin split %d/%d", counts[0].Load(), counts[1].Load())
	}

	const workers, each = 4, 50
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ref := uint64(1000 + w*each + i)
				err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "c"), Ref: ref})
				switch {
				case err == nil:
					accepted.Add(1)
				case !errors.Is(err, ErrQueueFull):
					t.Errorf("deliver: %v", err)
					return
				}
			}
		}()
	}
	// A third receiver binds and leaves while the deliveries run.
	churn := ts.bound(t, codec.BindReceiverID)
	var churned atomic.Int32
	churnDone := make(chan struct{})
	go answerDeliveries(churn, &churned, churnDone)
	wg.Wait()
	_ = churn.Close()
	<-churnDone
	eventually(t, "every accepted delivery reported", func() bool {
		n := int32(0)
		outcomes.Range(func(k, _ any) bool {
			if k.(uint64) >= 1000 {
				n++
			}
			return true
		})
		return n == accepted.Load()
	})
	if dup.Load() != 0 {
		t.Fatalf("%d deliveries reported twice", dup.Load())
	}
}

type sinkFunc func(*Delivery, codec.Status, error)

func (f sinkFunc) DeliveryDone(d *Delivery, st codec.Status, err error) { f(d, st, err) }
