package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smsctest"
)

// The upstream's password comes from the environment and the admin token
// from a file: the connector binds with the one, the admin API wants the
// other, and neither is in the config file.
func TestSecretsFromEnvAndFile(t *testing.T) {
	up, err := smsctest.Start(smsctest.Options{SystemID: "up", Password: "upPw8"})
	must(t, err)
	t.Cleanup(func() { _ = up.Close() })
	t.Setenv("SMPPD_TEST_UPSTREAM_PASSWORD", "upPw8")
	const token = "0123456789abcdef-from-a-file"

	dir := t.TempDir()
	adminPort := freePort(t)
	src := "[storage]\nkind = \"memory\"\n" +
		"[admin]\nenabled = true\nport = " + strconv.Itoa(adminPort) + "\ntoken = \"file:secrets/admin_token\"\n" +
		"[[connector]]\nname = \"up\"\ntype = \"smpp\"\n[connector.smpp]\nhost = \"127.0.0.1\"\nport = " + strconv.Itoa(up.Port()) +
		"\nsystem_id = \"up\"\npassword = \"env:SMPPD_TEST_UPSTREAM_PASSWORD\"\n"
	must(t, os.MkdirAll(filepath.Join(dir, "secrets"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "secrets", "admin_token"), []byte(token+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "smppd.toml"), []byte(src), 0o600))
	users, err := os.ReadFile("../../configs/users.toml")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "users.toml"), users, 0o600))

	cfg, warns, err := loadConfig(filepath.Join(dir, "smppd.toml"))
	must(t, err)
	for _, w := range warns {
		t.Log("warning:", w)
	}
	d, err := newDaemon(cfg, zerolog.New(zerolog.NewTestWriter(t)), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	must(t, d.start())
	stopAtEnd(t, d)

	for deadline := time.Now().Add(5 * time.Second); up.Bound() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the connector did not bind upstream: %d bind failures, last %+v", up.BindFailures(), up.LastBind())
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func(auth string) int {
		req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(adminPort)+"/v1/users", nil)
		must(t, err)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		must(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	if st := get(""); st != http.StatusUnauthorized {
		t.Errorf("without the token: %d", st)
	}
	if st := get("file:secrets/admin_token"); st != http.StatusUnauthorized {
		t.Errorf("the reference itself works as a token: %d", st)
	}
	if st := get(token); st != http.StatusOK {
		t.Errorf("with the file's token: %d", st)
	}

	// A reload re-resolves the references: an unset variable fails it,
	// naming the key, and the running settings stay.
	must(t, os.Unsetenv("SMPPD_TEST_UPSTREAM_PASSWORD"))
	if _, _, err := loadConfig(filepath.Join(dir, "smppd.toml")); err == nil {
		t.Fatal("a config whose password variable is unset loaded")
	} else if ce := (*config.Error)(nil); !asConfigError(err, &ce) || ce.Key != "connector[0].smpp.password" || ce.Line != 14 {
		t.Fatalf("error %v", err)
	}
}

// asConfigError finds the first *config.Error in err.
func asConfigError(err error, target **config.Error) bool {
	for _, e := range leaves(err) {
		if ce, ok := e.(*config.Error); ok {
			*target = ce
			return true
		}
	}
	return false
}
