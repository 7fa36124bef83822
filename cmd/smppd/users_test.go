package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
)

// syncBuffer is a log sink the daemon's goroutines may share.
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

// postUser sends body to POST /v1/users and returns the status and the
// error message ("" on success).
func postUser(t *testing.T, adminPort int, body string) (int, string) {
	t.Helper()
	res, err := http.Post("http://127.0.0.1:"+strconv.Itoa(adminPort)+"/v1/users", "application/json", strings.NewReader(body))
	must(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	must(t, err)
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	must(t, json.Unmarshal(raw, &e))
	return res.StatusCode, e.Error.Message
}

// A user added through the API is saved to the users file, and SIGHUP (and
// so the next start) reads it back as the same user: the API and the users
// file parse users with one function. Before, an IPv4-mapped allow_ips entry
// stayed IPv6 through the API (the user could not bind from that IPv4
// address) and became IPv4 at the next start. A users file the API would
// refuse is refused by SIGHUP for the same reason, naming file, line and key,
// and the previous users stay.
func TestAPIUserSurvivesReload(t *testing.T) {
	cfgPath, usersPath, _, adminPort := demoDir(t)
	cfg, err := config.Load(cfgPath)
	must(t, err)
	logs := &syncBuffer{}
	d, err := newDaemon(cfg, zerolog.New(logs), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	must(t, d.start())
	stopAtEnd(t, d)

	st, msg := postUser(t, adminPort, `{"system_id":"mapped","password":"pw","allow_ips":["::ffff:127.0.0.1","::ffff:192.0.2.0/120"],
		"bind_types":["transceiver"],"max_binds_per_type":{"transceiver":3},"source_addrs":["ACME","336*"],"default_source":"ACME",
		"throughput":10,"burst":5,"balance":"12.5","quota":100,"max_validity":"2h","max_priority":2,"group":"default"}`)
	if st != http.StatusCreated {
		t.Fatalf("POST: %d %s", st, msg)
	}
	before, ok := d.users.Lookup("mapped")
	if !ok {
		t.Fatal("user not stored")
	}
	if got := before.AllowIPs; len(got) != 2 || got[0].String() != "127.0.0.1/32" || got[1].String() != "192.0.2.0/24" {
		t.Fatalf("allow_ips stored as %v", got)
	}
	if _, st := bindAs(t, d, codec.BindTransceiverID, "mapped", "pw"); st != codec.StatusOK {
		t.Fatalf("bind from 127.0.0.1 allowed by ::ffff:127.0.0.1: %v", st)
	}

	d.reload()
	after, ok := d.users.Lookup("mapped")
	if !ok {
		t.Fatalf("user gone after reload; log:\n%s", logs)
	}
	if b, a := before.Spec(), after.Spec(); !reflect.DeepEqual(b, a) {
		t.Fatalf("reload read the user differently:\nbefore %+v\nafter  %+v", b, a)
	}
	if !strings.Contains(logs.String(), `"event":"reload"`) || strings.Contains(logs.String(), "reload failed") {
		t.Fatalf("reload did not succeed; log:\n%s", logs)
	}

	// A user the API refuses, written into the users file by hand: SIGHUP
	// refuses the file for the same reason and keeps the users in force.
	const bad = `"max_binds":2000000,"bind_types":["receiver","receiver"]`
	st, apiMsg := postUser(t, adminPort, `{"system_id":"bad","password":"pw",`+bad+`}`)
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("POST of a bad user: %d %s", st, apiMsg)
	}
	users, err := os.ReadFile(usersPath)
	must(t, err)
	extra := "\n[[user]]\nsystem_id = \"bad\"\npassword_hash = \"" + before.PasswordHash + "\"\n" +
		"max_binds = 2000000\nbind_types = [\"receiver\", \"receiver\"]\n"
	must(t, os.WriteFile(usersPath, append(users, extra...), 0o600))
	d.reload()
	if _, ok := d.users.Lookup("bad"); ok {
		t.Fatal("reload took a user the API refuses")
	}
	if _, ok := d.users.Lookup("mapped"); !ok {
		t.Fatal("a refused reload dropped the users in force")
	}
	// The API names each problem as "key: reason"; the reload's error names
	// it as "users.toml:<line>: user[i].key: reason".
	reloadErr := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		var e struct{ Message, Error string }
		if json.Unmarshal([]byte(l), &e) == nil && strings.Contains(e.Message, "reload failed") {
			reloadErr = e.Error
		}
	}
	reasons := strings.Split(apiMsg, "; ")
	if len(reasons) != 2 {
		t.Fatalf("API refusal %q: want the two problems", apiMsg)
	}
	for _, reason := range reasons {
		re := regexp.MustCompile(`users\.toml:[0-9]+: user\[[0-9]+\]\.` + regexp.QuoteMeta(reason))
		if !re.MatchString(reloadErr) {
			t.Errorf("reload error %q lacks %q", reloadErr, reason)
		}
	}
}
