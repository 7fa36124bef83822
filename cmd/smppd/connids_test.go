package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smppd/smppd/config"
)

func idsConfig(dir string, names ...string) *config.Config {
	cfg := config.Defaults()
	cfg.Storage.Kind, cfg.Storage.Dir = "disk", dir
	cfg.Connectors = nil
	for _, n := range names {
		cfg.Connectors = append(cfg.Connectors, config.Connector{Name: n, Type: "sim"})
	}
	return cfg
}

// TestConnIDsStable: a data directory without the table (the previous
// release's: ids were positions) is seeded in config order; from then on
// a name keeps its id whatever the list does, a new name gets the next,
// a removed one's id stays vacant and comes back with its name.
func TestConnIDsStable(t *testing.T) {
	dir := t.TempDir()
	tab, err := openConnIDs(idsConfig(dir, "a", "b", "c"))
	must(t, err)
	if got := strings.Join(tab.names, " "); got != "a b c" {
		t.Fatalf("seed: %s", got)
	}
	if got := readFile(t, filepath.Join(dir, connIDsFile)); got != connIDsHeader+"\na\nb\nc\n" {
		t.Fatalf("file: %q", got)
	}
	// Next start: b removed, c moved first, d added.
	cfg := idsConfig(dir, "c", "d", "a")
	tab, err = openConnIDs(cfg)
	must(t, err)
	for name, want := range map[string]int{"a": 0, "b": 1, "c": 2, "d": 3} {
		if id, ok := tab.id(name); !ok || id != want {
			t.Fatalf("%s: id %d %v, want %d", name, id, ok, want)
		}
	}
	if got := strings.Join(tab.routing(cfg.Connectors), ","); got != "a,,c,d" {
		t.Fatalf("routing names: %q (b's id vacant)", got)
	}
	if tab.name(1) != "b" || tab.name(3) != "d" || tab.name(4) != "" || tab.name(-1) != "" {
		t.Fatal("name of an id")
	}
	// Live: e added, b back under its old id.
	added, err := tab.assign([]string{"e", "b", "e"})
	must(t, err)
	if !added || tab.len() != 5 || tab.name(4) != "e" {
		t.Fatalf("assign: %v %v", added, tab.names)
	}
	if id, _ := tab.id("b"); id != 1 {
		t.Fatalf("b came back as %d", id)
	}
	again, err := openConnIDs(idsConfig(dir, "a"))
	must(t, err)
	if strings.Join(again.names, " ") != "a b c d e" {
		t.Fatalf("reloaded: %v", again.names)
	}
}

// TestConnIDsMemory: without a disk store nothing is written, ids are
// the config's positions at start.
func TestConnIDsMemory(t *testing.T) {
	dir := t.TempDir()
	cfg := idsConfig(dir, "x", "y")
	cfg.Storage.Kind = "memory"
	tab, err := openConnIDs(cfg)
	must(t, err)
	if strings.Join(tab.names, " ") != "x y" || tab.path != "" {
		t.Fatalf("memory: %v %q", tab.names, tab.path)
	}
	if _, err := os.Stat(filepath.Join(dir, connIDsFile)); !os.IsNotExist(err) {
		t.Fatalf("memory store wrote the table: %v", err)
	}
}

// TestConnIDsRefusesBadFile: a file smppd cannot read stops the start
// with its line, rather than mapping stored ids wrong.
func TestConnIDsRefusesBadFile(t *testing.T) {
	for name, body := range map[string]string{
		"header":    "smppd connector ids v2\na\n",
		"twice":     connIDsHeader + "\na\nb\na\n",
		"blank":     connIDsHeader + "\na\n\nb\n",
		"two words": connIDsHeader + "\na b\n",
	} {
		dir := t.TempDir()
		must(t, os.WriteFile(filepath.Join(dir, connIDsFile), []byte(body), 0o600))
		if _, err := openConnIDs(idsConfig(dir, "a")); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
