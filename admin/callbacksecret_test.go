package admin_test

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// TestCallbackSecret: a user's callback_secret (the HMAC key of its signed
// receipt callbacks) is set with PATCH through the users file's rules (a
// short one refused naming the key), rotated with POST
// /v1/users/{id}/callback-secret (a new random one, answered once), and
// removed with PATCH ""; the user's view only says whether one is set;
// every change is audited and no secret reaches the audit log.
func TestCallbackSecret(t *testing.T) {
	dir := t.TempDir()
	e, _ := auditedEnv(t, dir)
	const own = "an-operator-chosen-secret-42"
	secretOf := func() string {
		u, ok := e.Users.Lookup("alice")
		if !ok {
			t.Fatal("alice is gone")
		}
		return u.CallbackSecret
	}
	set := func(t *testing.T) bool {
		var v struct {
			CallbackSecret bool `json:"callback_secret"`
		}
		if st, raw := as(t, opsSecret, "GET", e.URL+"/v1/users/alice", "", &v); st != http.StatusOK {
			t.Fatalf("GET alice: %d %s", st, raw)
		}
		return v.CallbackSecret
	}

	if st, raw := as(t, opsSecret, "PATCH", e.URL+"/v1/users/alice", `{"callback_secret":"too-short"}`, nil); st != http.StatusUnprocessableEntity ||
		!strings.Contains(raw, "callback_secret") {
		t.Fatalf("short secret: %d %s", st, raw)
	}
	if secretOf() != "" || set(t) {
		t.Fatal("a refused secret was set")
	}
	if st, raw := as(t, opsSecret, "PATCH", e.URL+"/v1/users/alice", `{"callback_secret":"`+own+`"}`, nil); st != http.StatusOK ||
		strings.Contains(raw, own) {
		t.Fatalf("PATCH secret: %d %s", st, raw)
	}
	if secretOf() != own || !set(t) {
		t.Fatalf("secret after PATCH %q", secretOf())
	}

	var rot struct {
		SystemID       string `json:"system_id"`
		CallbackSecret string `json:"callback_secret"`
	}
	if st, raw := as(t, opsSecret, "POST", e.URL+"/v1/users/alice/callback-secret", "", &rot); st != http.StatusOK {
		t.Fatalf("rotate: %d %s", st, raw)
	}
	if b, err := hex.DecodeString(rot.CallbackSecret); err != nil || len(b) != 32 || rot.SystemID != "alice" {
		t.Fatalf("rotated secret %+v: want 64 hex digits", rot)
	}
	if secretOf() != rot.CallbackSecret {
		t.Fatalf("the store holds %q, the answer said %q", secretOf(), rot.CallbackSecret)
	}
	first := rot.CallbackSecret
	if st, raw := as(t, opsSecret, "POST", e.URL+"/v1/users/alice/callback-secret", "", &rot); st != http.StatusOK || rot.CallbackSecret == first {
		t.Fatalf("second rotation: %d %s", st, raw)
	}
	if st, raw := as(t, "dash-secret-0123456789", "POST", e.URL+"/v1/users/alice/callback-secret", "", nil); st != http.StatusForbidden {
		t.Fatalf("rotation with a read-only token: %d %s", st, raw)
	}
	if st, raw := as(t, opsSecret, "POST", e.URL+"/v1/users/nobody/callback-secret", "", nil); st != http.StatusNotFound {
		t.Fatalf("rotation for an unknown user: %d %s", st, raw)
	}
	if st, raw := as(t, opsSecret, "PATCH", e.URL+"/v1/users/alice", `{"callback_secret":""}`, nil); st != http.StatusOK {
		t.Fatalf("removal: %d %s", st, raw)
	}
	if secretOf() != "" || set(t) {
		t.Fatal("the secret is still set after its removal")
	}

	got := readAudit(t, e.URL, "dash-secret-0123456789", 10)
	if len(got) != 7 {
		t.Fatalf("%d audit entries, want 7 (every change, the refused ones too)", len(got))
	}
	if got[2].Route != "POST /v1/users/{id}/callback-secret" || got[2].Response["callback_secret"] != "[redacted]" ||
		got[1].Response["callback_secret"] != true {
		t.Errorf("rotation entry %+v, PATCH entry response %v", got[2], got[1].Response)
	}
	raw := readDir(t, dir)
	for _, s := range []string{own, first, rot.CallbackSecret} {
		if strings.Contains(raw, s) {
			t.Errorf("the audit log holds a secret %q:\n%s", s, raw)
		}
	}
}
