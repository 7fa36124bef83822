package accounts

import (
	"strings"
	"testing"
)

// TestHeldLimit: a user's share is its own max_held_per_user, else its
// group's, else the Store's; reloads and runtime changes move it.
func TestHeldLimit(t *testing.T) {
	own := testUser(t, "own", "pw")
	own.Group, own.MaxHeldPerUser = "big", 5
	grouped := testUser(t, "grouped", "pw")
	grouped.Group = "big"
	plain := testUser(t, "plain", "pw")
	plain.Group = "small" // a group without a share of its own
	groups := []Group{{Name: "big", Enabled: true, MaxHeldPerUser: 20}, {Name: "small", Enabled: true}}
	s, err := NewStore([]User{own, grouped, plain}, groups, Options{HeldShare: 100})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"own": 5, "grouped": 20, "plain": 100, "unknown": 100} {
		if got := s.HeldLimit(id); got != want {
			t.Errorf("HeldLimit(%s) = %d, want %d", id, got, want)
		}
	}
	// SIGHUP: the group's share changes, "own" is removed (its items get
	// the Store's share).
	groups[0].MaxHeldPerUser = 30
	if err := s.Reload([]User{grouped, plain}, groups); err != nil {
		t.Fatal(err)
	}
	if s.HeldLimit("grouped") != 30 || s.HeldLimit("own") != 100 {
		t.Fatalf("after reload: grouped %d own %d", s.HeldLimit("grouped"), s.HeldLimit("own"))
	}
	// The operations API sets the user's own.
	plain.MaxHeldPerUser = 7
	if err := s.Upsert(plain); err != nil {
		t.Fatal(err)
	}
	if s.HeldLimit("plain") != 7 {
		t.Fatalf("after Upsert: %d", s.HeldLimit("plain"))
	}
	if got := mustStore(t, nil, Options{}).HeldLimit("x"); got != 0 {
		t.Fatalf("no share configured: %d", got)
	}
}

func TestHeldShareRange(t *testing.T) {
	var c Check
	CheckGroups([]Group{{Name: "g", MaxHeldPerUser: -1}, {Name: "h", MaxHeldPerUser: 1 << 26}}, &c)
	if err := c.Err(); err == nil || err.Error() != "group[0].max_held_per_user: -1 is out of range 0..67108864" {
		t.Fatalf("groups: %v", err)
	}
	u := testUser(t, "u", "pw")
	u.MaxHeldPerUser = -3
	c = Check{}
	ParseUser(new(u.Spec()), nil, &c)
	if err := c.Err(); err == nil || !strings.HasPrefix(err.Error(), "max_held_per_user: -3 is out of range") {
		t.Fatalf("user: %v", err)
	}
	if _, err := NewStore(nil, []Group{{Name: "g", MaxHeldPerUser: -1}}, Options{}); err == nil {
		t.Fatal("NewStore took a negative group share")
	}
}
