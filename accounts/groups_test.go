package accounts

import (
	"errors"
	"testing"
)

func TestGroups(t *testing.T) {
	a := testUser(t, "a", "pw")
	a.Group = "retail"
	b := testUser(t, "b", "pw")
	b.Group = "wholesale"
	none := testUser(t, "none", "pw") // no group
	groups := []Group{{Name: "retail", Enabled: true}, {Name: "wholesale", Enabled: false}}
	s, err := NewStore([]User{a, b, none}, groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bind := func(id string) (*Bind, error) { return s.Authenticate(id, "pw", BindTransmitter, localIP) }
	ba, err := bind("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind("b"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("user of a disabled group: %v", err)
	}
	if _, err := bind("none"); err != nil {
		t.Fatalf("user without a group: %v", err)
	}
	if !ba.User().Active() || ba.User().Group != "retail" {
		t.Fatalf("bound record %+v", ba.User())
	}
	// Disabling the group: no new binds, the held bind sees an inactive record.
	groups[0].Enabled = false
	groups[1].Enabled = true
	if err := s.Reload([]User{a, b, none}, groups); err != nil {
		t.Fatal(err)
	}
	if _, err := bind("a"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("after disabling the group: %v", err)
	}
	if ba.User().Active() || !ba.User().Enabled {
		t.Fatal("held bind does not see its group disabled")
	}
	if _, err := bind("b"); err != nil {
		t.Fatalf("after enabling the group: %v", err)
	}
	// A wrong password on a disabled group's user is still bad credentials.
	if _, err := s.Authenticate("a", "x", BindTransmitter, localIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password, disabled group: %v", err)
	}
	if got := s.Groups(); len(got) != 2 {
		t.Fatalf("Groups = %+v", got)
	}
}

func TestGroupsRejected(t *testing.T) {
	u := testUser(t, "a", "pw")
	u.Group = "ghost"
	if _, err := NewStore([]User{u}, []Group{{Name: "real", Enabled: true}}, Options{}); !errors.Is(err, ErrUnknownGroup) {
		t.Fatalf("unknown group: %v", err)
	}
	for name, gs := range map[string][]Group{
		"empty name": {{Name: ""}},
		"duplicate":  {{Name: "g"}, {Name: "g", Enabled: true}},
	} {
		if _, err := NewStore(nil, gs, Options{}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	// A failed reload (unknown group) keeps the previous users and groups.
	ok := testUser(t, "a", "pw")
	ok.Group = "real"
	s, err := NewStore([]User{ok}, []Group{{Name: "real", Enabled: true}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload([]User{ok}, nil); !errors.Is(err, ErrUnknownGroup) {
		t.Fatalf("reload dropping the group: %v", err)
	}
	if b, err := s.Authenticate("a", "pw", BindReceiver, localIP); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	} else {
		b.Release()
	}
}
