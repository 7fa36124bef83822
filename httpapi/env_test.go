package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/httpapi/content"
	"github.com/smppd/smppd/internal/coretest"
	"github.com/smppd/smppd/routing"
)

// The tests run the real core (engine, hub, delivery side, memory store,
// the simulator connector: internal/coretest, as cmd/smppd wires it) with
// the API in front on 127.0.0.1, and talk to it with net/http (and curl
// where installed) as clients do.

// Users of an env: passwords are the system_id with "pw" appended.
//
//	alice  balance 100, receipts, an API key (env.aliceKey)
//	bob    every HTTP right denied
//	carol  throughput 1 part/s, burst 3
//	dave   balance 0.4 (the route costs 0.5 a part)
//	erin   disabled
//	frank  quota 2 parts, no receipts
//	uma    no limits at all
const routeRate = 0.5

type env struct {
	t        testing.TB
	core     *coretest.Core
	users    *accounts.Store
	srv      *Server
	url      string
	aliceKey string
	client   *http.Client
}

// envOpts adjust an env's API options.
type envOpts func(o *Options)

func newEnv(t testing.TB, adjust ...envOpts) *env {
	t.Helper()
	return newEnvSim(t, sim.Options{ReceiptDelay: sim.ReceiptsAtOnce, Queue: 4096}, adjust...)
}

// newEnvSim is newEnv with the simulator configured by so.
func newEnvSim(t testing.TB, so sim.Options, adjust ...envOpts) *env {
	t.Helper()
	key, keyHash, err := accounts.NewAPIKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	hash := func(id string) string {
		h, err := accounts.HashPasswordIter(id+"pw", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	all := accounts.AllBindTypes
	users := []accounts.User{
		{SystemID: "alice", PasswordHash: hash("alice"), Enabled: true, BindTypes: all, Receipts: true, APIKeyHash: keyHash,
			Limits: accounts.UserLimits{Balance: accounts.Micros(100 * accounts.MicrosPerUnit)}},
		{SystemID: "bob", PasswordHash: hash("bob"), Enabled: true, BindTypes: all, Receipts: true,
			Deny: accounts.Rights(accounts.RightHTTPSend | accounts.RightHTTPBalance | accounts.RightHTTPRate |
				accounts.RightHTTPLongContent | accounts.RightHTTPSetDLRMethod | accounts.RightSetHexContent |
				accounts.RightSetScheduleDelivery)},
		{SystemID: "carol", PasswordHash: hash("carol"), Enabled: true, BindTypes: all, Receipts: true,
			Limits: accounts.UserLimits{Throughput: 1, Burst: 3}},
		{SystemID: "dave", PasswordHash: hash("dave"), Enabled: true, BindTypes: all,
			Limits: accounts.UserLimits{Balance: accounts.Micros(400_000)}},
		{SystemID: "erin", PasswordHash: hash("erin"), Enabled: false, BindTypes: all},
		{SystemID: "frank", PasswordHash: hash("frank"), Enabled: true, BindTypes: all, Limits: accounts.UserLimits{Quota: 2}},
		{SystemID: "uma", PasswordHash: hash("uma"), Enabled: true, BindTypes: all, Receipts: true},
	}
	store, err := accounts.NewStore(users, nil, accounts.Options{CacheTTL: time.Minute, CacheSize: 100,
		Limits: accounts.Limits{FailWindow: time.Minute, BlockAfter: 50, BlockFor: time.Minute, AddressBlockAfter: 200}})
	if err != nil {
		t.Fatal(err)
	}
	rc := routing.Config{
		MT: []routing.MTRouteConfig{{Name: "main", Kind: "static", Connectors: []string{"sim"}, Rate: routeRate,
			FilterConfig: routing.FilterConfig{DestPrefixes: []string{"33", "49"}}}},
		Connectors: []string{"sim"},
	}
	tb, err := routing.Compile(rc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New("sim", so)
	if err != nil {
		t.Fatal(err)
	}
	core := coretest.Start(t, coretest.Options{Hub: flow.Options{Router: routing.NewRouter(tb),
		Connectors: []connector.Connector{s}, Accounts: store}})
	o := Options{Addr: "127.0.0.1:0", Hub: core.Hub, Users: store, Messages: core.Store, Upstream: core.Store,
		Callbacks: core.Store.Callbacks(), MaxParts: 5, Split: content.UDH, IdempotencyKeys: 100,
		Logger: zerolog.Nop()}
	for _, f := range adjust {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // registered after the core's cleanup: runs before it
	})
	return &env{t: t, core: core, users: store, srv: srv, url: "http://" + srv.Addr().String(), aliceKey: key,
		client: &http.Client{Timeout: 10 * time.Second}}
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (e *env) get(path string, q url.Values) answer {
	e.t.Helper()
	u := e.url + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) post(path, contentType, body string, hdr ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

// postJSON posts v (a string is sent as is) to the JSON API as user.
func (e *env) postJSON(user string, v any, hdr ...string) answer {
	e.t.Helper()
	body, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		body = string(b)
	}
	req, err := http.NewRequest(http.MethodPost, e.url+"/v1/messages", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(user, user+"pw")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

// getJSON gets a JSON API path as user.
func (e *env) getJSON(user, path string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, user+"pw")
	return e.do(req)
}

// sendQuery is a /send query for user with the given extra parameters
// (name, value pairs).
func sendQuery(user string, kv ...string) url.Values {
	q := url.Values{"username": {user}, "password": {user + "pw"}, "to": {"33612345678"}, "content": {"hello"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00" {
			q.Del(kv[i])
			continue
		}
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// want checks an answer's status and body.
func (a answer) want(t testing.TB, status int, body string) {
	t.Helper()
	if a.status != status || a.body != body {
		t.Errorf("got %d %q, want %d %q", a.status, a.body, status, body)
	}
}

// successID returns the id of a `Success "<id>"` answer.
func (a answer) successID(t testing.TB) string {
	t.Helper()
	id, ok := strings.CutPrefix(a.body, `Success "`)
	if a.status != http.StatusOK || !ok || len(id) != 17 || id[16] != '"' {
		t.Fatalf("got %d %q, want 200 Success \"<16 hex digits>\"", a.status, a.body)
	}
	return id[:16]
}

// decode reads a JSON answer into v.
func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(a.body), v); err != nil {
		t.Fatalf("answer %d %q: %v", a.status, a.body, err)
	}
}

// apiErr is a JSON API error answer.
type apiErr struct {
	Error apiError `json:"error"`
}

// wantError checks a JSON API error answer's status, code and SMPP status.
func (a answer) wantError(t testing.TB, status int, code, smpp string) {
	t.Helper()
	var e apiErr
	a.decode(t, &e)
	if a.status != status || e.Error.Code != code || e.Error.SMPPStatus != smpp {
		t.Errorf("got %d %q, want %d code %q smpp_status %q", a.status, a.body, status, code, smpp)
	}
}
