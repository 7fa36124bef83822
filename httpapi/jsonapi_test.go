package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

func TestJSONSendAndLookup(t *testing.T) {
	e := newEnv(t)
	a := e.postJSON("alice", map[string]any{"to": "33611111111", "from": "ACME", "content": "hi there", "dlr": true})
	var it item
	a.decode(t, &it)
	if a.status != 200 || len(it.ID) != 16 || len(it.Parts) != 1 || it.Parts[0] != it.ID {
		t.Fatalf("POST /v1/messages = %d %s", a.status, a.body)
	}
	// The simulator answers at once and sends the receipt: the record ends final.
	var v view
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.getJSON("alice", "/v1/messages/"+it.ID).decode(t, &v)
		if v.Done != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v.ID != it.ID || v.State != "DELIVERED" || v.To != "33611111111" || v.From != "ACME" || v.Parts != 1 || v.Route != "main" ||
		v.Connector != "sim" || v.Charge != "0.5" || !v.DLR || v.Done == nil {
		t.Errorf("view = %+v", v)
	}
	// Another user sees nothing of it; an unknown id is the same 404.
	e.getJSON("dave", "/v1/messages/"+it.ID).wantError(t, 404, "not_found", "")
	e.getJSON("alice", "/v1/messages/zzzz").wantError(t, 404, "not_found", "")
	// The API key works in both headers; a wrong one is 401.
	for _, h := range [][2]string{{"Authorization", "Bearer " + e.aliceKey}, {"X-API-Key", e.aliceKey}} {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/messages/"+it.ID, nil)
		req.Header.Set(h[0], h[1])
		if a := e.do(req); a.status != 200 {
			t.Errorf("%s: %d %s", h[0], a.status, a.body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/messages/"+it.ID, nil)
	req.Header.Set("X-API-Key", e.aliceKey+"x")
	e.do(req).wantError(t, 401, "unauthorized", "")
	req, _ = http.NewRequest(http.MethodGet, e.url+"/v1/messages/"+it.ID, nil)
	if a := e.do(req); a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no credentials: %d %v", a.status, a.header)
	}
}

// GET /v1/messages?to= pages through the user's messages to a number,
// newest first.
func TestJSONFind(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.get("/send", sendQuery("alice", "content", fmt.Sprint("m", i))).successID(t))
	}
	e.get("/send", sendQuery("carol")).successID(t) // the same number, another user
	e.get("/send", sendQuery("alice", "to", "33699999999")).successID(t)
	var page struct {
		Messages []view `json:"messages"`
		Next     string `json:"next"`
	}
	e.getJSON("alice", "/v1/messages?to=%2B33612345678&limit=3").decode(t, &page)
	if len(page.Messages) != 3 || page.Messages[0].ID != ids[4] || page.Messages[2].ID != ids[2] || page.Next != ids[2] {
		t.Fatalf("page 1 = %+v", page)
	}
	next := page.Next
	page.Next = ""
	e.getJSON("alice", "/v1/messages?to=33612345678&limit=3&before="+next).decode(t, &page)
	if len(page.Messages) != 2 || page.Messages[0].ID != ids[1] || page.Next != "" {
		t.Errorf("page 2 = %+v", page)
	}
	e.getJSON("alice", "/v1/messages?to=33612345678&since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))).decode(t, &page)
	if len(page.Messages) != 0 {
		t.Errorf("since the future: %+v", page)
	}
	e.getJSON("alice", "/v1/messages?to=33612345678&limit=1001").wantError(t, 400, "invalid_request", "")
	e.getJSON("alice", "/v1/messages?to=abc").wantError(t, 400, "invalid_request", "")
	e.getJSON("alice", "/v1/messages?to=33612345678&user=carol").wantError(t, 400, "invalid_request", "")
	e.getJSON("alice", "/v1/messages?to=33612345678&since=yesterday").wantError(t, 400, "invalid_request", "")
}

// Every refusal of the JSON API, with its HTTP status and SMPP status.
func TestJSONRefusals(t *testing.T) {
	e := newEnv(t)
	msg := func(kv ...any) map[string]any {
		m := map[string]any{"to": "33612345678", "content": "hello"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	e.postJSON("alice", msg("coding", 11)).wantError(t, 400, "invalid_request", "")
	e.postJSON("alice", msg("to", "x")).wantError(t, 400, "invalid_request", "")
	e.postJSON("alice", msg("bogus", 1)).wantError(t, 400, "invalid_request", "")
	e.postJSON("alice", msg("to", "1234")).wantError(t, 422, "no_route", "ESME_RINVDSTADR")
	e.postJSON("dave", msg()).wantError(t, 402, "no_balance", "ESME_RSUBMITFAIL")
	e.postJSON("bob", msg()).wantError(t, 403, "forbidden", "")
	e.postJSON("frank", msg("dlr", "yes")).wantError(t, 403, "forbidden", "")
	e.postJSON("erin", msg()).wantError(t, 403, "user_disabled", "")
	a := e.postJSON("alice", msg(), "Authorization", "Basic "+"YWxpY2U6d3Jvbmc=") // alice:wrong
	a.wantError(t, 401, "unauthorized", "")
	for range 3 {
		if a := e.postJSON("carol", msg()); a.status != 200 {
			t.Fatalf("carol: %d %s", a.status, a.body)
		}
	}
	a = e.postJSON("carol", msg())
	a.wantError(t, 429, "throttled", "ESME_RTHROTTLED")
	if a.header.Get("Retry-After") != "1" {
		t.Errorf("429 without Retry-After: %v", a.header)
	}
}

// One bucket for SMPP and HTTP: what carol submits over SMPP comes off the
// throughput she has over HTTP.
func TestSharedThroughput(t *testing.T) {
	e := newEnv(t)
	c := e.core.Bind(t, codec.BindTransmitterID, "carol", "carolpw")
	for range 3 {
		if err := c.Send(codec.SubmitSMID, 0, c.NextSeq(), smpptest.SubmitBody("1", "33612345678", "hi")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK); err != nil {
			t.Fatal(err)
		}
	}
	e.get("/send", sendQuery("carol")).want(t, 403, `Error "User throughput exceeded"`)
	e.postJSON("carol", map[string]any{"to": "33612345678", "content": "x"}).wantError(t, 429, "throttled", "ESME_RTHROTTLED")
}

func TestJSONBatch(t *testing.T) {
	e := newEnv(t)
	body := `{"messages":[{"to":"33600000001","content":"a"},{"to":"1234","content":"b"},{"to":"33600000003","hex-content":"zz"},` +
		`{"to":"33600000004","content":"` + strings.Repeat("d", 200) + `"}]}`
	a := e.postJSON("alice", body)
	var out struct {
		Accepted, Refused int
		Messages          []item
	}
	a.decode(t, &out)
	if a.status != 200 || out.Accepted != 2 || out.Refused != 2 || len(out.Messages) != 4 {
		t.Fatalf("batch = %d %s", a.status, a.body)
	}
	m := out.Messages
	if m[0].Status != 200 || m[0].ID == "" || *m[0].Index != 0 || m[1].Status != 422 || m[1].Error.SMPPStatus != "ESME_RINVDSTADR" ||
		m[2].Status != 400 || m[3].Status != 200 || len(m[3].Parts) != 2 || *m[3].Index != 3 {
		t.Errorf("items = %s", a.body)
	}
	e.postJSON("alice", `{"messages":[]}`).wantError(t, 400, "invalid_request", "")
	many := `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{"to":"33600000001","content":"a"},`, MaxBatch+1), ",") + `]}`
	e.postJSON("alice", many).wantError(t, 400, "invalid_request", "")
	e.postJSON("alice", `{"messages":[{"to":"33600000001","content":"a"}],"extra":1}`).wantError(t, 400, "invalid_request", "")
	e.postJSON("alice", `{"messages":{}}`).wantError(t, 400, "invalid_request", "")
	full := `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{"to":"33600000001","content":"a"},`, MaxBatch), ",") + `]}`
	a = e.postJSON("uma", full)
	a.decode(t, &out)
	if a.status != 200 || out.Accepted != MaxBatch {
		t.Errorf("a batch of %d: %d accepted (%d)", MaxBatch, out.Accepted, a.status)
	}
}

