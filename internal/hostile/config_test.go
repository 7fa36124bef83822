package hostile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSetKeyKeepsCommentAndSection(t *testing.T) {
	conf := "[a]\nport = 1   # the a port\n\n[b]\nport = 2 # b\n[[c]]\nname = \"x\"\n"
	got, err := setKey(conf, "b", "port", "99")
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a]\nport = 1   # the a port\n\n[b]\nport = 99 # b\n[[c]]\nname = \"x\"\n"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	got, err = setKey(conf, "c", "queue", "5")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := getKey(got, "c", "queue"); !ok || v != "5" {
		t.Fatalf("added key: %q %v in\n%s", v, ok, got)
	}
	if _, err := setKey(conf, "missing", "port", "1"); err == nil {
		t.Fatal("a key in a missing table was set")
	}
}

func TestRaiseKey(t *testing.T) {
	conf := "[s]\nlow = 10\nunlimited = 0\nhigh = 9000\n"
	for key, want := range map[string]string{"low": "3100", "unlimited": "0", "high": "9000"} {
		got, err := raiseKey(conf, "s", key, 3100)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := getKey(got, "s", key); v != want {
			t.Errorf("%s = %s, want %s", key, v, want)
		}
	}
	if _, err := raiseKey("[s]\nlow = ten\n", "s", "low", 1); err == nil {
		t.Error("a non-integer value was accepted")
	}
}

// TestWriteConfigFromDemo derives the config the cases run on from the
// demo's and checks what the cases rely on.
func TestWriteConfigFromDemo(t *testing.T) {
	dir := t.TempDir()
	sc, err := writeConfig(filepath.Join("..", "..", "configs"), dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sc.path)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	want := map[[2]string]string{
		{"smpp-server", "port"}:       strconv.Itoa(sc.smppPort),
		{"admin", "port"}:             strconv.Itoa(sc.adminPort),
		{"smpp-server", "log_format"}: "json",
		{"smpp-server", "log_file"}:   "",
		{"smpp-server", "users_file"}: "users.toml",
	}
	for k, v := range want {
		if got, ok := getKey(conf, k[0], k[1]); !ok || got != v {
			t.Errorf("[%s] %s = %q (%v), want %q", k[0], k[1], got, ok, v)
		}
	}
	perIP, _ := getKey(conf, "smpp-server", "max_connections_per_ip")
	if n, err := strconv.Atoi(perIP); err != nil || (n != 0 && n < minPerIP) {
		t.Errorf("max_connections_per_ip = %s, want 0 or >= %d", perIP, minPerIP)
	}
	if !strings.Contains(conf, `[[mo_route]]`) {
		t.Error("the demo's MO route (every MO to demo) is gone")
	}
	if _, err := os.Stat(filepath.Join(dir, "users.toml")); err != nil {
		t.Error(err)
	}
}
