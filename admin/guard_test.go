package admin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
)

func TestHostGuard(t *testing.T) {
	listed := []string{"smpp1.example.net", "admin_1", "192.0.2.8", "2001:db8::8", "[2001:db8::9]", "Upper.Example."}
	cases := []struct {
		bind string
		host string
		ok   bool
	}{
		// Loopback bind: the loopback names and addresses, with or without port.
		{"127.0.0.1:8790", "127.0.0.1:8790", true},
		{"127.0.0.1:8790", "127.0.0.1", true},
		{"127.0.0.1:8790", "localhost:8790", true},
		{"127.0.0.1:8790", "LocalHost.:8790", true},
		{"127.0.0.1:8790", "[::1]:8790", true},
		{"127.0.0.1:8790", "[::1]", true},
		{"127.0.0.1:8790", "::1", true},
		{"127.0.0.1:8790", "[0:0:0:0:0:0:0:1]:8790", true},
		{"127.0.0.1:8790", "127.0.0.2", true},
		{"127.0.0.1:8790", "[::ffff:127.0.0.1]:8790", true},
		{"127.0.0.1:8790", "", true}, // HTTP/1.0 without Host: not a browser
		// Names and other addresses only when listed.
		{"127.0.0.1:8790", "evil.example:8790", false},
		{"127.0.0.1:8790", "evil.example", false},
		{"127.0.0.1:8790", "localhost.evil.example", false},
		{"127.0.0.1:8790", "127.0.0.1.evil.example", false},
		{"127.0.0.1:8790", "10.0.0.5:8790", false},
		{"127.0.0.1:8790", "[2001:db8::1]:8790", false},
		{"127.0.0.1:8790", "[::1", false},
		{"127.0.0.1:8790", "smpp1.example.net:8790", true},
		{"127.0.0.1:8790", "SMPP1.example.NET", true},
		{"127.0.0.1:8790", "smpp1.example.net.", true},
		{"127.0.0.1:8790", "smpp2.example.net", false},
		{"127.0.0.1:8790", "admin_1:80", true},
		{"127.0.0.1:8790", "upper.example", true},
		{"127.0.0.1:8790", "192.0.2.8:8790", true},
		{"127.0.0.1:8790", "[2001:db8::8]:8790", true},
		{"127.0.0.1:8790", "[2001:DB8:0::8]", true},
		{"127.0.0.1:8790", "[2001:db8::9]:1", true},
		// A specific bind accepts its own address, not its neighbours.
		{"10.0.0.5:8790", "10.0.0.5:8790", true},
		{"10.0.0.5:8790", "10.0.0.6:8790", false},
		{"10.0.0.5:8790", "localhost", true},
		{"[2001:db8::5]:8790", "[2001:db8::5]:8790", true},
		{"[2001:db8::5]:8790", "[2001:db8::6]:8790", false},
		// A wildcard bind accepts every IP literal, still no unlisted name.
		{"0.0.0.0:8790", "10.0.0.6:8790", true},
		{"0.0.0.0:8790", "[2001:db8::6]:8790", true},
		{"0.0.0.0:8790", "evil.example:8790", false},
		{"0.0.0.0:8790", "smpp1.example.net", true},
		{"[::]:8790", "198.51.100.7", true},
		{"[::]:8790", "evil.example", false},
		{":8790", "198.51.100.7", true},
		{":8790", "evil.example", false},
	}
	for _, c := range cases {
		g := newHostGuard(c.bind, listed)
		if got := g.allows(c.host); got != c.ok {
			t.Errorf("bind %s, Host %q: allowed %v, want %v", c.bind, c.host, got, c.ok)
		}
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                   true,
		"application/json; charset=utf-8":    true,
		"Application/JSON;charset=UTF-8":     true,
		"application/json; charset=\"utf8\"": true,
		"application/json; foo=bar":          true,
		"":                                   false,
		"text/plain":                         false,
		"text/plain; charset=utf-8":          false,
		"application/x-www-form-urlencoded":  false,
		"multipart/form-data; boundary=x":    false,
		"application/jsonx":                  false,
		"application/json-seq":               false,
		"application/vnd.api+json":           false,
		"application/json; charset=latin1":   false,
		"application/json; charset=utf-16":   false,
		"application/json; charset":          false,
		"application/json, text/plain":       false,
	} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestLogThrottle(t *testing.T) {
	th := logthrottle.New(refuseLogEvery, 1) // as New sets Server.refusals
	t0 := time.Unix(1000, 0).UnixNano()
	if ok, n := th.Allow(t0); !ok || n != 0 {
		t.Fatalf("first line: %v %d", ok, n)
	}
	for i := range 5 {
		if ok, _ := th.Allow(t0 + int64(i)*int64(time.Second)); ok {
			t.Fatalf("line %d within %v let through", i, refuseLogEvery)
		}
	}
	if ok, n := th.Allow(t0 + int64(refuseLogEvery)); !ok || n != 5 {
		t.Fatalf("after %v: %v, %d suppressed, want true, 5", refuseLogEvery, ok, n)
	}
}

// send does one request with the given headers (a "Host" entry sets the
// Host header) and returns the status, the Allow header and the error
// code of the JSON body, failing on a body that is not JSON.
func send(t *testing.T, method, url, body string, hdr map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if method == "HEAD" {
		return resp.StatusCode, resp.Header.Get("Allow"), ""
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %q", method, url, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, raw, err)
	}
	return resp.StatusCode, resp.Header.Get("Allow"), errCode(m)
}

const moBody = `{"source_addr":"336","destination_addr":"1234","short_message":"hi"}`

func TestContentTypeRequired(t *testing.T) {
	f := &fakeMO{}
	base := start(t, Options{MO: f})
	for _, ct := range []string{"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/jsonx", "application/json; charset=iso-8859-1"} {
		hdr := map[string]string{}
		if ct != "" {
			hdr["Content-Type"] = ct
		}
		if st, _, code := send(t, "POST", base+"/v1/mo", moBody, hdr); st != http.StatusUnsupportedMediaType || code != "bad_content_type" {
			t.Errorf("Content-Type %q: %d %q, want 415 bad_content_type", ct, st, code)
		}
	}
	if len(f.got) != 0 {
		t.Fatalf("refused bodies reached the injector: %d", len(f.got))
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"} {
		if st, _, code := send(t, "POST", base+"/v1/mo", moBody, map[string]string{"Content-Type": ct}); st != http.StatusAccepted {
			t.Errorf("Content-Type %q: %d %q, want 202", ct, st, code)
		}
	}
	if len(f.got) != 3 {
		t.Fatalf("accepted bodies: injector saw %d MOs, want 3", len(f.got))
	}
}

func TestBodyBounds(t *testing.T) {
	f := &fakeMO{}
	base := start(t, Options{MO: f})
	js := map[string]string{"Content-Type": "application/json"}
	big := `{"source_addr":"336","destination_addr":"1234","short_message":"` + strings.Repeat("a", maxBody) + `"}`
	if st, _, code := send(t, "POST", base+"/v1/mo", big, js); st != http.StatusRequestEntityTooLarge || code != "too_large" {
		t.Errorf("body over %d octets: %d %q, want 413 too_large", maxBody, st, code)
	}
	for name, body := range map[string]string{
		"two documents": moBody + moBody,
		"trailing junk": moBody + " x",
		"empty":         "",
	} {
		if st, _, code := send(t, "POST", base+"/v1/mo", body, js); st != http.StatusBadRequest || code != "bad_request" {
			t.Errorf("%s: %d %q, want 400 bad_request", name, st, code)
		}
	}
	if st, _, _ := send(t, "POST", base+"/v1/mo", moBody+"\n", js); st != http.StatusAccepted {
		t.Errorf("trailing newline: %d, want 202", st)
	}
	if len(f.got) != 1 {
		t.Fatalf("injector saw %d MOs, want 1", len(f.got))
	}

	// Headers over maxHeaderBytes are refused by net/http before any handler.
	req, err := http.NewRequest("GET", base+"/v1/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Big", strings.Repeat("b", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("%d KiB of headers: %d, want 431", 2*maxHeaderBytes>>10, resp.StatusCode)
	}
}

// syncBuffer is a log sink the server's goroutines may write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUnknownHostRefused(t *testing.T) {
	f := &fakeMO{}
	var logs syncBuffer
	s := New(Options{Addr: "127.0.0.1:0", MO: f, AllowedHosts: []string{"smpp1.example.net", "2001:db8::8"},
		Logger: zerolog.New(&logs)})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	base := "http://" + s.Addr().String()
	port := base[strings.LastIndexByte(base, ':'):]

	for _, host := range []string{"evil.example" + port, "evil.example", "10.0.0.5" + port, "[2001:db8::1]" + port} {
		hdr := map[string]string{"Host": host, "Content-Type": "application/json"}
		if st, _, code := send(t, "POST", base+"/v1/mo", moBody, hdr); st != http.StatusMisdirectedRequest || code != "unknown_host" {
			t.Errorf("Host %q: %d %q, want 421 unknown_host", host, st, code)
		}
		if st, _, code := send(t, "GET", base+"/v1/nothing", "", hdr); st != http.StatusMisdirectedRequest {
			t.Errorf("Host %q on an unknown path: %d %q, want 421 before 404", host, st, code)
		}
	}
	if len(f.got) != 0 {
		t.Fatalf("requests for another host reached the injector: %d", len(f.got))
	}
	// Probes need no name: health and ready answer whatever the Host.
	for _, p := range []string{"/v1/health", "/v1/ready"} {
		if st, _, _ := send(t, "GET", base+p, "", map[string]string{"Host": "evil.example"}); st != http.StatusOK {
			t.Errorf("%s with an unknown Host: %d, want 200", p, st)
		}
	}
	// Eight refusals within refuseLogEvery: one log line.
	if n := strings.Count(logs.String(), `"event":"admin_refused"`); n != 1 {
		t.Errorf("%d refusal log lines, want 1 (throttled):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"reason":"unknown_host"`) || !strings.Contains(logs.String(), `"host":"evil.example`) {
		t.Errorf("refusal log line lacks reason or host:\n%s", logs.String())
	}

	for _, host := range []string{"localhost" + port, "127.0.0.1" + port, "[::1]" + port, "smpp1.example.net" + port,
		"SMPP1.EXAMPLE.NET", "[2001:db8::8]:80"} {
		hdr := map[string]string{"Host": host, "Content-Type": "application/json"}
		if st, _, code := send(t, "POST", base+"/v1/mo", moBody, hdr); st != http.StatusAccepted {
			t.Errorf("Host %q: %d %q, want 202", host, st, code)
		}
	}
}

func TestCrossOriginWritesRefused(t *testing.T) {
	f := &fakeMO{}
	base := start(t, Options{MO: f})
	js := "application/json"
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Content-Type": js, "Sec-Fetch-Site": "cross-site"},
		"Sec-Fetch-Site same-site":  {"Content-Type": js, "Sec-Fetch-Site": "same-site"},
		"foreign Origin":            {"Content-Type": js, "Origin": "http://evil.example"},
	} {
		if st, _, code := send(t, "POST", base+"/v1/mo", moBody, hdr); st != http.StatusForbidden || code != "cross_origin" {
			t.Errorf("%s: %d %q, want 403 cross_origin", name, st, code)
		}
	}
	if len(f.got) != 0 {
		t.Fatalf("cross-origin writes reached the injector: %d", len(f.got))
	}
	for name, hdr := range map[string]map[string]string{
		"no browser headers": {"Content-Type": js},
		"same-origin":        {"Content-Type": js, "Sec-Fetch-Site": "same-origin"},
		"user typed it":      {"Content-Type": js, "Sec-Fetch-Site": "none"},
		"own Origin":         {"Content-Type": js, "Origin": base},
	} {
		if st, _, code := send(t, "POST", base+"/v1/mo", moBody, hdr); st != http.StatusAccepted {
			t.Errorf("%s: %d %q, want 202", name, st, code)
		}
	}
	// Reads are safe methods: a cross-site GET is answered (the browser
	// keeps the answer from the page without CORS headers).
	if st, _, _ := send(t, "GET", base+"/v1/health", "", map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusOK {
		t.Errorf("cross-site GET: %d, want 200", st)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := New(Options{Addr: "127.0.0.1:0", MO: &fakeMO{}, Logger: zerolog.Nop()})
	s.HandlePprof()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	base := "http://" + s.Addr().String()
	cases := []struct{ method, path, allow string }{
		{"DELETE", "/v1/health", "GET, HEAD"},
		{"POST", "/v1/ready", "GET, HEAD"},
		{"GET", "/v1/mo", "POST"},
		{"PUT", "/v1/mo", "POST"},
		{"PUT", "/v1/users/alice", "DELETE, GET, HEAD, PATCH"},
		{"POST", "/v1/users/alice", "DELETE, GET, HEAD, PATCH"},
		{"GET", "/v1/sessions/7", "DELETE"},
		{"GET", "/v1/connectors/sim/stop", "POST"},
		{"DELETE", "/v1/users", "GET, HEAD, POST"},
		{"POST", "/debug/pprof/heap", "GET, HEAD"},
	}
	for _, c := range cases {
		st, allow, code := send(t, c.method, base+c.path, "", nil)
		if st != http.StatusMethodNotAllowed || code != "method_not_allowed" || allow != c.allow {
			t.Errorf("%s %s: %d %q Allow %q, want 405 method_not_allowed Allow %q", c.method, c.path, st, code, allow, c.allow)
		}
	}
	for _, p := range []string{"/", "/v1", "/v1/nothing", "/v1/users/alice/nothing", "/v2/health"} {
		for _, m := range []string{"GET", "POST"} {
			if st, allow, code := send(t, m, base+p, "", nil); st != http.StatusNotFound || code != "not_found" || allow != "" {
				t.Errorf("%s %s: %d %q Allow %q, want 404 not_found", m, p, st, code, allow)
			}
		}
	}
	if st, _, _ := send(t, "HEAD", base+"/v1/health", "", nil); st != http.StatusOK {
		t.Errorf("HEAD /v1/health: %d, want 200", st)
	}
}
