package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/testcert"
)

// The demo config passes, with a summary of what it serves.
func TestCheckConfigDemo(t *testing.T) {
	cfgPath, _, smppPort, adminPort := demoDir(t)
	var out, errOut bytes.Buffer
	if rc := checkConfig(cfgPath, &out, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	for _, want := range []string{
		"listeners: smpp 127.0.0.1:" + strconv.Itoa(smppPort) + ", admin 127.0.0.1:" + strconv.Itoa(adminPort),
		"users: 2 (2 from " + filepath.Join(filepath.Dir(cfgPath), "users.toml"),
		"connectors: 1: sim (sim)",
		"routes: 1 mt, 1 mo",
		"storage: disk " + filepath.Join(filepath.Dir(cfgPath), "var", "smppd"),
		cfgPath + ": OK",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	// A check creates nothing: the data directory is still to be made.
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfgPath), "var")); !os.IsNotExist(err) {
		t.Errorf("-check-config created the data directory: %v", err)
	}
}

// Each broken config is refused with every error on its own line as
// file:line: key: why, exit status 1.
func TestCheckConfigBroken(t *testing.T) {
	pair := testcert.New(t, testcert.Options{})
	other := testcert.New(t, testcert.Options{})
	const hash = "$pbkdf2-sha256$100000$42o6OJepzOvboEwK2wlEZA$YAisUy8YPro9DOd3tx2qJq+IWET4AHU8Uzpxb3WqRBM"
	okUsers := "[[user]]\nsystem_id = \"u\"\npassword_hash = \"" + hash + "\"\n"
	mem := "[storage]\nkind = \"memory\"\n"
	cases := []struct {
		name  string
		files map[string]string
		want  []string // each a line of the output, "F" standing for the directory
	}{
		{"typo in a key", map[string]string{
			"smppd.toml": "[smpp-server]\nprot = 2775\n",
		}, []string{"F/smppd.toml:2: smpp-server.prot: unknown key"}},
		{"every range error of the file", map[string]string{
			"smppd.toml": mem + "[smpp-server]\nport = 0\nnode_id = 5000\n", "users.toml": okUsers,
		}, []string{"F/smppd.toml:4: smpp-server.port: 0 is out of range 1..65535", "F/smppd.toml:5: smpp-server.node_id: 5000 is out of range 0..4095"}},
		{"users file", map[string]string{
			"smppd.toml": mem, "users.toml": okUsers + "bind_types = [\"sender\"]\n",
		}, []string{`F/users.toml:4: user[0].bind_types: unknown bind type "sender"`}},
		{"key of another certificate", map[string]string{
			"smppd.toml": mem + "[smpp-server.tls]\nenabled = true\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n", "users.toml": okUsers,
			"c.pem": string(pair.CertPEM), "k.pem": string(other.KeyPEM),
		}, []string{"F/smppd.toml:6: smpp-server.tls.key_file: tls: private key does not match public key"}},
		{"secret from an unset variable", map[string]string{
			"smppd.toml": mem + "[admin]\nenabled = true\ntoken = \"env:SMPPD_CHECK_UNSET\"\n", "users.toml": okUsers,
		}, []string{"F/smppd.toml:5: admin.token: environment variable SMPPD_CHECK_UNSET is not set"}},
		{"connector settings and a route to nowhere", map[string]string{
			"smppd.toml": mem + "[[connector]]\nname = \"up\"\ntype = \"smpp\"\n[connector.smpp]\nhost = \"\"\nsystem_id = \"x\"\n",
			"users.toml": okUsers,
		}, []string{"F/smppd.toml:7: connector[0].smpp.host: is required"}},
		{"route naming a missing connector", map[string]string{
			"smppd.toml": mem + "[[mt_route]]\nname = \"r\"\nkind = \"default\"\nconnectors = [\"nope\"]\n", "users.toml": okUsers,
		}, []string{`F/smppd.toml:6: mt_route[0].connectors: unknown connector "nope"`}},
		{"data directory under a file", map[string]string{
			"smppd.toml": "[storage]\ndir = \"afile/store\"\n", "users.toml": okUsers, "afile": "x",
		}, []string{"F/smppd.toml:2: storage.dir: ", "afile is not a directory"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
			}
			var out, errOut bytes.Buffer
			if rc := checkConfig(filepath.Join(dir, "smppd.toml"), &out, &errOut); rc != 1 {
				t.Fatalf("rc %d, out %s", rc, out.String())
			}
			lines := strings.Split(errOut.String(), "\n")
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "F/", dir+"/")
				found := false
				for _, l := range lines {
					found = found || strings.Contains(l, w)
				}
				if !found {
					t.Errorf("no line with %q in:\n%s", w, errOut.String())
				}
			}
			if !strings.Contains(errOut.String(), "smppd would not start with it") {
				t.Errorf("no verdict:\n%s", errOut.String())
			}
		})
	}
}

// Warnings keep the exit status 0: a certificate about to expire and an
// admin API reachable from other hosts.
func TestCheckConfigWarnings(t *testing.T) {
	dir := t.TempDir()
	soon := testcert.New(t, testcert.Options{NotAfter: time.Now().Add((12*24 + 1) * time.Hour)})
	soon.Write(t, dir, "c.pem", "k.pem")
	src := "[storage]\nkind = \"memory\"\n[smpp-server.tls]\nenabled = true\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n" +
		"[admin]\nenabled = true\nbind = \"0.0.0.0\"\ntoken = \"file:token\"\n"
	must(t, os.WriteFile(filepath.Join(dir, "smppd.toml"), []byte(src), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "token"), []byte("0123456789abcdef0123\n"), 0o600))
	var out, errOut bytes.Buffer
	if rc := checkConfig(filepath.Join(dir, "smppd.toml"), &out, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	for _, w := range []string{"certificate \"CN=smppd test\" expires in 12 days", "admin API on a public address (0.0.0.0:8790)"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("no warning %q in:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "0123456789abcdef0123") {
		t.Errorf("the summary shows the token:\n%s", out.String())
	}
}
