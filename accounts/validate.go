package accounts

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/smppd/smppd/internal/units"
	"github.com/smppd/smppd/msg"
)

// One set of rules for user and group definitions, whoever writes them: the
// users file (config, at start and at every SIGHUP), the operations API
// (admin) and the Store itself (NewStore, Reload, Upsert), as nats-server
// runs one validateOptions at start and at reload. So a user the API
// accepts is read back identically from the users file it is saved to.

// Bounds of a user definition (docs/CONFIG.md, "Users").
const (
	maxSystemID   = 15      // SMPP 3.4 §5.2.1: system_id is 16 octets with the NUL
	maxAddrLen    = 20      // SMPP 3.4 §5.2.8: source_addr is 21 octets with the NUL
	maxBindLimit  = 1 << 20 // max_binds and each max_binds_per_type
	maxBurst      = 1 << 30
	maxThroughput = 1e9 // parts per second
	maxPriority   = 3   // SMPP 3.4 §5.2.14: priority_flag 0..3
	maxGroupName  = 64
	maxHeldShare  = 1 << 26 // max_held_per_user, as [delivery] max_held
	// callback_secret: an HMAC key shorter than 16 octets is guessable.
	minCallbackSecret = 16
	maxCallbackSecret = 1024
)

// UserSpec is a user as the users file and the operations API write it,
// before parsing: bind type names, address and amount text, plain numbers.
// ParseUser turns it into a User; User.Spec is the inverse. A definition
// starts from DefaultSpec, not the zero value.
type UserSpec struct {
	SystemID        string
	PasswordHash    string
	Enabled         bool
	Group           string
	BindTypes       []string // transmitter, receiver, transceiver
	MaxBinds        int
	MaxBindsPerType [3]int   // indexed by BindType.Index
	AllowIPs        []string // addresses and CIDRs
	DefaultSource   string
	SourceAddrs     []string
	Receipts        bool
	Throughput      float64
	Burst           int
	Balance         string // "unlimited" or a decimal
	Quota           int64
	QuotaUsed       int64
	MaxValidity     units.Duration // as written ("48h"): the users file's duration syntax
	MaxPriority     int
	MaxHeldPerUser  int
	// Deny names HTTP API rights not granted (RightNames); APIKeyHash is
	// the HTTP API key's hash (NewAPIKey).
	Deny       []string
	APIKeyHash string
	// CallbackSecret signs the user's receipt callbacks; "" = none.
	CallbackSecret string
	// Auth is "password", "cert" or "password+cert" (AuthMethod);
	// CertSubjects and CertFingerprints pin the client certificates.
	Auth             string
	CertSubjects     []string
	CertFingerprints []string // SHA-256, ParseFingerprint's syntax
}

// Problem is one finding about a definition. Key is the users file's key,
// relative to the user or group ("allow_ips", "max_binds_per_type.receiver")
// or, from ParseUsers and CheckGroups, with its index ("user[2].allow_ips").
type Problem struct {
	Key, Msg string
	err      error // a sentinel the problem matches (ErrUnknownGroup), or nil
}

// Error is "key: msg", the text config puts after file:line and the
// operations API answers with.
func (p Problem) Error() string { return p.Key + ": " + p.Msg }

// Unwrap returns the sentinel the problem matches, if any.
func (p Problem) Unwrap() error { return p.err }

// Check collects the problems and warnings found, in the order found.
type Check struct {
	Problems []Problem
	Warnings []Problem // legal but probably unintended
}

// Err returns the problems as one error ("key: msg; key: msg"; errors.Is
// finds ErrUnknownGroup in it), or nil when there are none.
func (c *Check) Err() error {
	if len(c.Problems) == 0 {
		return nil
	}
	return problemList(append([]Problem(nil), c.Problems...))
}

func (c *Check) fail(key, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *Check) warn(key, format string, args ...any) {
	c.Warnings = append(c.Warnings, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *Check) intRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		c.fail(key, "%d is out of range %d..%d", n, lo, hi)
	}
}

// merge appends sub's findings with prefix before their keys.
func (c *Check) merge(prefix string, sub *Check) {
	for _, p := range sub.Problems {
		p.Key = prefix + p.Key
		c.Problems = append(c.Problems, p)
	}
	for _, w := range sub.Warnings {
		w.Key = prefix + w.Key
		c.Warnings = append(c.Warnings, w)
	}
}

type problemList []Problem

