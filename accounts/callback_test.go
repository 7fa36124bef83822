package accounts

import (
	"strings"
	"testing"
)

// TestCallbackSecret: callback_secret is empty or 16..1024 octets, and a
// user's spec carries it both ways.
func TestCallbackSecret(t *testing.T) {
	for _, tc := range []struct {
		secret string
		ok     bool
	}{
		{"", true},
		{strings.Repeat("s", 16), true},
		{strings.Repeat("s", 1024), true},
		{strings.Repeat("s", 15), false},
		{strings.Repeat("s", 1025), false},
	} {
		spec := DefaultSpec()
		spec.SystemID, spec.PasswordHash, spec.CallbackSecret = "u", testHash(t, "pw"), tc.secret
		var c Check
		u := ParseUser(&spec, nil, &c)
		if got := c.Err() == nil; got != tc.ok {
			t.Errorf("%d octets: accepted %v, want %v (%v)", len(tc.secret), got, tc.ok, c.Err())
			continue
		}
		if tc.ok && (u.CallbackSecret != tc.secret || u.Spec().CallbackSecret != tc.secret) {
			t.Errorf("%d octets: not carried through ParseUser and Spec", len(tc.secret))
		}
		if !tc.ok && !strings.Contains(c.Err().Error(), "callback_secret") {
			t.Errorf("refusal does not name callback_secret: %v", c.Err())
		}
	}
}
