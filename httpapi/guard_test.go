package httpapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The hostile-input rules: the method (405 with Allow), Content-Type
// (415), body size (413), read deadlines and the connection bound.
func TestGuards(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBody = 4096 })
	for _, tc := range []struct {
		method, path, allow string
	}{
		{http.MethodPut, "/send", "GET, POST"},
		{http.MethodDelete, "/send", "GET, POST"},
		{http.MethodPost, "/ping", "GET"},
		{http.MethodPost, "/balance", "GET"},
		{http.MethodPost, "/rate", "GET"},
		{http.MethodDelete, "/v1/messages", "GET, POST"},
		{http.MethodPost, "/v1/messages/0123456789abcdef", "GET"},
	} {
		req, _ := http.NewRequest(tc.method, e.url+tc.path, nil)
		a := e.do(req)
		if a.status != 405 || a.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q", tc.method, tc.path, a.status, a.header.Get("Allow"))
		}
	}
	e.post("/send", "text/plain", "username=alice").want(t, 415, `Error "Content-Type must be application/x-www-form-urlencoded or application/json"`)
	e.post("/send", "", "username=alice").want(t, 415, `Error "Content-Type must be application/x-www-form-urlencoded or application/json"`)
	e.post("/v1/messages", "application/x-www-form-urlencoded", "to=1").wantError(t, 415, "unsupported_media_type", "")
	big := sendQuery("alice", "content", strings.Repeat("x", 5000)).Encode()
	e.post("/send", "application/x-www-form-urlencoded", big).want(t, 413, `Error "The body is larger than max_body (4096 octets)"`)
	e.post("/v1/messages", "application/json", `{"content":"`+strings.Repeat("x", 5000)+`"}`).wantError(t, 413, "too_large", "")
	e.post("/send", "application/json", `{"username":`).want(t, 400, `Error "Invalid JSON body: expected one object of parameters"`)
	e.post("/send", "application/json", `{"username":"alice","password":"alicepw","to":"33612345678","content":{"x":1}}`).
		want(t, 400, `Error "Argument [content] has an invalid value: [{?x?:1}]."`)
	e.get("/nothing", nil).want(t, 404, `Error "Not found"`)
	e.get("/v1/nothing", nil).wantError(t, 404, "not_found", "")
	if st := e.srv.Stats(); st.BadMethod != 7 || st.BadContentType != 3 || st.TooLarge != 2 {
		t.Errorf("stats = %+v", st)
	}
}

// A client that sends headers and then stalls its body is cut off at
// read_timeout; one that never finishes its headers within the header
// deadline too.
func TestSlowClients(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ReadTimeout = 500 * time.Millisecond })
	addr := e.srv.Addr().String()
	for _, head := range []string{
		"POST /send HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=",
		"GET /send?username=alice HTTP/1.1\r\nHost: x\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, c) // until the server closes
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("stalled request held %v", d)
		}
		c.Close()
	}
}

// Connections beyond max_connections wait in the backlog until one
// closes; they are served then.
func TestMaxConnections(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxConnections = 2; o.ReadTimeout = time.Second })
	addr := e.srv.Addr().String()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
		held = append(held, c) // keep-alive: the slot stays taken
	}
	third, err := net.Dial("tcp", addr) // the kernel completes it; we do not accept it yet
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := io.WriteString(third, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := http.ReadResponse(bufio.NewReader(third), nil); err == nil {
		t.Fatal("a third connection was served while two held every slot")
	}
	if st := e.srv.Stats(); st.Conns != 2 || st.ConnWaits == 0 {
		t.Errorf("stats = %+v", st)
	}
	held[0].Close()
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after a slot freed: %v %v", res, err)
	}
	held[1].Close()
}

// Failed logins are limited as failed binds are: after block_after
// failures of one address and system_id, even the right password is
// refused for a while.
func TestFailedLoginsLimited(t *testing.T) {
	e := newEnv(t)
	for i := range 50 {
		if a := e.get("/send", sendQuery("alice", "password", "guess")); a.status != 403 {
			t.Fatalf("guess %d: %d %s", i, a.status, a.body)
		}
	}
	e.get("/send", sendQuery("alice")).want(t, 403,
		`Error "Authentication failure for username:alice (too many failed logins from this address: try later)"`)
	e.postJSON("alice", map[string]any{"to": "33612345678", "content": "x"}).wantError(t, 429, "auth_throttled", "")
	if st := e.srv.Stats(); st.AuthFailures < 51 {
		t.Errorf("auth failures = %d", st.AuthFailures)
	}
}

// curl, as the Jasmin documentation's examples use it.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	e := newEnv(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--max-time", "10", "-w", " %{http_code}"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v %s", args, err, out)
		}
		return string(out)
	}
	if out := run(e.url + "/send?username=alice&password=alicepw&to=%2B33612345678&content=Hello"); !strings.HasPrefix(out, `Success "`) || !strings.HasSuffix(out, " 200") {
		t.Errorf("curl GET /send: %s", out)
	}
	if out := run("-d", "username=alice", "-d", "password=alicepw", "-d", "to=33612345678", "--data-urlencode", "content=Hello world", e.url+"/send"); !strings.HasPrefix(out, `Success "`) {
		t.Errorf("curl POST /send: %s", out)
	}
	if out := run("-H", "Content-Type: application/json", "-d", `{"username":"alice","password":"alicepw","to":"33612345678","content":"Hi"}`, e.url+"/send"); !strings.HasPrefix(out, `Success "`) {
		t.Errorf("curl POST JSON /send: %s", out)
	}
	if out := run(e.url + "/send?username=alice&password=nope&to=33612345678&content=x"); out != `Error "Authentication failure for username:alice" 403` {
		t.Errorf("curl bad password: %s", out)
	}
	if out := run(e.url + "/balance?username=dave&password=davepw"); out != `{"balance":0.4,"sms_count":"ND"} 200` {
		t.Errorf("curl /balance: %s", out)
	}
	if out := run(e.url + "/rate?username=alice&password=alicepw&to=33612345678"); out != `{"unit_rate":0.5,"submit_sm_count":1} 200` {
		t.Errorf("curl /rate: %s", out)
	}
	if out := run(e.url + "/ping"); out != "Jasmin/PONG 200" {
		t.Errorf("curl /ping: %s", out)
	}
	if out := run("-u", "alice:alicepw", "-H", "Content-Type: application/json", "-d", `{"to":"33612345678","content":"json"}`, e.url+"/v1/messages"); !strings.Contains(out, `"status":200`) {
		t.Errorf("curl POST /v1/messages: %s", out)
	}
	if out := run("-X", "PUT", e.url+"/send"); out != `Error "Method PUT not allowed" 405` {
		t.Errorf("curl PUT /send: %s", out)
	}
}

// A Jasmin client as Jasmin's documentation writes one (Python's urllib):
// testdata/jasmin_examples.py runs its examples against the API.
func TestJasminDocumentationExamples(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	e := newEnv(t)
	out, err := exec.Command(py, "testdata/jasmin_examples.py", e.url, "alice", "alicepw", "+33612345678").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := strings.Count(string(out), "ok   "); n != 11 {
		t.Errorf("%d examples passed, want 11:\n%s", n, out)
	}
}
