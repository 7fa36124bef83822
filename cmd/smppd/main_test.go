package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/freeport"
	"github.com/smppd/smppd/internal/smpptest"
)

func TestPasswdPrintsVerifiableHash(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := passwd(nil, strings.NewReader("s3cret\n"), &out, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	h := strings.TrimSpace(out.String())
	if !accounts.VerifyPassword(h, "s3cret") || accounts.VerifyPassword(h, "other") {
		t.Fatalf("hash %q does not verify", h)
	}
	if rc := passwd([]string{"waytoolongpw"}, nil, &out, &errOut); rc != 2 {
		t.Fatalf("a 12-character password was accepted (rc %d)", rc)
	}
}

// demoDir copies the demo config and users file into a temporary
// directory with free ports for SMPP and admin and a log file there.
func demoDir(t *testing.T) (cfgPath, usersPath string, smppPort, adminPort int) {
	t.Helper()
	src, err := os.ReadFile("../../configs/smppd.toml")
	must(t, err)
	users, err := os.ReadFile("../../configs/users.toml")
	must(t, err)
	dir := t.TempDir()
	smppPort, adminPort = freePort(t), freePort(t)
	conf := strings.Replace(string(src), "port = 2775 ", "port = "+strconv.Itoa(smppPort)+" ", 1)
	conf = strings.Replace(conf, "port = 8790 ", "port = "+strconv.Itoa(adminPort)+" ", 1)
	conf = strings.Replace(conf, "port = 1401 ", "port = "+strconv.Itoa(freePort(t))+" ", 1) // [http-api]
	conf = strings.Replace(conf, `log_file = ""`, `log_file = "`+filepath.Join(dir, "smppd.log")+`"`, 1)
	cfgPath, usersPath = filepath.Join(dir, "smppd.toml"), filepath.Join(dir, "users.toml")
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	must(t, os.WriteFile(usersPath, users, 0o600))
	return cfgPath, usersPath, smppPort, adminPort
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.One()
	must(t, err)
	return p
}

// startDemo runs a daemon on the demo config as main does.
func startDemo(t *testing.T) (d *daemon, cfgPath, usersPath string, adminPort int) {
	t.Helper()
	cfgPath, usersPath, _, adminPort = demoDir(t)
	d, _, _ = runConfig(t, cfgPath)
	return d, cfgPath, usersPath, adminPort
}

// runConfig starts a daemon on the config at cfgPath as main does (the
// SMPP listener on a free port, two event loops). It stops at the test's
// end unless the test called stop first (stopAtEnd).
func runConfig(t testing.TB, cfgPath string) (d *daemon, cfg *config.Config, stop func()) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	must(t, err)
	d, err = newDaemon(cfg, zerolog.New(zerolog.NewTestWriter(t)), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	must(t, d.start())
	return d, cfg, stopAtEnd(t, d)
}

func bindAs(t *testing.T, d *daemon, kind codec.CommandID, user, pw string) (*smpptest.Client, codec.Status) {
	t.Helper()
	c, err := smpptest.Dial(d.srv.Addr().String())
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	h, _, err := c.Bind(kind, user, pw, 0x34)
	must(t, err)
	return c, h.Status
}

// TestDemoConfigServesAndReloads binds with the demo users, then reloads a
// users file with a new user while a session stays bound.
func TestDemoConfigServesAndReloads(t *testing.T) {
	d, _, usersPath, _ := startDemo(t)
	demo, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("demo bind: %v", st)
	}
	if _, st := bindAs(t, d, codec.BindTransceiverID, "demo2", "wrong"); st != codec.StatusInvPaswd {
		t.Fatalf("wrong password: %v", st)
	}
	if _, st := bindAs(t, d, codec.BindTransceiverID, "carol", "carolpw"); st != codec.StatusInvPaswd {
		t.Fatalf("unknown user: %v", st)
	}
	users, err := os.ReadFile(usersPath)
	must(t, err)
	h, err := accounts.HashPassword("carolpw")
	must(t, err)
	extra := "\n[[user]]\nsystem_id = \"carol\"\npassword_hash = \"" + h + "\"\n"
	must(t, os.WriteFile(usersPath, append(users, extra...), 0o600))
	d.reload()
	if _, st := bindAs(t, d, codec.BindTransceiverID, "carol", "carolpw"); st != codec.StatusOK {
		t.Fatalf("new user after reload: %v", st)
	}
	must(t, demo.Send(codec.SubmitSMID, 0, 9, smpptest.SubmitBody("1", "2", "still bound")))
	if _, _, err := demo.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK); err != nil {
		t.Fatalf("session dropped by reload: %v", err)
	}
}

