package accounts

import (
	"slices"
	"testing"
)

// A definition that only names itself and its password is a valid user
// with the defaults the users file and the API document.
func TestDefaultSpecParses(t *testing.T) {
	s := DefaultSpec()
	s.SystemID, s.PasswordHash = "u1", testHash(t, "pw")
	var c Check
	u := ParseUser(&s, nil, &c)
	if len(c.Problems) != 0 || len(c.Warnings) != 0 {
		t.Fatalf("problems %v, warnings %v", c.Problems, c.Warnings)
	}
	if !u.Enabled || u.BindTypes != AllBindTypes || !u.Receipts || !u.Limits.Balance.IsUnlimited() ||
		u.Limits.MaxValidity != 0 || u.Limits.Throughput != 0 || u.MaxBinds != 0 {
		t.Fatalf("user %+v", u)
	}
	if back := u.Spec(); !slices.Equal(back.BindTypes, s.BindTypes) || back.MaxValidity != s.MaxValidity ||
		back.Balance != s.Balance || back.MaxPriority != s.MaxPriority {
		t.Fatalf("Spec() = %+v, want the defaults back", back)
	}
}
