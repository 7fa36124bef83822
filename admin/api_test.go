package admin_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/admintest"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/routing"
)

// call does one request and decodes the JSON answer into out (when not
// nil); it returns the status and the error code of an error body.
func call(t *testing.T, method, url, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, url, ct, raw)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, raw, err)
	}
	if e.Error.Code != "" {
		if e.Error.Message == "" {
			t.Errorf("%s %s: error %q without a message", method, url, e.Error.Code)
		}
		return resp.StatusCode, e.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
	return resp.StatusCode, ""
}

// check does call and wants status st with error code code ("" = success).
func check(t *testing.T, what, method, url, body string, out any, st int, code string) {
	t.Helper()
	if gotSt, gotCode := call(t, method, url, body, out); gotSt != st || gotCode != code {
		t.Errorf("%s: %d %q, want %d %q", what, gotSt, gotCode, st, code)
	}
}

func TestSessionsEndpoints(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	c := e.Bind(t, codec.BindTransceiverID, "alice", admintest.AlicePassword)
	if err := c.Send(codec.SubmitSMID, 0, c.NextSeq(), smpptest.SubmitBody("1", "3361234", "hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(admintestWait, codec.SubmitSMRespID, codec.StatusOK); err != nil {
		t.Fatal(err)
	}

	var list admin.SessionList
	check(t, "list", "GET", e.URL+"/v1/sessions", "", &list, 200, "")
	if len(list.Sessions) != 1 {
		t.Fatalf("sessions: %+v", list)
	}
	s := list.Sessions[0]
	if s.SystemID != "alice" || s.BindType != "transceiver" || s.State != "bound_trx" || s.BoundAt == nil ||
		!strings.HasPrefix(s.Remote, "127.0.0.1:") || s.Counters.Submits != 1 || s.Counters.PDUsIn != 2 || s.Counters.PDUsOut < 2 {
		t.Errorf("session: %+v", s)
	}
	var none admin.SessionList
	check(t, "filtered list", "GET", e.URL+"/v1/sessions?system_id=bob", "", &none, 200, "")
	if none.Sessions == nil || len(none.Sessions) != 0 {
		t.Errorf("filter by bob: %+v", none)
	}

	id := strconv.FormatUint(s.ID, 10)
	check(t, "bad id", "DELETE", e.URL+"/v1/sessions/x1", "", nil, 400, "bad_request")
	check(t, "unknown id", "DELETE", e.URL+"/v1/sessions/999999", "", nil, 404, "not_found")
	var kicked map[string]any
	check(t, "kick", "DELETE", e.URL+"/v1/sessions/"+id, "", &kicked, 200, "")
	if kicked["status"] != "kicked" {
		t.Errorf("kick answer %v", kicked)
	}
	h, _, err := c.Expect(admintestWait, codec.UnbindID, codec.StatusOK)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(codec.UnbindRespID, 0, h.Sequence, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.ExpectClosed(admintestWait); err != nil {
		t.Fatal(err)
	}
	admintest.Eventually(t, "session gone", func() bool {
		var l admin.SessionList
		call(t, "GET", e.URL+"/v1/sessions", "", &l)
		return len(l.Sessions) == 0
	})
}

func TestUsersEndpoints(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	var list admin.UserList
	check(t, "list", "GET", e.URL+"/v1/users", "", &list, 200, "")
	if len(list.Users) != 2 || list.Users[0].SystemID != "alice" || list.Users[0].Balance != "100" ||
		list.Users[1].Enabled || list.Users[1].Active || len(list.Users[1].BindTypes) != 1 {
		t.Fatalf("users: %+v", list)
	}

	// Add, then bind with the new password: it was hashed the store's way.
	var u admin.User
	body := `{"system_id":"carol","password":"pw1","throughput":10,"balance":"12.5","max_validity":"48h",
		"allow_ips":["127.0.0.1","10.0.0.0/8"],"bind_types":["transceiver"],"max_priority":1}`
	check(t, "add", "POST", e.URL+"/v1/users", body, &u, 201, "")
	if u.SystemID != "carol" || !u.Enabled || u.Balance != "12.5" || u.Throughput != 10 || u.MaxValidity != "48h" ||
		strings.Join(u.AllowIPs, ",") != "127.0.0.1/32,10.0.0.0/8" || u.MaxPriority != 1 || !u.Receipts {
		t.Errorf("added: %+v", u)
	}
	saved, n := e.LastSave()
	if n != 1 || len(saved) != 3 || saved[2].SystemID != "carol" || !accounts.VerifyPassword(saved[2].PasswordHash, "pw1") {
		t.Fatalf("save after add: %d saves, %+v", n, saved)
	}
	e.Bind(t, codec.BindTransceiverID, "carol", "pw1")
	var shown admin.User
	check(t, "show", "GET", e.URL+"/v1/users/carol", "", &shown, 200, "")
	if shown.Binds != 1 {
		t.Errorf("binds of carol: %d", shown.Binds)
	}
	raw := rawGet(t, e.URL+"/v1/users")
	if strings.Contains(raw, "pbkdf2") || strings.Contains(raw, "password") {
		t.Fatalf("users JSON leaks a password: %s", raw)
	}

	check(t, "add twice", "POST", e.URL+"/v1/users", `{"system_id":"carol","password":"x"}`, nil, 409, "conflict")
	check(t, "no password", "POST", e.URL+"/v1/users", `{"system_id":"dave"}`, nil, 422, "invalid")
	check(t, "long system_id", "POST", e.URL+"/v1/users", `{"system_id":"abcdefghijklmnop","password":"x"}`, nil, 422, "invalid")
	check(t, "bad bind type", "POST", e.URL+"/v1/users", `{"system_id":"dave","password":"x","bind_types":["tx"]}`, nil, 422, "invalid")
	check(t, "unknown group", "POST", e.URL+"/v1/users", `{"system_id":"dave","password":"x","group":"nope"}`, nil, 422, "invalid")
	check(t, "unknown field", "POST", e.URL+"/v1/users", `{"system_id":"dave","password":"x","enabeld":true}`, nil, 400, "bad_request")
	check(t, "show unknown", "GET", e.URL+"/v1/users/nobody", "", nil, 404, "not_found")

	// Patch: fields change, live balance stays, new password works.
	check(t, "patch", "PATCH", e.URL+"/v1/users/alice", `{"password":"newpw","throughput":5,"max_binds":3}`, &u, 200, "")
	if u.Throughput != 5 || u.MaxBinds != 3 || u.Balance != "100" {
		t.Errorf("patched: %+v", u)
	}
	e.Bind(t, codec.BindTransmitterID, "alice", "newpw")
	check(t, "patch unknown", "PATCH", e.URL+"/v1/users/nobody", `{"enabled":true}`, nil, 404, "not_found")
	check(t, "patch balance", "PATCH", e.URL+"/v1/users/alice", `{"balance":"5"}`, nil, 422, "invalid")
	check(t, "rename", "PATCH", e.URL+"/v1/users/alice", `{"system_id":"al"}`, nil, 422, "invalid")
	check(t, "bad priority", "PATCH", e.URL+"/v1/users/alice", `{"max_priority":7}`, nil, 422, "invalid")

	// Enable and disable.
	check(t, "enable", "POST", e.URL+"/v1/users/bob/enable", "", &u, 200, "")
	if !u.Enabled || !u.Active {
		t.Errorf("enabled bob: %+v", u)
	}
	e.Bind(t, codec.BindTransmitterID, "bob", admintest.BobPassword)
	check(t, "disable", "POST", e.URL+"/v1/users/bob/disable", "", &u, 200, "")
	if u.Enabled {
		t.Errorf("disabled bob: %+v", u)
	}
	check(t, "enable unknown", "POST", e.URL+"/v1/users/nobody/enable", "", nil, 404, "not_found")

	// Balance: top up (string or number), set, and the refusals.
	var bal map[string]string
	check(t, "topup", "POST", e.URL+"/v1/users/alice/balance", `{"topup":"12.5"}`, &bal, 200, "")
	if bal["balance"] != "112.5" {
		t.Errorf("after topup: %v", bal)
	}
	check(t, "topup number", "POST", e.URL+"/v1/users/alice/balance", `{"topup":0.25}`, &bal, 200, "")
	check(t, "set", "POST", e.URL+"/v1/users/alice/balance", `{"set":"100"}`, &bal, 200, "")
	if bal["balance"] != "100" {
		t.Errorf("after set: %v", bal)
	}
	check(t, "both", "POST", e.URL+"/v1/users/alice/balance", `{"set":"1","topup":"1"}`, nil, 422, "invalid")
	check(t, "neither", "POST", e.URL+"/v1/users/alice/balance", `{}`, nil, 422, "invalid")
	check(t, "negative", "POST", e.URL+"/v1/users/alice/balance", `{"topup":"-1"}`, nil, 422, "invalid")
	check(t, "unlimited topup", "POST", e.URL+"/v1/users/alice/balance", `{"topup":"unlimited"}`, nil, 422, "invalid")
	check(t, "balance unknown", "POST", e.URL+"/v1/users/nobody/balance", `{"set":"1"}`, nil, 404, "not_found")
	check(t, "set unlimited", "POST", e.URL+"/v1/users/alice/balance", `{"set":"unlimited"}`, &bal, 200, "")
	check(t, "topup unlimited", "POST", e.URL+"/v1/users/alice/balance", `{"topup":"1"}`, nil, 409, "conflict")
	saved, _ = e.LastSave()
	if saved[0].SystemID != "alice" || !saved[0].Limits.Balance.IsUnlimited() || saved[0].Limits.Throughput != 5 {
		t.Errorf("last save: %+v", saved[0])
	}

	// A failed write is a 500 with the error shape; the change is in force.
	e.FailSaves(errors.New("disk full"))
	check(t, "save fails", "POST", e.URL+"/v1/users/bob/enable", "", nil, 500, "not_saved")
	if u, _ := e.Users.Lookup("bob"); !u.Enabled {
		t.Error("change not in force after a failed save")
	}
}

func TestConnectorsEndpoints(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	var list admin.ConnectorList
	check(t, "list", "GET", e.URL+"/v1/connectors", "", &list, 200, "")
	if len(list.Connectors) != 2 || list.Connectors[0].Name != "sim1" || list.Connectors[0].Type != "sim" ||
		list.Connectors[0].State != "up" || !list.Connectors[0].Restartable || list.Connectors[1].Restartable {
		t.Fatalf("connectors: %+v", list)
	}

	var st map[string]any
	check(t, "stop", "POST", e.URL+"/v1/connectors/sim1/stop?grace=1s", "", &st, 200, "")
	if st["state"] != "stopped" || st["drained"] != true {
		t.Errorf("stop answer %v", st)
	}
	call(t, "GET", e.URL+"/v1/connectors", "", &list)
	if c := list.Connectors[0]; c.State != "stopped" || c.Up {
		t.Errorf("after stop: %+v", c)
	}
	// Routing fails over to sim2 while sim1 is stopped.
	c := e.Bind(t, codec.BindTransmitterID, "alice", admintest.AlicePassword)
	if err := c.Send(codec.SubmitSMID, 0, c.NextSeq(), smpptest.SubmitBody("1", "3361234", "hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(admintestWait, codec.SubmitSMRespID, codec.StatusOK); err != nil {
		t.Fatal(err)
	}
	admintest.Eventually(t, "sim2 took it", func() bool {
		var l admin.ConnectorList
		call(t, "GET", e.URL+"/v1/connectors", "", &l)
		return l.Connectors[1].Stats.Accepted == 1
	})

	check(t, "stop twice", "POST", e.URL+"/v1/connectors/sim1/stop", "", nil, 409, "conflict")
	check(t, "stop plain", "POST", e.URL+"/v1/connectors/sim2/stop", "", nil, 409, "conflict")
	check(t, "stop unknown", "POST", e.URL+"/v1/connectors/nope/stop", "", nil, 404, "not_found")
	check(t, "bad grace", "POST", e.URL+"/v1/connectors/sim1/stop?grace=forever", "", nil, 400, "bad_request")
	check(t, "start", "POST", e.URL+"/v1/connectors/sim1/start", "", &st, 200, "")
	check(t, "start twice", "POST", e.URL+"/v1/connectors/sim1/start", "", nil, 409, "conflict")
	check(t, "start unknown", "POST", e.URL+"/v1/connectors/nope/start", "", nil, 404, "not_found")
	call(t, "GET", e.URL+"/v1/connectors", "", &list)
	if c := list.Connectors[0]; c.State != "up" || e.Restarts != 1 {
		t.Errorf("after start: %+v, %d factory calls", c, e.Restarts)
	}
}

func TestRoutesEndpoints(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	var r admin.Routes
	check(t, "show", "GET", e.URL+"/v1/routes", "", &r, 200, "")
	if len(r.MT) != 2 || r.MT[0].Name != "main" || r.MT[0].Kind != "failover" || r.MT[0].Rate != 0.5 ||
		strings.Join(r.MT[0].Filters.DestPrefixes, ",") != "33,49" || len(r.MO) != 1 || r.MO[0].User != "alice" ||
		strings.Join(r.Connectors, ",") != "sim1,sim2" {
		t.Fatalf("routes: %+v", r)
	}

	next := admintest.Routes()
	next.MT = next.MT[1:] // only the default route to sim2
	e.SetRoutesFile(next, nil)
	check(t, "reload", "POST", e.URL+"/v1/routes/reload", "", &r, 200, "")
	if len(r.MT) != 1 || r.MT[0].Name != "rest" {
		t.Errorf("after reload: %+v", r)
	}
	if got := e.Router.Load().MTRoutes(); len(got) != 1 || got[0].Name != "rest" {
		t.Errorf("router not swapped: %d routes", len(got))
	}
	check(t, "show after reload", "GET", e.URL+"/v1/routes", "", &r, 200, "")
	if len(r.MT) != 1 {
		t.Errorf("shown after reload: %+v", r)
	}

	bad := admintest.Routes()
	bad.MT[0].Kind = "random"
	e.SetRoutesFile(bad, nil)
	check(t, "bad kind", "POST", e.URL+"/v1/routes/reload", "", nil, 422, "invalid_config")
	e.SetRoutesFile(routing.Config{}, errors.New("smppd.toml: line 3: syntax error"))
	check(t, "unreadable", "POST", e.URL+"/v1/routes/reload", "", nil, 422, "invalid_config")
	moved := admintest.Routes()
	moved.Connectors = []string{"sim2", "sim1"}
	e.SetRoutesFile(moved, nil)
	check(t, "reordered connectors", "POST", e.URL+"/v1/routes/reload", "", nil, 409, "conflict")
	if got := e.Router.Load().MTRoutes(); len(got) != 1 {
		t.Errorf("a refused reload changed the table: %d routes", len(got))
	}
}

func TestEveryEndpointNeedsTheToken(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{Token: "t0k"})
	for _, ep := range []struct{ method, path string }{
		{"GET", "/v1/sessions"}, {"DELETE", "/v1/sessions/1"}, {"GET", "/v1/users"}, {"POST", "/v1/users"},
		{"GET", "/v1/users/alice"}, {"PATCH", "/v1/users/alice"}, {"POST", "/v1/users/alice/enable"},
		{"POST", "/v1/users/alice/disable"}, {"POST", "/v1/users/alice/balance"}, {"GET", "/v1/connectors"},
		{"POST", "/v1/connectors/sim1/stop"}, {"POST", "/v1/connectors/sim1/start"}, {"GET", "/v1/routes"},
		{"POST", "/v1/routes/reload"}, {"POST", "/v1/mo"},
	} {
		check(t, ep.method+" "+ep.path, ep.method, e.URL+ep.path, "", nil, 401, "unauthorized")
	}
	check(t, "ready without a token", "GET", e.URL+"/v1/ready", "", nil, 200, "")
}

func TestUnwiredEndpoints(t *testing.T) {
	a := admin.New(admin.Options{Addr: "127.0.0.1:0"})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(t.Context()) })
	base := "http://" + a.Addr().String()
	for _, p := range []string{"/v1/sessions", "/v1/users", "/v1/connectors", "/v1/routes"} {
		check(t, p, "GET", base+p, "", nil, 503, "unavailable")
	}
}

const admintestWait = 20 * time.Second // a bound on waiting, not a speed assertion

func rawGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestSetRoutes: a reload done by the owner (SIGHUP) shows in GET /v1/routes.
func TestSetRoutes(t *testing.T) {
	a := admin.New(admin.Options{Addr: "127.0.0.1:0", Router: routing.NewRouter(nil)})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(t.Context()) })
	a.SetRoutes(routing.Config{MO: []routing.MORouteConfig{{Name: "x", User: "u"}}})
	var r admin.Routes
	check(t, "show", "GET", "http://"+a.Addr().String()+"/v1/routes", "", &r, 200, "")
	if len(r.MO) != 1 || r.MO[0].Name != "x" || r.MT == nil || r.Connectors == nil {
		t.Errorf("routes after SetRoutes: %+v", r)
	}
}
