package config

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const adminOn = "[admin]\nenabled = true\n"

func TestAdminTokens(t *testing.T) {
	hash := sha256.Sum256([]byte("prometheus-secret-0123"))
	src := adminOn + `bind = "0.0.0.0"
allowed_hosts = ["smpp1.example.net"]

[[admin.tokens]]
name = "ops"
scopes = ["operator"]
token = "ops-secret-0123456789"

[[admin.tokens]]
name = "prometheus"
scopes = ["metrics"]
token_sha256 = "` + hex.EncodeToString(hash[:]) + `"
`
	// A non-loopback bind is allowed with [[admin.tokens]] and no token.
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err != nil {
		t.Fatal(err)
	}
	tk := c.Admin.Tokens
	if len(tk) != 2 || tk[0].Name != "ops" || tk[0].SHA256 != sha256.Sum256([]byte("ops-secret-0123456789")) ||
		tk[1].Name != "prometheus" || tk[1].SHA256 != hash || !slices.Equal(tk[1].Scopes, []string{"metrics"}) {
		t.Fatalf("tokens %+v", tk)
	}
}

func TestAdminTokensRefused(t *testing.T) {
	tok := func(body string) string { return adminOn + "[[admin.tokens]]\n" + body }
	for _, c := range []struct{ name, src, want string }{
		{"no name", tok("scopes = [\"read\"]\ntoken = \"0123456789abcdef\"\n"), ":3: admin.tokens[0].name: is required"},
		{"spaced name", tok("name = \"a b\"\nscopes = [\"read\"]\ntoken = \"0123456789abcdef\"\n"), "admin.tokens[0].name: \"a b\""},
		{"reserved name", tok("name = \"admin\"\nscopes = [\"read\"]\ntoken = \"0123456789abcdef\"\n"), "admin.tokens[0].name: \"admin\" is the name of [admin] token"},
		{"twice", tok("name = \"a\"\nscopes = [\"read\"]\ntoken = \"0123456789abcdef\"\n") +
			"[[admin.tokens]]\nname = \"a\"\nscopes = [\"read\"]\ntoken = \"0123456789abcdeg\"\n", "admin.tokens[1].name: \"a\" names two tokens"},
		{"no scopes", tok("name = \"a\"\ntoken = \"0123456789abcdef\"\n"), "admin.tokens[0].scopes: is required"},
		{"unknown scope", tok("name = \"a\"\nscopes = [\"write\"]\ntoken = \"0123456789abcdef\"\n"), ":5: admin.tokens[0].scopes: unknown scope \"write\""},
		{"no secret", tok("name = \"a\"\nscopes = [\"read\"]\n"), "admin.tokens[0].token: give exactly one of token and token_sha256"},
		{"both", tok("name = \"a\"\nscopes = [\"read\"]\ntoken = \"0123456789abcdef\"\ntoken_sha256 = \"" + strings.Repeat("ab", 32) + "\"\n"), "give exactly one"},
		{"short", tok("name = \"a\"\nscopes = [\"read\"]\ntoken = \"short\"\n"), ":6: admin.tokens[0].token: must be at least 16"},
		{"bad hash", tok("name = \"a\"\nscopes = [\"read\"]\ntoken_sha256 = \"abc\"\n"), "admin.tokens[0].token_sha256: must be 64 hex digits"},
		{"shared secret", adminOn + "token = \"0123456789abcdef\"\n" + "[[admin.tokens]]\nname = \"a\"\nscopes = [\"read\"]\ntoken = \"0123456789abcdef\"\n",
			"admin.tokens[0].token: is also the secret of \"admin\""},
		{"unknown key", tok("name = \"a\"\nscope = [\"read\"]\ntoken = \"0123456789abcdef\"\n"), ":5: admin.tokens[0].scope: unknown key"},
	} {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": c.src}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestAdminAuditKeys(t *testing.T) {
	d := Defaults().Admin
	if d.AuditDir != "" || d.AuditMaxFile != 16<<20 || d.AuditRetention.D() != 90*24*time.Hour || d.Tokens != nil {
		t.Errorf("defaults %+v", d)
	}
	// The disk store's data directory holds the audit log by default.
	path := writeConfig(t, map[string]string{"smppd.toml": adminOn + "[storage]\ndir = \"data\"\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "data", "audit"); c.Admin.AuditDir != want {
		t.Errorf("audit_dir %q, want %q", c.Admin.AuditDir, want)
	}
	// A relative audit_dir is the config's folder's; with kind = "memory"
	// and none, a warning says the log is in memory only.
	path = writeConfig(t, map[string]string{"smppd.toml": adminOn + "audit_dir = \"log/audit\"\naudit_retention = \"0s\"\n[storage]\nkind = \"memory\"\n"})
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "log", "audit"); c.Admin.AuditDir != want || c.Admin.AuditRetention != 0 {
		t.Errorf("audit_dir %q retention %v, want %q and 0", c.Admin.AuditDir, c.Admin.AuditRetention, want)
	}
	if c, err = Load(writeConfig(t, map[string]string{"smppd.toml": adminOn + "[storage]\nkind = \"memory\"\n"})); err != nil {
		t.Fatal(err)
	}
	if c.Admin.AuditDir != "" || !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "audit log is kept in memory only") }) {
		t.Errorf("memory: audit_dir %q, warnings %q", c.Admin.AuditDir, c.Warnings)
	}
	for _, bad := range []struct{ src, want string }{
		{"audit_max_file = \"1KiB\"\n", ":3: admin.audit_max_file: 1KiB is out of range 64KiB..1GiB"},
		{"audit_max_file = \"2GiB\"\n", "admin.audit_max_file: 2GiB is out of range"},
		{"audit_retention = \"1m\"\n", "admin.audit_retention: 1m0s is out of range 1h0m0s..87600h0m0s (or 0: keep every file)"},
	} {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": adminOn + bad.src}))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.src, err, bad.want)
		}
	}
}