func (l problemList) Error() string {
	var b strings.Builder
	for i, p := range l {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

func (l problemList) Unwrap() []error {
	out := make([]error, len(l))
	for i := range l {
		out[i] = l[i]
	}
	return out
}

// ParseUser parses and checks s by the users file's rules, adding what is
// wrong to c (keys relative to the user). knownGroup reports whether a group
// exists; nil skips the group reference (a users file checked on its own,
// whose groups may live in the main file). The User is meaningful only when
// c gained no problem: AllowIPs are masked, IPv4-mapped IPv6 addresses
// unmapped, Limits.MaxPriority always set; empty lists are nil. It has no
// live counters: give it to a Store.
func ParseUser(s *UserSpec, knownGroup func(name string) bool, c *Check) User {
	u := User{
		SystemID: s.SystemID, PasswordHash: s.PasswordHash, Enabled: s.Enabled, Group: s.Group,
		MaxBinds: s.MaxBinds, MaxBindsPerType: s.MaxBindsPerType, DefaultSource: s.DefaultSource,
		Receipts: s.Receipts, MaxHeldPerUser: s.MaxHeldPerUser,
		Limits: UserLimits{Throughput: s.Throughput, Burst: s.Burst, Quota: s.Quota, QuotaUsed: s.QuotaUsed,
			MaxValidity: s.MaxValidity.D()},
	}
	if len(s.SourceAddrs) > 0 {
		u.SourceAddrs = append([]string(nil), s.SourceAddrs...)
	}
	parsed := map[string]bool{} // keys whose text was refused: not checked again as values
	u.Deny, u.APIKeyHash = parseDeny(s.Deny, c), s.APIKeyHash
	u.CallbackSecret = s.CallbackSecret
	if m, ok := parseAuthMethod(s.Auth); ok {
		u.Auth = m
	} else {
		c.fail("auth", `must be "password", "cert" or "password+cert", got %q`, s.Auth)
	}
	if len(s.CertSubjects) > 0 {
		u.CertSubjects = append([]string(nil), s.CertSubjects...)
	}
	for _, f := range s.CertFingerprints {
		fp, err := ParseFingerprint(f)
		if err != nil {
			c.fail("cert_fingerprints", "%v", err)
			continue
		}
		u.CertSHA256 = append(u.CertSHA256, fp)
	}
	for _, name := range s.BindTypes {
		bt, err := ParseBindTypes([]string{name})
		switch {
		case err != nil:
			c.fail("bind_types", "unknown bind type %q (use transmitter, receiver, transceiver)", name)
			parsed["bind_types"] = true
		case u.BindTypes&bt != 0:
			c.fail("bind_types", "%q is listed twice", name)
			parsed["bind_types"] = true
		}
		u.BindTypes |= bt
	}
	for _, a := range s.AllowIPs {
		p, err := parsePrefix(a)
		if err != nil {
			c.fail("allow_ips", "%q is not an address or CIDR", a)
			parsed["allow_ips"] = true
			continue
		}
		u.AllowIPs = append(u.AllowIPs, p)
	}
	if bal, err := ParseAmount(s.Balance); err == nil {
		u.Limits.Balance = bal
	} else if errors.Is(err, errAmountTooLarge) {
		c.fail("balance", "is too large, got %q", s.Balance)
	} else {
		c.fail("balance", `must be "unlimited" or a non-negative decimal with at most 6 decimals, got %q`, s.Balance)
	}
	if p := s.MaxPriority; p < 0 || p > maxPriority {
		c.fail("max_priority", "%d is out of range 0..%d", p, maxPriority)
		parsed["max_priority"] = true
	} else {
		v := uint8(p)
		u.Limits.MaxPriority = &v
	}
	checkUser(&u, knownGroup, parsed, c)
	return u
}

// ParseUsers is ParseUser for every spec, with the keys prefixed
// "user[i]." and a system_id defined twice refused.
func ParseUsers(specs []UserSpec, knownGroup func(name string) bool, c *Check) []User {
	out := make([]User, len(specs))
	for i := range specs {
		var sub Check
		out[i] = ParseUser(&specs[i], knownGroup, &sub)
		c.merge(userKey(i), &sub)
	}
	checkDuplicates(out, c)
	return out
}

// CheckGroups checks groups as a users file defines them: each name 1..64
// of A-Z a-z 0-9 _ . : - and unique, max_held_per_user in range. Keys are
// "group[i].name", "group[i].max_held_per_user".
func CheckGroups(groups []Group, c *Check) {
	seen := make(map[string]int, len(groups))
	for i, g := range groups {
		c.intRange("group["+strconv.Itoa(i)+"].max_held_per_user", g.MaxHeldPerUser, 0, maxHeldShare)
		key := "group[" + strconv.Itoa(i) + "].name"
		if !validGroupName(g.Name) {
			c.fail(key, "must be 1..%d of A-Z a-z 0-9 _ . : -, got %q", maxGroupName, g.Name)
		} else if j, dup := seen[g.Name]; dup {
			c.fail(key, "%q is already defined by group[%d]", g.Name, j)
		} else {
			seen[g.Name] = i
		}
	}
}

// checkUsers checks users built in code (NewStore, Reload) as ParseUsers
// checks parsed ones.
func checkUsers(users []User, knownGroup func(string) bool, c *Check) {
	for i := range users {
		var sub Check
		checkUser(&users[i], knownGroup, nil, &sub)
		c.merge(userKey(i), &sub)
	}
	checkDuplicates(users, c)
}

func userKey(i int) string { return "user[" + strconv.Itoa(i) + "]." }

func checkDuplicates(users []User, c *Check) {
	seen := make(map[string]int, len(users))
	for i := range users {
		id := users[i].SystemID
		if !validSystemID(id) {
			continue // refused already
		}
		if j, dup := seen[id]; dup {
			c.fail(userKey(i)+"system_id", "%q is already defined by user[%d]", id, j)
		} else {
			seen[id] = i
		}
	}
}

// checkUser checks the values of u, skipping the keys in parsed (their text
// was refused already). These are the rules a User built in code meets
// too, in the Store.
func checkUser(u *User, knownGroup func(string) bool, parsed map[string]bool, c *Check) {
	if !validSystemID(u.SystemID) {
		c.fail("system_id", "must be 1..%d printable ASCII characters without spaces, got %q", maxSystemID, u.SystemID)
	}
	// A user bound by a certificate alone may have no password.
	if _, err := parseHash(u.PasswordHash); err != nil && (u.Auth != AuthCert || u.PasswordHash != "") {
		const want = "must be a hash printed by `smppd passwd` ($pbkdf2-sha256$<iterations>$<salt>$<hash>)"
		if errors.Is(err, ErrHashFormat) {
			c.fail("password_hash", want)
		} else {
			c.fail("password_hash", "%s: %s", want, strings.TrimPrefix(err.Error(), "accounts: "))
		}
	}
	if !parsed["bind_types"] {
		if u.BindTypes&AllBindTypes == 0 {
			c.fail("bind_types", "must list at least one of transmitter, receiver, transceiver")
		} else if u.BindTypes&^AllBindTypes != 0 {
			c.fail("bind_types", "unknown bind type bits %#x", uint8(u.BindTypes&^AllBindTypes))
		}
	}
	c.intRange("max_binds", u.MaxBinds, 0, maxBindLimit)
	c.intRange("max_held_per_user", u.MaxHeldPerUser, 0, maxHeldShare)
	if !parsed["allow_ips"] {
		for _, p := range u.AllowIPs {
			if !p.IsValid() {
				c.fail("allow_ips", "%q is not an address or CIDR", PrefixString(p))
			}
		}
	}
	if u.Group != "" && knownGroup != nil && !knownGroup(u.Group) {
		c.Problems = append(c.Problems, Problem{Key: "group",
			Msg: fmt.Sprintf("unknown group %q (define it in a [[group]] table)", u.Group), err: ErrUnknownGroup})
	}
	if !validAPIKeyHash(u.APIKeyHash) {
		c.fail("api_key_hash", "must be a hash printed by `smppd apikey` (sha256$<64 hex digits>)")
	}
	if n := len(u.CallbackSecret); n > 0 && (n < minCallbackSecret || n > maxCallbackSecret) {
		c.fail("callback_secret", "must be %d..%d octets (or empty: unsigned), got %d", minCallbackSecret, maxCallbackSecret, n)
	}
	checkBindsPerType(u, c)
	checkSources(u, c)
	checkCertAuth(u, c)
	l := &u.Limits
	if !(l.Throughput >= 0) || math.IsInf(l.Throughput, 1) || l.Throughput > maxThroughput {
		c.fail("throughput", "must be a number of parts per second, 0 (unlimited) to 1e9, got %v", l.Throughput)
	}
	c.intRange("burst", l.Burst, 0, maxBurst)
	if l.Burst > 0 && l.Throughput == 0 {
		c.warn("burst", "%d has no effect without a throughput", l.Burst)
	}
	if l.Quota < 0 {
		c.fail("quota", "%d must be >= 0 (0 = unlimited)", l.Quota)
	}
	if l.QuotaUsed < 0 {
		c.fail("quota_used", "%d must be >= 0", l.QuotaUsed)
	}
	if l.MaxValidity < 0 {
		c.fail("max_validity", "%v must be >= 0 (0 = unlimited)", l.MaxValidity)
	}
	if p := l.MaxPriority; p != nil && *p > maxPriority && !parsed["max_priority"] {
		c.fail("max_priority", "%d is out of range 0..%d", *p, maxPriority)
	}
}

func checkBindsPerType(u *User, c *Check) {
	for _, bt := range []BindType{BindTransmitter, BindReceiver, BindTransceiver} {
		n := u.MaxBindsPerType[bt.Index()]
		key := "max_binds_per_type." + bt.String()
		c.intRange(key, n, 0, maxBindLimit)
		if n > 0 && u.BindTypes&bt == 0 {
			c.warn(key, "a limit for %s binds, which bind_types does not allow", bt)
		}
		if n > 0 && u.MaxBinds > 0 && n > u.MaxBinds {
			c.warn(key, "%d exceeds max_binds (%d)", n, u.MaxBinds)
		}
	}
}

// checkSources checks default_source and source_addrs with the matcher
// that later admits submits (compilePattern, SourceAllowed).
func checkSources(u *User, c *Check) {
	if len(u.DefaultSource) > maxAddrLen || !msg.NoControl(u.DefaultSource) {
		c.fail("default_source", "must be at most %d characters without control characters, got %q", maxAddrLen, u.DefaultSource)
	}
	probe := User{SourceAddrs: u.SourceAddrs, compiled: true}
	for _, pat := range u.SourceAddrs {
		sp, err := compilePattern(pat)
		if err != nil {
			c.fail("source_addrs", "%q: %v", pat, err)
			probe.compiled = false
			continue
		}
		probe.src = append(probe.src, sp)
	}
	if probe.compiled && u.DefaultSource != "" && !probe.SourceAllowed([]byte(u.DefaultSource)) {
		c.fail("default_source", "%q is not allowed by source_addrs", u.DefaultSource)
	}
}

// Spec writes u as a UserSpec: what the users file says for it (with the
// balance and quota_used u holds). ParseUser(u.Spec()) gives u back.
func (u *User) Spec() UserSpec {
	s := UserSpec{
		SystemID: u.SystemID, PasswordHash: u.PasswordHash, Enabled: u.Enabled, Group: u.Group,
		MaxBinds: u.MaxBinds, MaxBindsPerType: u.MaxBindsPerType, DefaultSource: u.DefaultSource,
		Receipts: u.Receipts, Throughput: u.Limits.Throughput, Burst: u.Limits.Burst,
		Balance: u.Limits.Balance.String(), Quota: u.Limits.Quota, QuotaUsed: u.Limits.QuotaUsed,
		MaxValidity: units.Duration(u.Limits.MaxValidity), MaxPriority: maxPriority, BindTypes: []string{},
		MaxHeldPerUser: u.MaxHeldPerUser, Auth: u.Auth.String(),
		Deny: u.Deny.Names(), APIKeyHash: u.APIKeyHash, CallbackSecret: u.CallbackSecret,
	}
	if len(u.CertSubjects) > 0 {
		s.CertSubjects = append([]string(nil), u.CertSubjects...)
	}
	for _, f := range u.CertSHA256 {
		s.CertFingerprints = append(s.CertFingerprints, FormatFingerprint(f))
	}
	for _, bt := range []BindType{BindTransmitter, BindReceiver, BindTransceiver} {
		if u.BindTypes&bt != 0 {
			s.BindTypes = append(s.BindTypes, bt.String())
		}
	}
	if len(u.AllowIPs) > 0 {
		s.AllowIPs = make([]string, len(u.AllowIPs))
		for i, p := range u.AllowIPs {
			s.AllowIPs[i] = PrefixString(p)
		}
	}
	if len(u.SourceAddrs) > 0 {
		s.SourceAddrs = append([]string(nil), u.SourceAddrs...)
	}
	if p := u.Limits.MaxPriority; p != nil {
		s.MaxPriority = int(*p)
	}
	return s
}

// PrefixString writes p as an operator would in allow_ips: a single
// address without "/32" or "/128".
func PrefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// parsePrefix accepts "10.0.0.0/8", "2001:db8::/32" or a bare address (a
// /32 or /128), masked and with an IPv4-mapped IPv6 address unmapped: the
// allow-list is matched against unmapped peer addresses (ipAllowed).
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return normPrefix(p), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return normPrefix(netip.PrefixFrom(a, a.BitLen())), nil
}

// normPrefix masks p and unmaps an IPv4-mapped IPv6 prefix of /96 or
// longer ("::ffff:10.0.0.0/104" is 10.0.0.0/8).
func normPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

func validSystemID(s string) bool {
	return len(s) >= 1 && len(s) <= maxSystemID && msg.PrintableNoSpace(s)
}

func validGroupName(s string) bool {
	if len(s) < 1 || len(s) > maxGroupName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
