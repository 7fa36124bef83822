package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smppd/smppd/accounts"
)

func TestAPIKeyCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := apikey([]string{"demo"}, &out, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key, ok := strings.CutPrefix(lines[0], "key: ")
	if len(lines) != 2 || !ok || lines[1] != `api_key_hash = "`+accounts.HashAPIKey(key)+`"` {
		t.Fatalf("output %q", out.String())
	}
	if id, _ := accounts.APIKeyUser(key); id != "demo" {
		t.Errorf("key %q names %q", key, id)
	}
	for _, args := range [][]string{nil, {"a", "b"}, {"bad id"}} {
		if rc := apikey(args, &out, &errOut); rc != 2 {
			t.Errorf("apikey(%q) = %d", args, rc)
		}
	}
}