// A retry with the same Idempotency-Key gets the first answer and sends
// nothing; the same key with another body is refused; keys are per user.
func TestIdempotency(t *testing.T) {
	e := newEnv(t)
	body := `{"messages":[{"to":"33600000001","content":"a"},{"to":"33600000002","content":"b"}]}`
	first := e.postJSON("alice", body, "Idempotency-Key", "order-42")
	n := e.core.Store.Len()
	again := e.postJSON("alice", body, "Idempotency-Key", "order-42")
	if first.status != 200 || again.status != 200 || again.body != first.body || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	if e.core.Store.Len() != n {
		t.Errorf("the replay stored %d more records", e.core.Store.Len()-n)
	}
	e.postJSON("alice", `{"to":"33600000001","content":"other"}`, "Idempotency-Key", "order-42").
		wantError(t, 422, "idempotency_mismatch", "")
	if a := e.postJSON("carol", body, "Idempotency-Key", "order-42"); a.status != 200 || a.body == first.body {
		t.Errorf("another user's key: %d %s", a.status, a.body)
	}
	// A refusal a retry may change (throttled) is not kept.
	carol := `{"to":"33600000001","content":"c"}`
	e.postJSON("carol", carol) // her bucket's last part
	if a := e.postJSON("carol", carol, "Idempotency-Key", "k2"); a.status != 429 {
		t.Fatalf("carol over her bucket: %d %s", a.status, a.body)
	}
	if e.srv.idem.len() != 2 {
		t.Errorf("%d keys kept, want 2 (the 429 is not)", e.srv.idem.len())
	}
	e.postJSON("alice", body, "Idempotency-Key", "bad key").wantError(t, 400, "invalid_request", "")
}

