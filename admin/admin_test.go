package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
)

type fakeMO struct {
	mu  sync.Mutex
	got []msg.Inbound
	err error
}

func (f *fakeMO) InjectMO(in *msg.Inbound) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	c := *in
	c.Source = append([]byte(nil), in.Source...)
	c.Dest = append([]byte(nil), in.Dest...)
	c.ShortMessage = append([]byte(nil), in.ShortMessage...)
	c.TLVs = append([]byte(nil), in.TLVs...)
	f.got = append(f.got, c)
	return nil
}

func start(t *testing.T, o Options) string {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	o.Logger = zerolog.Nop()
	s := New(o)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	return "http://" + s.Addr().String()
}

func do(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, raw, err)
	}
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestHealthReadyAndNotFound(t *testing.T) {
	ready := errors.New("engine not started")
	b := BuildInfo{Version: "v1.2.3", Commit: "0123abcd", Go: "go1.26.8"}
	base := start(t, Options{Ready: func() error { return ready }, Build: b})
	if st, m := do(t, "GET", base+"/v1/health", "", ""); st != 200 || m["status"] != "ok" ||
		m["version"] != b.Version || m["commit"] != b.Commit || m["go"] != b.Go {
		t.Fatalf("health: %d %v", st, m)
	}
	if st, m := do(t, "GET", base+"/v1/ready", "", ""); st != 503 || errCode(m) != "not_ready" {
		t.Fatalf("ready: %d %v", st, m)
	}
	if st, m := do(t, "GET", base+"/v1/nothing", "", ""); st != 404 || errCode(m) != "not_found" {
		t.Fatalf("unknown path: %d %v", st, m)
	}
}

func TestBearerToken(t *testing.T) {
	f := &fakeMO{}
	base := start(t, Options{Token: "s3cret", MO: f})
	body := `{"source_addr":"336","destination_addr":"1234","short_message":"hi"}`
	if st, m := do(t, "POST", base+"/v1/mo", "", body); st != 401 || errCode(m) != "unauthorized" {
		t.Fatalf("no token: %d %v", st, m)
	}
	if st, _ := do(t, "POST", base+"/v1/mo", "wrong", body); st != 401 {
		t.Fatalf("wrong token: %d", st)
	}
	if st, _ := do(t, "GET", base+"/v1/health", "", ""); st != 200 {
		t.Fatalf("health must stay open: %d", st)
	}
	if st, m := do(t, "POST", base+"/v1/mo", "s3cret", body); st != 202 {
		t.Fatalf("right token: %d %v", st, m)
	}
	if len(f.got) != 1 {
		t.Fatalf("injector saw %d MOs", len(f.got))
	}
}

func TestInjectMOEncodings(t *testing.T) {
	f := &fakeMO{}
	base := start(t, Options{MO: f})
	cases := []struct {
		name, body string
		dc         byte
		sm         []byte
		payload    bool
	}{
		{"gsm7 with extension", `{"source_addr":"336","destination_addr":"1234","short_message":"5€ [x]","system_id":"demo"}`,
			0, []byte{'5', 0x1B, 0x65, ' ', 0x1B, 0x3C, 'x', 0x1B, 0x3E}, false},
		{"ucs2 auto", `{"source_addr":"336","destination_addr":"1234","short_message":"Привет"}`,
			8, []byte{0x04, 0x1F, 0x04, 0x40, 0x04, 0x38, 0x04, 0x32, 0x04, 0x35, 0x04, 0x42}, false},
		{"latin1", `{"source_addr":"336","destination_addr":"1234","short_message":"é","encoding":"latin1"}`,
			3, []byte{0xE9}, false},
		{"long text as payload", `{"source_addr":"336","destination_addr":"1234","short_message":"` + strings.Repeat("a", 300) + `"}`,
			0, nil, true},
	}
	for i, c := range cases {
		st, m := do(t, "POST", base+"/v1/mo", "", c.body)
		if st != 202 || m["status"] != "accepted" {
			t.Fatalf("%s: %d %v", c.name, st, m)
		}
		got := f.got[i]
		if got.DataCoding != c.dc || string(got.Source) != "336" || string(got.Dest) != "1234" {
			t.Errorf("%s: dc %d src %q dst %q", c.name, got.DataCoding, got.Source, got.Dest)
		}
		if c.payload {
			if len(got.ShortMessage) != 0 || len(got.TLVs) != 4+300 || got.TLVs[0] != 0x04 || got.TLVs[1] != 0x24 {
				t.Errorf("%s: short_message %d octets, TLVs % x...", c.name, len(got.ShortMessage), got.TLVs[:4])
			}
		} else if !bytes.Equal(got.ShortMessage, c.sm) {
			t.Errorf("%s: short_message % x, want % x", c.name, got.ShortMessage, c.sm)
		}
	}
	if f.got[0].SystemID != "demo" || f.got[1].SystemID != "" {
		t.Errorf("system_id passed as %q and %q", f.got[0].SystemID, f.got[1].SystemID)
	}
}

func TestInjectMORefusals(t *testing.T) {
	noRoute := errors.New("no MO route matches")
	f := &fakeMO{}
	base := start(t, Options{MO: f, ErrorStatus: func(err error) (int, string) {
		if errors.Is(err, noRoute) {
			return 404, "no_route"
		}
		return 500, "internal"
	}})
	bad := map[string]string{
		"not json":      `{`,
		"unknown field": `{"source_addr":"1","destination_addr":"2","short_message":"x","sytem_id":"demo"}`,
		"no source":     `{"destination_addr":"2","short_message":"x"}`,
		"long dest":     `{"source_addr":"1","destination_addr":"123456789012345678901","short_message":"x"}`,
		"bad encoding":  `{"source_addr":"1","destination_addr":"2","short_message":"x","encoding":"utf8"}`,
		"not gsm7":      `{"source_addr":"1","destination_addr":"2","short_message":"Ж","encoding":"gsm7"}`,
	}
	for name, body := range bad {
		if st, m := do(t, "POST", base+"/v1/mo", "", body); st != 400 || errCode(m) != "bad_request" {
			t.Errorf("%s: %d %v", name, st, m)
		}
	}
	f.err = noRoute
	if st, m := do(t, "POST", base+"/v1/mo", "", `{"source_addr":"1","destination_addr":"2","short_message":"x"}`); st != 404 || errCode(m) != "no_route" {
		t.Errorf("injector refusal: %d %v", st, m)
	}
	if len(f.got) != 0 {
		t.Errorf("refused requests reached the injector: %d", len(f.got))
	}
}
