package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/signal"
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
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
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

func TestBindStatusMapping(t *testing.T) {
	cases := map[error]codec.Status{
		accounts.ErrBadCredentials:     codec.StatusInvPaswd,
		accounts.ErrDisabled:           codec.StatusBindFail,
		accounts.ErrBindTypeNotAllowed: codec.StatusBindFail,
		accounts.ErrTooManyBinds:       codec.StatusBindFail,
		accounts.ErrIPNotAllowed:       codec.StatusBindFail,
		accounts.ErrThrottled:          codec.StatusBindFail,
	}
	for err, want := range cases {
		if got := bindStatus(err); got != want {
			t.Errorf("%v → %v, want %v", err, got, want)
		}
	}
}

// TestDemoConfigServesAndReloads wires the demo config as main does, binds
// with the demo users, then reloads a users file with a new user while a
// session stays bound.
func TestDemoConfigServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../configs/smppd.toml")
	if err != nil {
		t.Skip("demo config not present:", err)
	}
	users, err := os.ReadFile("../../configs/users.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "smppd.toml")
	usersPath := filepath.Join(dir, "users.toml")
	must(t, os.WriteFile(cfgPath, src, 0o600))
	must(t, os.WriteFile(usersPath, users, 0o600))

	cfg, err := config.Load(cfgPath)
	must(t, err)
	au, err := accountUsers(cfg.Users)
	must(t, err)
	store, err := accounts.NewStore(au, storeOptions(cfg))
	must(t, err)
	ids, err := msg.NewIDGen(cfg.Server.NodeID)
	must(t, err)
	opts, err := engineOptions(cfg, store, ids)
	must(t, err)
	opts.Addr = "127.0.0.1:0"
	opts.EventLoops = 2
	opts.Logger = zerolog.Nop()
	srv, err := engine.New(opts)
	must(t, err)
	must(t, srv.Start())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	bind := func(user, pw string) (*smpptest.Client, codec.Status) {
		c, err := smpptest.Dial(srv.Addr().String())
		must(t, err)
		t.Cleanup(func() { _ = c.Close() })
		h, _, err := c.Bind(codec.BindTransceiverID, user, pw, 0x34)
		must(t, err)
		return c, h.Status
	}
	demo, st := bind("demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("demo bind: %v", st)
	}
	if _, st := bind("demo2", "wrong"); st != codec.StatusInvPaswd {
		t.Fatalf("wrong password: %v", st)
	}
	if _, st := bind("carol", "carolpw"); st != codec.StatusInvPaswd {
		t.Fatalf("unknown user: %v", st)
	}
	h, err := accounts.HashPassword("carolpw")
	must(t, err)
	extra := "\n[[user]]\nsystem_id = \"carol\"\npassword_hash = \"" + h + "\"\n"
	must(t, os.WriteFile(usersPath, append(users, extra...), 0o600))
	reload(cfgPath, store, zerolog.Nop())
	if _, st := bind("carol", "carolpw"); st != codec.StatusOK {
		t.Fatalf("new user after reload: %v", st)
	}
	must(t, demo.Send(codec.SubmitSMID, 0, 9, smpptest.SubmitBody("1", "2", "still bound")))
	if _, _, err := demo.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK); err != nil {
		t.Fatalf("session dropped by reload: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunStopsGracefullyOnSIGTERM runs main's run with the demo config on a
// free port and checks that SIGTERM makes it unbind and return nil (exit 0).
func TestRunStopsGracefullyOnSIGTERM(t *testing.T) {
	src, err := os.ReadFile("../../configs/smppd.toml")
	if err != nil {
		t.Skip("demo config not present:", err)
	}
	users, err := os.ReadFile("../../configs/users.toml")
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir := t.TempDir()
	conf := strings.Replace(string(src), "port = 2775 ", "port = "+strconv.Itoa(port)+" ", 1)
	conf = strings.Replace(conf, `log_file = ""`, `log_file = "`+filepath.Join(dir, "smppd.log")+`"`, 1)
	must(t, os.WriteFile(filepath.Join(dir, "smppd.toml"), []byte(conf), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "users.toml"), users, 0o600))

	// Keep SIGTERM from killing the test binary if it lands before run's
	// own signal.Notify.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGTERM)
	defer signal.Stop(guard)

	done := make(chan error, 1)
	go func() { done <- run(filepath.Join(dir, "smppd.toml")) }()
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
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after SIGTERM")
	}
	logs, err := os.ReadFile(filepath.Join(dir, "smppd.log"))
	must(t, err)
	for _, want := range []string{"session bound", "reason=shutdown", "smpp server stopped"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