// The cache stays within its key count.
func TestIdempotencyBounded(t *testing.T) {
	c := newIdemCache(3, 1<<20, time.Hour)
	now := time.Now()
	for i := range 10 {
		k := idemKey{user: "u", key: fmt.Sprint(i)}
		if st, _, _ := c.begin(k, [32]byte{byte(i)}, now); st != idemNew {
			t.Fatalf("key %d: %d", i, st)
		}
		c.finish(k, 200, []byte("ok"))
	}
	if c.len() != 3 {
		t.Errorf("%d keys, want 3", c.len())
	}
	if st, _, _ := c.begin(idemKey{"u", "9"}, [32]byte{9}, now); st != idemReplay {
		t.Errorf("newest key: %d", st)
	}
	if st, _, _ := c.begin(idemKey{"u", "9"}, [32]byte{9}, now.Add(2*time.Hour)); st != idemNew {
		t.Errorf("expired key: %d", st)
	}
	k := idemKey{"u", "panicked"}
	c.begin(k, [32]byte{1}, now)
	if st, _, _ := c.begin(k, [32]byte{1}, now); st != idemPending {
		t.Errorf("a key being answered: %d, want pending", st)
	}
	c.finish(k, 500, nil) // what post's deferred finish does after a panic
	if st, _, _ := c.begin(k, [32]byte{1}, now); st != idemNew {
		t.Errorf("a key whose request failed: %d, want new", st)
	}
	big := newIdemCache(100, 10, time.Hour)
	for i := range 5 {
		k := idemKey{user: "u", key: fmt.Sprint(i)}
		big.begin(k, [32]byte{}, now)
		big.finish(k, 200, []byte("1234"))
	}
	if big.len() != 2 || big.bytes > 10 {
		t.Errorf("byte bound: %d keys, %d octets", big.len(), big.bytes)
	}
}

// A batch larger than the connector's queue waits for room, as an SMPP
// session does (queue_full_wait), instead of refusing what does not fit;
// without the wait the rest is refused 503 queue_full.
func TestBatchWaitsForRoom(t *testing.T) {
	slow := sim.Options{ReceiptDelay: sim.ReceiptsAtOnce, Queue: 4, Latency: 10 * time.Millisecond}
	body := `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{"to":"33600000001","content":"a"},`, 40), ",") + `]}`
	var out struct{ Accepted, Refused int }
	e := newEnvSim(t, slow, func(o *Options) { o.QueueFullWait = 5 * time.Second })
	a := e.postJSON("uma", body)
	a.decode(t, &out)
	if a.status != 200 || out.Accepted != 40 {
		t.Errorf("with queue_full_wait: %d %s", a.status, a.body)
	}
	e = newEnvSim(t, slow)
	a = e.postJSON("uma", body)
	a.decode(t, &out)
	if a.status != 200 || out.Refused == 0 || !strings.Contains(a.body, `"code":"queue_full"`) || !strings.Contains(a.body, `"status":503`) {
		t.Errorf("without: %d %s", a.status, a.body)
	}
}

// A message the traffic policy rewrote is shown as it went upstream: the
// record keeps the submitted addresses beside (docs/POLICY.md).
func TestJSONLookupShowsRewrittenAddresses(t *testing.T) {
	e := newEnv(t)
	a := e.postJSON("alice", map[string]any{"to": "33611111111", "from": "ACME", "content": "hi"})
	var it item
	a.decode(t, &it)
	if a.status != 200 {
		t.Fatalf("POST /v1/messages = %d %s", a.status, a.body)
	}
	id, err := msg.ParseID([]byte(it.ID))
	if err != nil {
		t.Fatal(err)
	}
	var rec storage.Record
	if err := e.core.Store.Get(id, &rec); err != nil {
		t.Fatal(err)
	}
	rec.SetUpstream(5, 0, []byte("Brand"), 1, 1, []byte("+33611111111"))
	if err := e.core.Store.Put(&rec); err != nil {
		t.Fatal(err)
	}
	var v view
	e.getJSON("alice", "/v1/messages/"+it.ID).decode(t, &v)
	if v.From != "Brand" || v.To != "+33611111111" {
		t.Fatalf("view from %q to %q, want the rewritten Brand -> +33611111111", v.From, v.To)
	}
}
