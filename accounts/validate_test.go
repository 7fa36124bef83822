package accounts

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ParseUser(u.Spec()) gives u back: the users file written from a user
// (config.SaveUsers of Store.Users) reads back as the same user.
func TestSpecRoundTrip(t *testing.T) {
	pri := uint8(1)
	users := []User{
		{
			SystemID: "full", PasswordHash: testHash(t, "pw"), Enabled: true, Group: "g",
			BindTypes: BindReceiver | BindTransceiver, MaxBinds: 7, MaxBindsPerType: [3]int{0, 2, 5},
			AllowIPs:      []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")},
			DefaultSource: "ACME", SourceAddrs: []string{"ACME", "336*", "re:44[0-9]+"},
			Limits: UserLimits{Throughput: 12.5, Burst: 3, Balance: Micros(1_500_000), Quota: 100, QuotaUsed: 4,
				MaxValidity: 90 * time.Minute, MaxPriority: &pri},
			MaxHeldPerUser: 250,
		},
		{SystemID: "bare", PasswordHash: testHash(t, "pw"), BindTypes: BindTransmitter, Limits: UserLimits{MaxPriority: new(uint8(3))}},
	}
	for _, u := range users {
		var c Check
		got := ParseUser(new(u.Spec()), func(string) bool { return true }, &c)
		if err := c.Err(); err != nil {
			t.Fatalf("%s: %v", u.SystemID, err)
		}
		if !reflect.DeepEqual(got, u) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, u)
		}
	}
	if s := (&User{}).Spec(); s.MaxPriority != 3 || s.Balance != "unlimited" || s.AllowIPs != nil {
		t.Errorf("zero user's spec %+v", s)
	}
}

// The Store refuses a user built in code for the reasons ParseUser gives
// for the same user written in the users file.
func TestStoreAppliesTheFileRules(t *testing.T) {
	ok := testUser(t, "u", "pw")
	bad := map[string]func(u *User){
		"system_id too long":  func(u *User) { u.SystemID = "abcdefghijklmnop" },
		"system_id space":     func(u *User) { u.SystemID = "a b" },
		"hash":                func(u *User) { u.PasswordHash = "5f4dcc3b5aa765d61d8327deb882cf99" },
		"no bind type":        func(u *User) { u.BindTypes = 0 },
		"max_binds":           func(u *User) { u.MaxBinds = 1<<20 + 1 },
		"per type":            func(u *User) { u.MaxBindsPerType[1] = -1 },
		"allow_ips invalid":   func(u *User) { u.AllowIPs = []netip.Prefix{{}} },
		"default_source":      func(u *User) { u.DefaultSource = "123456789012345678901" },
		"source_addrs":        func(u *User) { u.SourceAddrs = []string{"3*3"} },
		"default not allowed": func(u *User) { u.SourceAddrs, u.DefaultSource = []string{"336*"}, "ACME" },
		"throughput":          func(u *User) { u.Limits.Throughput = 1e10 },
		"burst":               func(u *User) { u.Limits.Burst = -1 },
		"quota":               func(u *User) { u.Limits.Quota = -1 },
		"quota_used":          func(u *User) { u.Limits.QuotaUsed = -1 },
		"max_held_per_user":   func(u *User) { u.MaxHeldPerUser = 1<<26 + 1 },
		"max_priority":        func(u *User) { u.Limits.MaxPriority = new(uint8(4)) },
		"unknown group":       func(u *User) { u.Group = "ghost" },
	}
	for name, f := range bad {
		u := ok
		f(&u)
		var c Check
		ParseUser(new(u.Spec()), func(string) bool { return false }, &c)
		want := c.Err()
		if want == nil {
			t.Fatalf("%s: ParseUser accepted %+v", name, u)
		}
		if _, err := NewStore([]User{u}, nil, Options{}); err == nil || err.Error() != "accounts: user[0]."+want.Error() {
			t.Errorf("%s: NewStore: %v, want user[0].%v", name, err, want)
		}
		s := mustStore(t, nil, Options{})
		if err := s.Upsert(u); err == nil || !strings.HasSuffix(err.Error(), ": "+want.Error()) {
			t.Errorf("%s: Upsert: %v, want %v", name, err, want)
		}
		if name == "unknown group" && !errors.Is(want, ErrUnknownGroup) {
			t.Errorf("unknown group: %v is not ErrUnknownGroup", want)
		}
	}
	// Two problems, one user: both named.
	u := ok
	u.MaxBinds, u.Limits.Burst = -1, -1
	if _, err := NewStore([]User{u}, nil, Options{}); err == nil ||
		err.Error() != "accounts: user[0].max_binds: -1 is out of range 0..1048576; user[0].burst: -1 is out of range 0..1073741824" {
		t.Errorf("two problems: %v", err)
	}
	if _, err := NewStore([]User{ok, ok}, nil, Options{}); err == nil ||
		err.Error() != `accounts: user[1].system_id: "u" is already defined by user[0]` {
		t.Errorf("duplicate: %v", err)
	}
}

// An IPv4-mapped IPv6 allow-list entry admits the IPv4 peer, whether it
// came as text (ParseUser) or as a prefix built in code (the Store).
func TestAllowIPsUnmapped(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.1")
	var c Check
	parsed := ParseUser(&UserSpec{SystemID: "a", PasswordHash: testHash(t, "pw"), Enabled: true, BindTypes: []string{"receiver"},
		AllowIPs: []string{"::ffff:10.0.0.1", "::ffff:192.0.2.0/120"}, Balance: "unlimited"}, nil, &c)
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.0.2.0/24")}
	if !reflect.DeepEqual(parsed.AllowIPs, want) {
		t.Fatalf("parsed %v, want %v", parsed.AllowIPs, want)
	}
	coded := testUser(t, "b", "pw")
	coded.AllowIPs = []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.1/128")}
	s := mustStore(t, []User{parsed}, Options{})
	if err := s.Upsert(coded); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		b, err := s.Authenticate(id, "pw", BindReceiver, peer)
		if err != nil {
			t.Fatalf("%s from %v: %v", id, peer, err)
		}
		b.Release()
		if u, _ := s.Lookup(id); u.AllowIPs[0] != netip.MustParsePrefix("10.0.0.1/32") {
			t.Errorf("%s stored %v", id, u.AllowIPs)
		}
	}
}

func TestCheckGroups(t *testing.T) {
	for _, tc := range []struct {
		groups []Group
		want   string
	}{
		{[]Group{{Name: "retail"}, {Name: "a.b:c-d_9"}}, ""},
		{[]Group{{Name: strings.Repeat("g", 64)}}, ""},
		{[]Group{{Name: ""}}, `group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got ""`},
		{[]Group{{Name: "a b"}}, `group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got "a b"`},
		{[]Group{{Name: strings.Repeat("g", 65)}}, `group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got "` + strings.Repeat("g", 65) + `"`},
		{[]Group{{Name: "g"}, {Name: "h"}, {Name: "g", Enabled: true}}, `group[2].name: "g" is already defined by group[0]`},
	} {
		var c Check
		CheckGroups(tc.groups, &c)
		got := ""
		if err := c.Err(); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.groups, got, tc.want)
		}
		_, err := NewStore(nil, tc.groups, Options{})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != "accounts: "+tc.want) {
			t.Errorf("NewStore(%+v): %v, want %q", tc.groups, err, tc.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"": false, "a": true, "12345678": true, "123456789": false, "a\x00": false} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%q) = %v", pw, err)
		}
	}
}
