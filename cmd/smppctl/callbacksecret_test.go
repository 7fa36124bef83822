package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smppd/smppd/internal/admintest"
)

// TestCallbackSecretCommand: `users callback-secret` makes a new secret
// and prints it (the user's record then holds it), sets one read from a
// file, refuses a short one with the server's reason, and removes it.
func TestCallbackSecretCommand(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	secret := func() string {
		u, _ := e.Users.Lookup("alice")
		return u.CallbackSecret
	}
	out := ok(t, e, []string{"alice callback_secret: "}, "users", "callback-secret", "alice")
	made := strings.TrimSpace(strings.TrimPrefix(out, "alice callback_secret: "))
	if b, err := hex.DecodeString(made); err != nil || len(b) != 32 || secret() != made {
		t.Fatalf("printed %q, the user holds %q", made, secret())
	}
	ok(t, e, []string{"callback_secret", "set"}, "users", "show", "alice")

	dir := t.TempDir()
	own, short := filepath.Join(dir, "own"), filepath.Join(dir, "short")
	if err := os.WriteFile(own, []byte("a-secret-kept-in-a-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, e, []string{"system_id", "alice"}, "users", "callback-secret", "alice", "--from-file", own)
	if secret() != "a-secret-kept-in-a-file-0123" {
		t.Fatalf("secret from the file: %q", secret())
	}
	fails(t, e, 1, "invalid (HTTP 422): callback_secret", "users", "callback-secret", "alice", "--from-file", short)
	fails(t, e, 2, "not both", "users", "callback-secret", "alice", "--from-file", own, "--remove")
	ok(t, e, []string{"callback_secret", "-"}, "users", "callback-secret", "alice", "--remove")
	if secret() != "" {
		t.Fatalf("secret after --remove: %q", secret())
	}
	fails(t, e, 1, "not_found (HTTP 404)", "users", "callback-secret", "zed")
}
