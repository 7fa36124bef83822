package policy

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// load writes src as a policy file (and files, name -> content, beside it)
// into a fresh directory and loads it.
func load(t testing.TB, src string, files map[string]string) *Policy {
	t.Helper()
	p, err := loadErr(t, src, files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadErr(t testing.TB, src string, files map[string]string) (*Policy, error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path, Options{})
}

// mt is an MT message of user alice (group retail) from src to dst, both
// TON/NPI unknown.
func mt(src, dst string) *Msg {
	return &Msg{Dir: DirMT, User: "alice", Group: "retail", Src: []byte(src), Dst: []byte(dst),
		Now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
}