// TestDemoReceiptAndInjectedMO is the demo check on our side: demo
// submits with registered_delivery=1 and gets a receipt naming the submit's
// id; an MO posted to /v1/mo reaches the same bind.
func TestDemoReceiptAndInjectedMO(t *testing.T) {
	d, _, _, adminPort := startDemo(t)
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	text := "receipt please"
	body := smpptest.SubmitBody("1234", "4915112345678", text)
	body[len(body)-len(text)-5] = 1 // registered_delivery
	must(t, c.Send(codec.SubmitSMID, 0, 2, body))
	_, resp, err := c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK)
	must(t, err)
	var r codec.SubmitSMResp
	must(t, r.Decode(resp[codec.HeaderLen:]))
	id := string(r.MessageID)
	if len(id) == 0 || len(id) > 16 {
		t.Fatalf("message id %q", id)
	}
	rcpt := expectDeliver(t, c)
	if rcpt.ESMClass&0x3c != 0x04 {
		t.Fatalf("receipt esm_class %#x", rcpt.ESMClass)
	}
	if got, _ := rcpt.TLVs.Get(codec.TagReceiptedMessageID); strings.TrimSuffix(string(got), "\x00") != id { // a C-Octet String
		t.Fatalf("receipted_message_id %q, want %q", got, id)
	}
	if !strings.Contains(string(rcpt.ShortMessage), "id:"+id+" ") || !strings.Contains(string(rcpt.ShortMessage), "stat:DELIVRD") {
		t.Fatalf("receipt text %q", rcpt.ShortMessage)
	}

	// Without a receipt request the simulator sends none; query_sm shows
	// the drawn state once receipt_delay (50 ms in the demo) has passed.
	must(t, c.Send(codec.SubmitSMID, 0, 3, smpptest.SubmitBody("1234", "4915112345678", "no receipt")))
	_, resp, err = c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK)
	must(t, err)
	var r2 codec.SubmitSMResp
	must(t, r2.Decode(resp[codec.HeaderLen:]))
	q := codec.QuerySM{MessageID: r2.MessageID, SourceAddrTON: 0, SourceAddrNPI: 0, SourceAddr: []byte("1234")}
	deadline := time.Now().Add(5 * time.Second)
	for seq := uint32(4); ; seq++ {
		qb, err := q.Append(nil, codec.Header{CommandID: codec.QuerySMID, Sequence: seq})
		must(t, err)
		must(t, c.Send(codec.QuerySMID, 0, seq, qb[codec.HeaderLen:]))
		_, qr, err := c.Expect(5*time.Second, codec.QuerySMRespID, codec.StatusOK)
		must(t, err)
		var a codec.QuerySMResp
		must(t, a.Decode(qr[codec.HeaderLen:]))
		if a.MessageState == codec.MessageState(2) { // DELIVERED
			if len(a.FinalDate) == 0 {
				t.Fatal("query_sm_resp DELIVERED without a final_date")
			}
			break
		}
		if a.MessageState != codec.MessageState(1) || time.Now().After(deadline) { // ENROUTE until then
			t.Fatalf("query_sm state %v", a.MessageState)
		}
		time.Sleep(20 * time.Millisecond)
	}

	url := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/v1/mo"
	res, err := http.Post(url, "application/json", strings.NewReader(`{"source_addr":"4917000","destination_addr":"1234","short_message":"hello from the network"}`))
	must(t, err)
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST /v1/mo: %s", res.Status)
	}
	mo := expectDeliver(t, c)
	if string(mo.ShortMessage) != "hello from the network" || string(mo.SourceAddr) != "4917000" || mo.ESMClass&0x3c != 0 {
		t.Fatalf("MO %+v", mo)
	}
}

// expectDeliver reads the next deliver_sm, answers it and decodes it.
func expectDeliver(t *testing.T, c *smpptest.Client) *codec.SM {
	t.Helper()
	h, b, err := c.Expect(10*time.Second, codec.DeliverSMID, codec.StatusOK)
	must(t, err)
	must(t, c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
	p := new(codec.SM)
	must(t, p.Decode(b[codec.HeaderLen:]))
	return p
}

// TestRuntimeBalanceWrittenBack checks that a top-up at run time lands in
// the users file and survives a reload.
func TestRuntimeBalanceWrittenBack(t *testing.T) {
	d, _, usersPath, _ := startDemo(t)
	amt, err := accounts.ParseAmount("5.5")
	must(t, err)
	must(t, d.users.TopUp("demo2", amt))
	b, err := os.ReadFile(usersPath)
	must(t, err)
	if !strings.Contains(string(b), `balance = "1005.5"`) {
		t.Fatalf("users file after top-up:\n%s", b)
	}
	d.reload()
	u, ok := d.users.Lookup("demo2")
	if !ok || u.Limits.Balance.String() != "1005.5" {
		t.Fatalf("after reload: %v %v", ok, u.Limits.Balance)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunStopsGracefullyOnSIGTERM runs main's run with the demo config on a
// free port and checks that SIGTERM makes it unbind and return nil (exit 0).
func TestRunStopsGracefullyOnSIGTERM(t *testing.T) {
	cfgPath, _, port, _ := demoDir(t)
	dir := filepath.Dir(cfgPath)
	var err error

	r := startRun(t, filepath.Join(dir, "smppd.toml"))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var c *smpptest.Client
	deadline := time.Now().Add(5 * time.Second)
	for c == nil {
		if c, err = smpptest.Dial(addr); err != nil {
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	defer c.Close()
	h, _, err := c.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	must(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	uh, _, err := c.Expect(5*time.Second, codec.UnbindID, codec.StatusOK)
	must(t, err)
	must(t, c.Send(codec.UnbindRespID, 0, uh.Sequence, nil))
	if err := r.wait(t, 15*time.Second); err != nil {
		t.Fatalf("run returned %v", err)
	}
	logs, err := os.ReadFile(filepath.Join(dir, "smppd.log"))
	must(t, err)
	for _, want := range []string{"session bound", "reason=shutdown", "smpp server stopped"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
