package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// admin.token may name a file or an environment variable; a reference that
// cannot be resolved is refused at its key and line, and the message never
// holds the secret.
func TestSecretReferences(t *testing.T) {
	const token = "0123456789abcdef-from-elsewhere"
	admin := func(ref string) string {
		return "[admin]\nenabled = true\ntoken = \"" + ref + "\"\n"
	}
	t.Run("env", func(t *testing.T) {
		t.Setenv("SMPPD_TEST_TOKEN", token)
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": admin("env:SMPPD_TEST_TOKEN")}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Admin.Token != token {
			t.Fatalf("token %q", c.Admin.Token)
		}
	})
	t.Run("file relative to the config, one newline trimmed", func(t *testing.T) {
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": admin("file:secrets/token"), "secrets/token": token + "\n"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Admin.Token != token {
			t.Fatalf("token %q", c.Admin.Token)
		}
	})
	t.Run("absolute file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(p, []byte(token+"\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": admin("file:" + p)}))
		if err != nil || c.Admin.Token != token {
			t.Fatalf("token %q, %v", c.Admin.Token, err)
		}
	})
	refused := []struct{ name, ref, file, want string }{
		{"unset variable", "env:SMPPD_TEST_UNSET_VARIABLE", "", ":3: admin.token: environment variable SMPPD_TEST_UNSET_VARIABLE is not set"},
		{"bad name", "env:1X", "", `:3: admin.token: "1X" is not an environment variable name`},
		{"missing file", "file:nope", "", ":3: admin.token: open "},
		{"empty file", "file:empty", "\n", ":3: admin.token: "},
		{"no path", "file:", "", `:3: admin.token: "file:" names no file`},
		{"spaces in the secret", "file:spaced", "has spaces " + token, ":3: admin.token: must not contain spaces"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"smppd.toml": admin(tc.ref)}
			if tc.file != "" {
				files[strings.TrimPrefix(tc.ref, "file:")] = tc.file
			}
			_, err := Load(writeConfig(t, files))
			wantErr(t, err, tc.want)
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	t.Run("empty variable", func(t *testing.T) {
		t.Setenv("SMPPD_TEST_EMPTY", "")
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": admin("env:SMPPD_TEST_EMPTY")}))
		wantErr(t, err, ":3: admin.token: environment variable SMPPD_TEST_EMPTY is empty")
	})
}

// A connector kind's settings field tagged secret:"true" is resolved by
// DecodeSettings; other fields keep "env:" text as written.
func TestSecretConnectorSettings(t *testing.T) {
	type settings struct {
		Password   string `toml:"password" secret:"true"`
		SystemType string `toml:"system_type"`
	}
	src := "[[connector]]\nname = \"up\"\ntype = \"kind\"\n[connector.kind]\npassword = \"env:SMPPD_TEST_PW\"\nsystem_type = \"env:X\"\n"
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SMPPD_TEST_PW", "s3cret")
	var s settings
	if err := c.DecodeSettings(0, &s); err != nil {
		t.Fatal(err)
	}
	if s.Password != "s3cret" || s.SystemType != "env:X" {
		t.Fatalf("settings %+v", s)
	}
	if c.Connectors[0].Settings["password"] != "env:SMPPD_TEST_PW" {
		t.Fatalf("DecodeSettings changed the config: %v", c.Connectors[0].Settings)
	}
	if err := os.Unsetenv("SMPPD_TEST_PW"); err != nil {
		t.Fatal(err)
	}
	err = c.DecodeSettings(0, &settings{})
	wantErr(t, err, ":5: connector[0].kind.password: environment variable SMPPD_TEST_PW is not set")
}
