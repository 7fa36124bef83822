package accounts

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Login checks the password as a bind does, without taking a bind slot.
func TestLogin(t *testing.T) {
	u := testUser(t, "alice", "secret")
	u.MaxBinds = 1
	u.AllowIPs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	off := testUser(t, "off", "offpw")
	off.Enabled = false
	s := mustStore(t, []User{u, off}, Options{CacheTTL: time.Minute, CacheSize: 10})
	in := netip.MustParseAddr("10.1.2.3")
	for range 3 { // more than max_binds: a login holds no slot
		got, err := s.Login("alice", "secret", in)
		if err != nil || got.SystemID != "alice" {
			t.Fatalf("Login = %v, %v", got, err)
		}
	}
	if s.Binds("alice") != 0 {
		t.Errorf("a login took %d bind slots", s.Binds("alice"))
	}
	f := func(id, pw string, ip netip.Addr, want error) {
		t.Helper()
		if _, err := s.Login(id, pw, ip); !errors.Is(err, want) {
			t.Errorf("Login(%s, %s, %v) = %v, want %v", id, pw, ip, err, want)
		}
	}
	f("alice", "wrong", in, ErrBadCredentials)
	f("nobody", "secret", in, ErrBadCredentials)
	f("alice", "secret", netip.MustParseAddr("192.0.2.1"), ErrIPNotAllowed)
	f("off", "offpw", in, ErrDisabled)
	if st := s.Stats(); st.CacheHits == 0 {
		t.Errorf("logins did not use the credential cache: %+v", st)
	}
}

// Failed logins feed the failed-bind limiter: a pair that keeps failing is
// blocked, for logins and binds alike.
func TestLoginLimited(t *testing.T) {
	s := mustStore(t, []User{testUser(t, "alice", "secret")},
		Options{Limits: Limits{FailWindow: time.Minute, BlockAfter: 3, BlockFor: time.Minute}})
	ip := netip.MustParseAddr("192.0.2.9")
	for range 3 {
		if _, err := s.Login("alice", "guess", ip); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if _, err := s.Login("alice", "secret", ip); !errors.Is(err, ErrThrottled) {
		t.Errorf("Login after 3 failures = %v, want ErrThrottled", err)
	}
	if _, err := s.Authenticate("alice", "secret", BindTransmitter, ip); !errors.Is(err, ErrThrottled) {
		t.Errorf("bind after 3 failed logins = %v, want ErrThrottled", err)
	}
	if _, err := s.LoginKey("alice.whatever", ip); !errors.Is(err, ErrThrottled) {
		t.Errorf("LoginKey after 3 failures = %v, want ErrThrottled", err)
	}
}

func TestAPIKey(t *testing.T) {
	key, hash, err := NewAPIKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "alice.") || len(key) != len("alice.")+43 || !validAPIKeyHash(hash) || HashAPIKey(key) != hash {
		t.Fatalf("key %q hash %q", key, hash)
	}
	if id, ok := APIKeyUser(key); !ok || id != "alice" {
		t.Errorf("APIKeyUser = %q %v", id, ok)
	}
	for _, bad := range []string{"", "alice", ".x", "alice."} {
		if _, ok := APIKeyUser(bad); ok {
			t.Errorf("APIKeyUser(%q) accepted", bad)
		}
	}
	if _, _, err := NewAPIKey("bad id"); err == nil {
		t.Error("NewAPIKey accepted a system_id with a space")
	}
	u := testUser(t, "alice", "secret")
	u.APIKeyHash = hash
	s := mustStore(t, []User{u, testUser(t, "bob", "bobpw")}, Options{})
	ip := netip.MustParseAddr("127.0.0.1")
	if got, err := s.LoginKey(key, ip); err != nil || got.SystemID != "alice" {
		t.Errorf("LoginKey = %v, %v", got, err)
	}
	other, _, _ := NewAPIKey("bob") // bob has no key
	for _, k := range []string{key + "x", "alice.AAAA", other, "nobody.x", "garbage"} {
		if _, err := s.LoginKey(k, ip); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("LoginKey(%q) = %v, want ErrBadCredentials", k, err)
		}
	}
}

// deny and api_key_hash go through ParseUser and back through Spec.
func TestRightsParse(t *testing.T) {
	spec := DefaultSpec()
	spec.SystemID, spec.PasswordHash = "alice", testHash(t, "secret")
	spec.Deny = []string{"http_rate", "set_hex_content"}
	spec.APIKeyHash = HashAPIKey("alice.x")
	var c Check
	u := ParseUser(&spec, nil, &c)
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	if u.May(RightHTTPRate) || u.May(RightSetHexContent) || !u.May(RightHTTPSend) || !u.May(RightHTTPLongContent) {
		t.Errorf("Deny = %v", u.Deny.Names())
	}
	back := u.Spec()
	if strings.Join(back.Deny, ",") != "http_rate,set_hex_content" || back.APIKeyHash != spec.APIKeyHash {
		t.Errorf("Spec = %v %q", back.Deny, back.APIKeyHash)
	}
	for _, tc := range []struct {
		deny []string
		key  string
		want string
	}{
		{[]string{"http_bulk"}, "", `deny: unknown right "http_bulk" (use http_send, http_balance, http_rate, http_long_content, http_set_dlr_method, set_hex_content, set_schedule_delivery_time)`},
		{[]string{"http_send", "http_send"}, "", `deny: "http_send" is listed twice`},
		{nil, "sha256$abc", "api_key_hash: must be a hash printed by `smppd apikey` (sha256$<64 hex digits>)"},
		{nil, "$pbkdf2-sha256$1000$x$y", "api_key_hash: must be"},
	} {
		s := spec
		s.Deny, s.APIKeyHash = tc.deny, tc.key
		var c Check
		ParseUser(&s, nil, &c)
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deny %v key %q: %v, want %q", tc.deny, tc.key, err, tc.want)
		}
	}
	for i := range numRights {
		r := Right(1 << i)
		if got, ok := ParseRight(r.String()); !ok || got != r {
			t.Errorf("right %d: %q round trip", i, r.String())
		}
	}
}
