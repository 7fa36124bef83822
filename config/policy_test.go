package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyFile(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("testdata", "full", "policy.toml"); c.PolicyPath() != want {
		t.Errorf("PolicyPath %q, want %q", c.PolicyPath(), want)
	}
	c, err = Parse(filepath.Join(t.TempDir(), "smppd.toml"), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.PolicyPath() != "" {
		t.Errorf("no [policy]: PolicyPath %q", c.PolicyPath())
	}
	_, err = Parse(filepath.Join(t.TempDir(), "smppd.toml"), "[policy]\nfile = \"missing.toml\"\n")
	if err == nil || !strings.Contains(err.Error(), "policy.file") || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("a missing policy file: %v", err)
	}
}
