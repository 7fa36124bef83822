package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smpptest"
)

// syncBuf is a log destination tests read while the daemon writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const e2ePolicy = `
[[normalise]]
country_code = "49"

[[list]]
name = "blocked"
kind = "block"
field = "dest"
entries = ["4916*"]
status = "ESME_RX_P_APPN"
`

// An ESME through the policy to the simulator and back: a national
// number is accepted (the simulator gets the canonical form), the receipt
// carries the addresses the ESME submitted, a blocked range is refused
// with the list's status; a reload with a broken policy file keeps the
// policy in force and logs why, a good one replaces it.
func TestPolicyEndToEndAndReload(t *testing.T) {
	cfgPath, _, _, _ := demoDir(t)
	dir := filepath.Dir(cfgPath)
	polPath := filepath.Join(dir, "policy.toml")
	must(t, os.WriteFile(polPath, []byte(e2ePolicy), 0o600))
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	conf := strings.Replace(string(src), "\nfile = \"\" ", "\nfile = \"policy.toml\" ", 1) // [policy]
	if conf == string(src) {
		t.Fatal("the demo config has no [policy] file key")
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	cfg, err := config.Load(cfgPath)
	must(t, err)
	logs := &syncBuf{}
	d, err := newDaemon(cfg, zerolog.New(logs), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	must(t, d.start())
	stopAtEnd(t, d)

	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	seq := uint32(1)
	submit := func(dst string, receipt bool) (codec.Status, string) {
		t.Helper()
		seq++
		body := smpptest.SubmitBody("1234", dst, "policy")
		body[1], body[2] = 0, 0                                 // source TON/NPI unknown: the policy decides
		body[1+2+len("1234")+1], body[1+2+len("1234")+2] = 0, 0 // destination's likewise
		if receipt {
			body[len(body)-len("policy")-5] = 1 // registered_delivery
		}
		must(t, c.Send(codec.SubmitSMID, 0, seq, body))
		h, resp, err := c.ReadFrame(5 * time.Second)
		must(t, err)
		if h.CommandID != codec.SubmitSMRespID {
			t.Fatalf("got %v, want submit_sm_resp", h.CommandID)
		}
		var r codec.SubmitSMResp
		if h.Status == codec.StatusOK {
			must(t, r.Decode(resp[codec.HeaderLen:]))
		}
		return h.Status, string(r.MessageID)
	}
	st, id := submit("015112345678", true)
	if st != codec.StatusOK {
		t.Fatalf("national number: %v", st)
	}
	rcpt := expectDeliver(t, c)
	if got, _ := rcpt.TLVs.Get(codec.TagReceiptedMessageID); strings.TrimSuffix(string(got), "\x00") != id {
		t.Fatalf("receipt for %q, want %q", got, id)
	}
	if string(rcpt.SourceAddr) != "015112345678" || string(rcpt.DestinationAddr) != "1234" {
		t.Fatalf("receipt from %s to %s: want the submitted 015112345678 -> 1234 swapped", rcpt.SourceAddr, rcpt.DestinationAddr)
	}
	if st, _ := submit("016012345678", false); st != codec.StatusXPAppn {
		t.Fatalf("blocked range: %v, want ESME_RX_P_APPN", st)
	}

	// A broken file: the old policy stays, the log says why.
	must(t, os.WriteFile(polPath, []byte("[[list]]\nname = \"x\"\nkind = \"deny\"\nfield = \"dest\"\n"), 0o600))
	d.reload()
	if !strings.Contains(logs.String(), `kind: \"deny\"`) || !strings.Contains(logs.String(), "the previous policy stays in force") {
		t.Fatalf("no reason logged:\n%s", logs)
	}
	if st, _ := submit("016012345678", false); st != codec.StatusXPAppn {
		t.Fatalf("after a failed reload: %v, want the old policy's ESME_RX_P_APPN", st)
	}
	// A good one replaces it.
	must(t, os.WriteFile(polPath, []byte("[[normalise]]\ncountry_code = \"49\"\n"), 0o600))
	d.reload()
	if st, _ := submit("016012345678", false); st != codec.StatusOK {
		t.Fatalf("after the list was removed: %v", st)
	}
	if !strings.Contains(logs.String(), `"event":"policy_reload","file"`) {
		t.Fatalf("no reload logged:\n%s", logs)
	}
}

