package admin_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/internal/admintest"
)

// raw does one request with exactly the headers given and returns the
// status and body.
func raw(t *testing.T, method, url, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// What a cross-site page can send without a CORS preflight (a form, or
// fetch with a "simple" type) changes nothing on any endpoint.
func TestBrowserWritesChangeNothing(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	writes := []struct{ method, path, body string }{
		{"POST", "/v1/mo", `{"source_addr":"336","destination_addr":"1234","short_message":"hi"}`},
		{"POST", "/v1/users", `{"system_id":"mallory","password":"pw"}`},
		{"PATCH", "/v1/users/alice", `{"password":"owned"}`},
		{"POST", "/v1/users/alice/balance", `{"set":"unlimited"}`},
	}
	for _, w := range writes {
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"} {
			hdr := map[string]string{}
			if ct != "" {
				hdr["Content-Type"] = ct
			}
			st, body := raw(t, w.method, e.URL+w.path, w.body, hdr)
			if st != http.StatusUnsupportedMediaType || !strings.Contains(body, `"code": "bad_content_type"`) {
				t.Errorf("%s %s as %q: %d %s, want 415 bad_content_type", w.method, w.path, ct, st, body)
			}
		}
		// A page sending JSON is cross-origin: Sec-Fetch-Site or Origin
		// gives it away even when the preflight is skipped (Flash, old
		// browsers, a form's enctype quirks).
		for _, hdr := range []map[string]string{
			{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
			{"Content-Type": "application/json", "Origin": "http://evil.example"},
		} {
			if st, body := raw(t, w.method, e.URL+w.path, w.body, hdr); st != http.StatusForbidden || !strings.Contains(body, `"code": "cross_origin"`) {
				t.Errorf("%s %s with %v: %d %s, want 403 cross_origin", w.method, w.path, hdr, st, body)
			}
		}
	}
	// Body-less writes are refused cross-origin too.
	for _, p := range []string{"/v1/users/alice/disable", "/v1/connectors/sim1/stop", "/v1/routes/reload"} {
		if st, body := raw(t, "POST", e.URL+p, "", map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d %s, want 403", p, st, body)
		}
	}
	if _, n := e.LastSave(); n != 0 {
		t.Errorf("refused requests saved the users file %d times", n)
	}
	if _, ok := e.Users.Lookup("mallory"); ok {
		t.Error("a refused POST /v1/users added the user")
	}
	if u, _ := e.Users.Lookup("alice"); !u.Enabled || !accounts.VerifyPassword(u.PasswordHash, admintest.AlicePassword) {
		t.Errorf("alice changed by refused requests: enabled %v", u.Enabled)
	}
	var cs struct {
		Connectors []struct{ Name, State string }
	}
	check(t, "connectors", "GET", e.URL+"/v1/connectors", "", &cs, 200, "")
	for _, c := range cs.Connectors {
		if c.State == "stopped" {
			t.Errorf("connector %s stopped by a refused request", c.Name)
		}
	}

	// The same writes as JSON from a non-browser client go through.
	check(t, "users as JSON", "POST", e.URL+"/v1/users", `{"system_id":"carol","password":"pw"}`, nil, 201, "")
	hdr := map[string]string{"Content-Type": "application/json; charset=utf-8"}
	if st, body := raw(t, "POST", e.URL+"/v1/users/carol/balance", `{"set":"5"}`, hdr); st != http.StatusOK {
		t.Errorf("balance with charset=utf-8: %d %s", st, body)
	}
}
