package accounts

import (
	"errors"
	"testing"
)

// Remove takes a user out: it cannot bind, a bind it held turns
// inactive, the users file is written without it, and the same system_id
// can be added again.
func TestRemoveUser(t *testing.T) {
	var saved []User
	s := mustStore(t, []User{testUser(t, "ann", "pw"), testUser(t, "bob", "pw")},
		Options{Persist: func(us []User) error { saved = us; return nil }})
	b, err := s.Authenticate("ann", "pw", BindTransmitter, localIP)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("ann"); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || saved[0].SystemID != "bob" {
		t.Fatalf("saved %v, want bob alone", saved)
	}
	if b.User().Active() {
		t.Fatal("a removed user's bind is still active")
	}
	if _, err := s.Authenticate("ann", "pw", BindTransmitter, localIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("bind of a removed user: %v", err)
	}
	if err := s.Remove("ann"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("second Remove: %v", err)
	}
	if err := s.Upsert(testUser(t, "ann", "pw2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("ann", "pw2", BindTransmitter, localIP); err != nil {
		t.Fatalf("ann added again: %v", err)
	}
	if got := len(s.Users()); got != 2 {
		t.Fatalf("%d users, want 2", got)
	}
}
