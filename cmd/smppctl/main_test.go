package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/admintest"
	"github.com/smppd/smppd/internal/smpptest"
)

// ctl runs smppctl against e and returns stdout, stderr and the status.
func ctl(t *testing.T, e *admintest.Env, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "SMPPCTL_ADDR" {
			return e.URL
		}
		return ""
	}
	code := run(args, &out, &errOut, env)
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and checks its output contains every
// one of want.
func ok(t *testing.T, e *admintest.Env, want []string, args ...string) string {
	t.Helper()
	out, errOut, code := ctl(t, e, args...)
	if code != 0 {
		t.Fatalf("smppctl %s: status %d, stderr %q", strings.Join(args, " "), code, errOut)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("smppctl %s: no %q in\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

// fails runs a command that must fail with status code and the server's
// message (or usage text) on stderr.
func fails(t *testing.T, e *admintest.Env, code int, wantErr string, args ...string) {
	t.Helper()
	_, errOut, got := ctl(t, e, args...)
	if got != code || !strings.Contains(errOut, wantErr) {
		t.Errorf("smppctl %s: status %d stderr %q, want %d with %q", strings.Join(args, " "), got, errOut, code, wantErr)
	}
}

func TestHealthAndHelp(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	ok(t, e, []string{"health: ok", "ready:  ok"}, "health")
	out := ok(t, e, nil, "--json", "health")
	if !strings.Contains(out, `"status": "ok"`) || !strings.Contains(out, `"status": "ready"`) {
		t.Errorf("health --json: %s", out)
	}
	ok(t, e, []string{"Commands:", "sessions", "connectors", "Examples:"}, "--help")
	ok(t, e, []string{"Subcommands:", "balance-set USER AMOUNT", "topup USER AMOUNT"}, "users", "--help")
	ok(t, e, []string{"Usage:", "smppctl users add USER [flags]", "--password", "-throughput", "Examples:"}, "users", "add", "--help")
	ok(t, e, []string{"-grace"}, "connectors", "stop", "--help")
	fails(t, e, 2, `unknown command "nope"`, "nope")
	fails(t, e, 2, `unknown subcommand "frob"`, "users", "frob")
	fails(t, e, 2, "want 1 argument(s)", "users", "show")
	fails(t, e, 1, "connection refused", "--addr", "http://127.0.0.1:1", "health")
}

func TestSessionsCommands(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	c := e.Bind(t, codec.BindTransceiverID, "alice", admintest.AlicePassword)
	if err := c.Send(codec.SubmitSMID, 0, c.NextSeq(), smpptest.SubmitBody("1", "3361234", "hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Expect(admintestWait, codec.SubmitSMRespID, codec.StatusOK); err != nil {
		t.Fatal(err)
	}
	out := ok(t, e, []string{"ID", "USER", "SUBMITS", "alice", "transceiver", "bound_trx", "127.0.0.1:"}, "sessions", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("sessions list:\n%s", out)
	}
	id := strings.Fields(lines[1])[0]
	var l sessionList
	if err := json.Unmarshal([]byte(ok(t, e, nil, "sessions", "list", "--json", "--user", "alice")), &l); err != nil ||
		len(l.Sessions) != 1 || l.Sessions[0].Counters.Submits != 1 {
		t.Fatalf("sessions list --json: %+v %v", l, err)
	}
	ok(t, e, []string{"ID"}, "sessions", "list", "--user", "bob")
	fails(t, e, 2, "ID is the number", "sessions", "kick", "abc")
	fails(t, e, 1, "not_found (HTTP 404): no open session 99999", "sessions", "kick", "99999")
	ok(t, e, []string{"session " + id + " kicked"}, "sessions", "kick", id)
	if _, _, err := c.Expect(admintestWait, codec.UnbindID, codec.StatusOK); err != nil {
		t.Fatal(err)
	}
}

func TestUsersCommands(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	ok(t, e, []string{"USER", "BALANCE", "alice", "100", "bob", "false"}, "users", "list")
	ok(t, e, []string{"system_id", "alice", "balance", "100", "bind_types", "transmitter,receiver,transceiver"}, "users", "show", "alice")
	fails(t, e, 1, "not_found (HTTP 404): no user zed", "users", "show", "zed")

	ok(t, e, []string{"carol", "throughput", "50/s", "balance", "12.5", "transceiver"},
		"users", "add", "carol", "--password", "pw1", "--bind-types", "transceiver", "--throughput", "50", "--balance", "12.5")
	e.Bind(t, codec.BindTransceiverID, "carol", "pw1")
	fails(t, e, 2, "--password is required", "users", "add", "dave")
	fails(t, e, 1, "conflict (HTTP 409): user carol exists", "users", "add", "carol", "--password", "x")

	ok(t, e, []string{"throughput", "100/s", "burst", "20"}, "users", "set", "carol", "--throughput", "100", "--burst", "20")
	fails(t, e, 2, "at least one field", "users", "set", "carol")
	fails(t, e, 1, "invalid (HTTP 422): max_priority: 9 is out of range 0..3", "users", "set", "carol", "--max-priority", "9")

	ok(t, e, []string{"enabled", "true"}, "users", "enable", "bob")
	ok(t, e, []string{"enabled", "false"}, "users", "disable", "bob")
	ok(t, e, []string{"alice balance: 112.5"}, "users", "topup", "alice", "12.5")
	ok(t, e, []string{"alice balance: 7"}, "users", "balance-set", "alice", "7")
	ok(t, e, []string{"alice balance: unlimited"}, "users", "balance-set", "alice", "unlimited")
	fails(t, e, 1, "conflict (HTTP 409)", "users", "topup", "alice", "1")
	fails(t, e, 1, "invalid (HTTP 422)", "users", "balance-set", "alice", "12.3.4")

	var u user
	if err := json.Unmarshal([]byte(ok(t, e, nil, "--json", "users", "show", "carol")), &u); err != nil || u.Throughput != 100 {
		t.Fatalf("users show --json: %+v %v", u, err)
	}
	if saved, n := e.LastSave(); n == 0 || len(saved) != 3 {
		t.Errorf("users file not written: %d saves", n)
	}
}

func TestConnectorsCommands(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	ok(t, e, []string{"NAME", "STATE", "sim1", "sim", "up", "true", "sim2", "false"}, "connectors", "list")
	ok(t, e, []string{"connector sim1 stopped"}, "connectors", "stop", "sim1", "--grace", "1s")
	ok(t, e, []string{"stopped"}, "connectors", "list")
	fails(t, e, 1, "conflict (HTTP 409): connector sim1 is already stopped", "connectors", "stop", "sim1")
	fails(t, e, 1, "not_found (HTTP 404): no connector zz", "connectors", "start", "zz")
	ok(t, e, []string{"connector sim1 started"}, "connectors", "start", "sim1")
	var l connectorList
	if err := json.Unmarshal([]byte(ok(t, e, nil, "connectors", "list", "--json")), &l); err != nil || l.Connectors[0].State != "up" {
		t.Fatalf("connectors list --json: %+v %v", l, err)
	}
}

func TestRoutesAndMOCommands(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	ok(t, e, []string{"MT_ROUTE", "main", "failover", "sim1,sim2", "0.5", "dest_prefixes=33,49", "rest", "default", "*",
		"MO_ROUTE", "to-alice", "alice"}, "routes", "show")
	next := admintest.Routes()
	next.MT = next.MT[1:]
	e.SetRoutesFile(next, nil)
	out := ok(t, e, []string{"rest"}, "routes", "reload")
	if strings.Contains(out, "main") {
		t.Errorf("reload still shows the old route:\n%s", out)
	}
	bad := admintest.Routes()
	bad.MT[0].Kind = "random"
	e.SetRoutesFile(bad, nil)
	fails(t, e, 1, "invalid_config (HTTP 422)", "routes", "reload")

	c := e.Bind(t, codec.BindReceiverID, "alice", admintest.AlicePassword)
	ok(t, e, []string{"MO accepted: data_coding 0, 4 octets"}, "mo", "inject", "--from", "33612345678", "--to", "1234", "--text", "STOP")
	h, f, err := c.ReadFrame(admintestWait)
	if err != nil || h.CommandID != codec.DeliverSMID {
		t.Fatalf("MO not delivered: %v %v", h.CommandID, err)
	}
	var sm codec.SM
	if err := sm.Decode(f[codec.HeaderLen:]); err != nil || string(sm.ShortMessage) != "STOP" {
		t.Fatalf("MO text %q %v", sm.ShortMessage, err)
	}
	fails(t, e, 2, "--from and --to are required", "mo", "inject", "--text", "x")
	fails(t, e, 1, "bad_request (HTTP 400)", "mo", "inject", "--from", "1", "--to", "2", "--text", "Ж", "--encoding", "gsm7")
}

func TestToken(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{Token: "s3cret"})
	fails(t, e, 1, "unauthorized (HTTP 401)", "users", "list")
	ok(t, e, []string{"alice"}, "--token", "s3cret", "users", "list")
	ok(t, e, []string{"alice"}, "users", "list", "--token", "s3cret")
	var out, errOut bytes.Buffer
	env := func(k string) string {
		return map[string]string{"SMPPCTL_ADDR": e.URL, "SMPPCTL_TOKEN": "s3cret"}[k]
	}
	if code := run([]string{"users", "list"}, &out, &errOut, env); code != 0 || !strings.Contains(out.String(), "alice") {
		t.Errorf("token from SMPPCTL_TOKEN: %d %q", code, errOut.String())
	}
}

const admintestWait = 20 * time.Second // a bound on waiting, not a speed assertion