// A token may be a "file:" or "env:" reference, resolved at load; a
// reference that resolves to nothing is refused at its key.
func TestAdminTokenReferences(t *testing.T) {
	t.Setenv("SMPPD_TEST_NOC_TOKEN", "noc-secret-0123456789")
	src := adminOn + "[[admin.tokens]]\nname = \"noc\"\nscopes = [\"traffic\"]\ntoken = \"env:SMPPD_TEST_NOC_TOKEN\"\n" +
		"[[admin.tokens]]\nname = \"ops\"\nscopes = [\"operator\"]\ntoken = \"file:ops.token\"\n"
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src, "ops.token": "ops-secret-0123456789\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if tk := c.Admin.Tokens; tk[0].SHA256 != sha256.Sum256([]byte("noc-secret-0123456789")) ||
		tk[1].SHA256 != sha256.Sum256([]byte("ops-secret-0123456789")) {
		t.Errorf("tokens %+v", tk)
	}
	_, err = Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err == nil || !strings.Contains(err.Error(), ":10: admin.tokens[1].token:") || strings.Contains(err.Error(), "exactly one") {
		t.Errorf("missing file: %v", err)
	}
}

// withoutTokens is a without its tokens, for TestLoadEveryKey's table.
func withoutTokens(a Admin) Admin {
	a.Tokens = nil
	return a
}

func fullAuditDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "full", "audit-log"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The tokens of testdata/full/smppd.toml, one given by its secret and one
// by its hash.
func TestFullAdminTokens(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := hex.DecodeString("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	want := []AdminToken{
		{Name: "prometheus", Scopes: []string{"metrics"}, Token: "prometheus-0123456789", SHA256: sha256.Sum256([]byte("prometheus-0123456789"))},
		{Name: "noc", Scopes: []string{"read", "traffic"}, TokenSHA256: hex.EncodeToString(hash)},
	}
	copy(want[1].SHA256[:], hash)
	if !reflect.DeepEqual(c.Admin.Tokens, want) {
		t.Errorf("tokens\n got %+v\nwant %+v", c.Admin.Tokens, want)
	}
}
