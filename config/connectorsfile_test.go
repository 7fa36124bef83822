package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const connMain = `
[[connector]]
name = "main-sim"
type = "sim"

[[mt_route]]
name = "default"
kind = "default"
connectors = ["up"]
`

// TestConnectorsFileReplacesMain: an existing connectors file's
// connectors are the connectors (the main file's are ignored, with a
// warning); what EncodeConnectors writes loads back the same, secret
// references kept as written.
func TestConnectorsFileReplacesMain(t *testing.T) {
	up := Connector{Name: "up", Type: "smpp", Queue: 2048, Settings: map[string]any{
		"host": "127.0.0.1", "port": int64(2775), "system_id": "me", "password": "env:UP_PW", "binds": int64(2)}}
	sim := Connector{Name: "sim2", Type: "sim", Queue: 1024, Settings: map[string]any{
		"receipt_delay": "10ms", "outcomes": map[string]any{"delivered": int64(100)}}}
	data, err := EncodeConnectors([]Connector{up, sim})
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, map[string]string{"smppd.toml": connMain, "smppd.connectors.toml": string(data)})
	c, err := Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !c.ConnectorsFromFile || len(c.Connectors) != 2 || c.Connectors[0].Name != "up" || c.Connectors[1].Queue != 1024 {
		t.Fatalf("connectors: %+v", c.Connectors)
	}
	if c.Connectors[0].Settings["password"] != "env:UP_PW" || c.ConnectorsPath != filepath.Join(filepath.Dir(path), "smppd.connectors.toml") {
		t.Fatalf("settings %v, path %s", c.Connectors[0].Settings, c.ConnectorsPath)
	}
	if len(c.Warnings) == 0 || !strings.Contains(strings.Join(c.Warnings, "\n"), "ignored") {
		t.Fatalf("no warning that the main file's connectors are ignored: %v", c.Warnings)
	}
	// Checked as the main file is: a bad key names the connectors file's line.
	bad := strings.Replace(string(data), `name = "sim2"`, `name = "sim2"`+"\n  bogus = 1", 1)
	if _, err := LoadWithConnectors(path, []byte(bad)); err == nil || !strings.Contains(err.Error(), "smppd.connectors.toml") ||
		!strings.Contains(err.Error(), "bogus") {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := LoadWithConnectors(path, []byte("# nothing\n")); err == nil || !strings.Contains(err.Error(), "no [[connector]]") {
		t.Fatalf("empty file: %v", err)
	}
	if err := SaveConnectors(c.ConnectorsPath, data); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(c.ConnectorsPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v %v", fi.Mode(), err)
	}
}

// TestConnectorsFileAbsent: without the file the main file's connectors
// run, and the path the API would write is known.
func TestConnectorsFileAbsent(t *testing.T) {
	path := writeConfig(t, map[string]string{"smppd.toml": strings.Replace(connMain, `["up"]`, `["main-sim"]`, 1) +
		"\n[smpp-server]\nconnectors_file = \"conf.d/connectors.toml\"\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectorsFromFile || len(c.Connectors) != 1 || c.Connectors[0].Name != "main-sim" ||
		c.ConnectorsPath != filepath.Join(filepath.Dir(path), "conf.d", "connectors.toml") {
		t.Fatalf("%v %+v %s", c.ConnectorsFromFile, c.Connectors, c.ConnectorsPath)
	}
}