// -check-config compiles the policy file as a start would, naming the key
// of a bad value.
func TestCheckConfigPolicy(t *testing.T) {
	cfgPath, _, _, _ := demoDir(t)
	dir := filepath.Dir(cfgPath)
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	must(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(src), "\nfile = \"\" ", "\nfile = \"policy.toml\" ", 1)), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(e2ePolicy), 0o600))
	var out, errOut bytes.Buffer
	if rc := checkConfig(cfgPath, &out, &errOut); rc != 0 {
		t.Fatalf("a good policy: rc %d: %s", rc, errOut.String())
	}
	must(t, os.WriteFile(filepath.Join(dir, "policy.toml"), []byte("[[normalise]]\ncountry_code = \"049\"\n"), 0o600))
	out.Reset()
	errOut.Reset()
	if rc := checkConfig(cfgPath, &out, &errOut); rc != 1 || !strings.Contains(errOut.String(), "normalise[0]: country_code") {
		t.Fatalf("a bad policy: rc %d: %s", rc, errOut.String())
	}
}

// An ESME's message rewritten by a rule (normalised, then its sender
// replaced) reaches the simulator rewritten; the receipt carries what the
// ESME submitted; the CDR line and the admin API's lookup carry what went
// upstream, with the submitted addresses beside them, and a search finds
// it by either destination (the disk store of the demo config keeps both).
func TestPolicyRewriteInCDRAndLookup(t *testing.T) {
	cfgPath, _, _, adminPort := demoDir(t)
	dir := filepath.Dir(cfgPath)
	must(t, os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(`
[[normalise]]
country_code = "49"

[[rule]]
name = "brand"
source_addrs = ["1234"]
source_rewrite = ["^1234$", "ACME"]
`), 0o600))
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	must(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(src), "\nfile = \"\" ", "\nfile = \"policy.toml\" ", 1)), 0o600))
	d, _, stop := runConfig(t, cfgPath)
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	body := smpptest.SubmitBody("1234", "015112345678", "rewritten")
	body[1], body[2] = 0, 0
	body[1+2+len("1234")+1], body[1+2+len("1234")+2] = 0, 0
	body[len(body)-len("rewritten")-5] = 1 // registered_delivery
	must(t, c.Send(codec.SubmitSMID, 0, 2, body))
	_, resp, err := c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK)
	must(t, err)
	var r codec.SubmitSMResp
	must(t, r.Decode(resp[codec.HeaderLen:]))
	id := string(r.MessageID)
	rcpt := expectDeliver(t, c)
	if string(rcpt.SourceAddr) != "015112345678" || string(rcpt.DestinationAddr) != "1234" {
		t.Fatalf("receipt from %s to %s: want the submitted 015112345678 -> 1234 swapped", rcpt.SourceAddr, rcpt.DestinationAddr)
	}
	wantAddrs := func(what string, m map[string]any) {
		t.Helper()
		if m["source"] != "ACME" || m["destination"] != "4915112345678" || m["destination_ton"] != 1.0 ||
			m["submitted_source"] != "1234" || m["submitted_destination"] != "015112345678" {
			t.Fatalf("%s: %v", what, m)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, metrics := adminReq(t, adminPort, "", "GET", "/metrics", "")
		if strings.Contains(metrics, "smppd_cdr_written_total 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CDR metrics after 5s:\n%s", grepLines(metrics, "smppd_cdr_"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, raw := adminReq(t, adminPort, "", "GET", "/v1/messages/"+id, "")
	var obj map[string]any
	if code != 200 || json.Unmarshal([]byte(raw), &obj) != nil {
		t.Fatalf("GET /v1/messages/%s: %d %s", id, code, raw)
	}
	wantAddrs("lookup", obj)
	for _, to := range []string{"4915112345678", "015112345678"} {
		if code, raw := adminReq(t, adminPort, "", "GET", "/v1/messages?to="+to, ""); code != 200 || !strings.Contains(raw, id) {
			t.Fatalf("GET /v1/messages?to=%s: %d %s", to, code, raw)
		}
	}

	must(t, c.Close())
	stop()
	files, err := filepath.Glob(filepath.Join(d.cfg.Storage.Dir, "cdr", "cdr-*.jsonl"))
	must(t, err)
	if len(files) != 1 {
		t.Fatalf("closed CDR files: %v", files)
	}
	line, err := os.ReadFile(files[0])
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(bytes.TrimSpace(line), &m))
	if m["id"] != id {
		t.Fatalf("CDR line for %v, want %s", m["id"], id)
	}
	wantAddrs("CDR", m)
}
