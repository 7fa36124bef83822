package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
)

// Logins: the HTTP API's requests carry the user's SMPP credentials (or its
// API key) on every request and hold no bind, so they check credentials
// without taking a bind slot, through the same verified-credential cache and
// failed-bind limiter as binds: a password guessed over HTTP counts against
// the same address, pair and system_id as one guessed over SMPP.

// apiKeyPrefix starts an api_key_hash: SHA-256 of the whole key, in hex. A
// key holds 256 random bits, so a fast hash is as strong as a slow one.
const apiKeyPrefix = "sha256$"

// apiKeySecret is the number of random octets in a key.
const apiKeySecret = 32

// NewAPIKey returns a fresh API key for systemID ("<system_id>.<43
// base64url characters>") and the api_key_hash to put in the user's
// definition. The key is shown once: only its hash is kept.
func NewAPIKey(systemID string) (key, hash string, err error) {
	if !validSystemID(systemID) {
		return "", "", errors.New("accounts: not a valid system_id")
	}
	var b [apiKeySecret]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	key = systemID + "." + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashAPIKey(key), nil
}

// HashAPIKey is the api_key_hash of key.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return apiKeyPrefix + hex.EncodeToString(sum[:])
}

// APIKeyUser returns the system_id an API key names (the part before its
// last dot); false for a string that is no key.
func APIKeyUser(key string) (string, bool) {
	i := strings.LastIndexByte(key, '.')
	if i < 1 || i == len(key)-1 {
		return "", false
	}
	return key[:i], true
}

// validAPIKeyHash reports whether h is "" (no key) or "sha256$<64 hex>".
func validAPIKeyHash(h string) bool {
	if h == "" {
		return true
	}
	rest, ok := strings.CutPrefix(h, apiKeyPrefix)
	if !ok || len(rest) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Login checks systemID's password for one request from ip, without
// reserving a bind slot, and returns the user's current record (immutable;
// read it once per request). Errors as Authenticate's, without the bind
// ones: ErrThrottled (the limiter blocks ip or the pair), ErrBadCredentials
// (counted by the limiter), ErrDisabled, ErrIPNotAllowed. Ask Gate first
// and wait what it says, as binds do.
//
// It blocks for a PBKDF2 run on a cache miss: never on an event loop.
func (s *Store) Login(systemID, password string, ip netip.Addr) (*User, error) {
	if s.lim != nil && s.lim.check(ip, systemID) == block {
		s.throttled.Add(1)
		return nil, ErrThrottled
	}
	snap := s.snap.Load()
	var a *account
	if e := snap.users[systemID]; e != nil {
		a = e.cur.Load()
	}
	if !s.verify(snap, a, systemID, password) {
		if s.lim != nil {
			s.lim.fail(ip, systemID)
		}
		return nil, ErrBadCredentials
	}
	return s.loggedIn(a, systemID, ip)
}

// LoginKey is Login with an API key (NewAPIKey) instead of the password:
// the key names its user, and is checked against the user's api_key_hash
// in constant time. A user without one never matches.
func (s *Store) LoginKey(key string, ip netip.Addr) (*User, error) {
	systemID, ok := APIKeyUser(key)
	if !ok {
		systemID = ""
	}
	if s.lim != nil && s.lim.check(ip, systemID) == block {
		s.throttled.Add(1)
		return nil, ErrThrottled
	}
	var a *account
	if e := s.snap.Load().users[systemID]; e != nil && ok {
		a = e.cur.Load()
	}
	want := dummyKeyHash
	if a != nil && a.user.APIKeyHash != "" {
		want = a.user.APIKeyHash
	}
	match := subtle.ConstantTimeCompare([]byte(HashAPIKey(key)), []byte(want)) == 1
	if a == nil || a.user.APIKeyHash == "" || !match {
		if s.lim != nil {
			s.lim.fail(ip, systemID)
		}
		return nil, ErrBadCredentials
	}
	return s.loggedIn(a, systemID, ip)
}

// dummyKeyHash is compared against when the user has no key, so an unknown
// user costs the same as a wrong key.
var dummyKeyHash = HashAPIKey("")

// loggedIn finishes a login whose credentials matched: the limiter forgets
// the pair's failures, then the user's state and address are checked.
func (s *Store) loggedIn(a *account, systemID string, ip netip.Addr) (*User, error) {
	if s.lim != nil {
		s.lim.succeed(ip, systemID)
	}
	u := &a.user
	if !u.Active() {
		return nil, ErrDisabled
	}
	if !ipAllowed(u.AllowIPs, ip) {
		return nil, ErrIPNotAllowed
	}
	return u, nil
}
