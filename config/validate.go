package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits that keep values sane; see docs/CONFIG.md.
const (
	maxTimerSecs = 86400
	maxPDULenMin = 1024
	maxPDULenMax = 64 << 20
	// minFullPDU is the largest legal PDU we promise to accept by default:
	// a submit_multi with 254 destinations (24 octets each), every C-string
	// at its maximum, and a 64 KiB message_payload TLV.
	minFullPDU = 16 + 6 + 2 + 21 + 1 + 254*24 + 3 + 17 + 17 + 4 + 1 + 4 + 65535
)

// Validate checks ranges and cross-field rules, normalises log_level,
// derives LogTimeLayout, TLS MinVersionID, user AllowPrefixes and
// ReceiptLocation, resolves file paths against the config's directory,
// gives a "sim" connector without [connector.sim] DefaultSim and adds
// DefaultMTRoute when there is no MT route. Problems that are legal but
// probably unintended are appended to Warnings. Load calls it once; call it
// yourself only on a Config you built in code, and only once (relative
// paths would be resolved twice).
func (c *Config) Validate() error {
	v := validator{c: c}
	v.server()
	v.tls()
	v.bindLimits()
	v.auth()
	v.groups()
	v.users()
	v.connectors()
	v.routes()
	v.delivery()
	v.storage()
	v.admin()
	return v.errs.err()
}

type validator struct {
	c    *Config
	errs errList
	// usersOnly: checking a users file on its own (SaveUsers), so a user's
	// group may be defined in the main file.
	usersOnly bool
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs.add(v.c.errorAt(key, fmt.Sprintf(format, args...)))
}

// ErrorAt returns an *Error for key (in this package's notation, such as
// "mt_route[3].dest_regex", as routing.ConfigError.Key is) with the file and
// line where the key, or the nearest enclosing table, was written.
func (c *Config) ErrorAt(key, msg string) *Error {
	return c.errorAt(key, msg)
}

func (c *Config) errorAt(key, msg string) *Error {
	p := c.position(key)
	if p.file == "" {
		p.file = c.Path
	}
	return &Error{File: p.file, Line: p.line, Key: key, Msg: msg}
}

// position finds where key was written, falling back to the nearest
// enclosing key (a key left to its default has the line of its table).
func (c *Config) position(key string) srcPos {
	for key != "" {
		if p, ok := c.pos[key]; ok {
			return p
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return srcPos{}
}

func (v *validator) warn(format string, args ...any) {
	v.c.Warnings = append(v.c.Warnings, fmt.Sprintf(format, args...))
}

func (v *validator) intRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(key, "%d is out of range %d..%d", n, lo, hi)
	}
}

func (v *validator) server() {
	s := &v.c.Server
	const p = "smpp-server."
	if n := len(s.ID); n < 1 || n > 15 || !printable(s.ID) {
		v.fail(p+"id", "must be 1..15 printable ASCII characters without spaces (SMPP system_id)")
	}
	if _, err := netip.ParseAddr(s.Bind); err != nil {
		v.fail(p+"bind", "must be an IP address literal such as 127.0.0.1, 0.0.0.0 or ::, got %q", s.Bind)
	}
	v.intRange(p+"port", s.Port, 1, 65535)

	v.intRange(p+"sessionInitTimerSecs", s.SessionInitTimerSecs, 1, maxTimerSecs)
	v.intRange(p+"enquireLinkTimerSecs", s.EnquireLinkTimerSecs, 0, maxTimerSecs)
	v.intRange(p+"inactivityTimerSecs", s.InactivityTimerSecs, 0, maxTimerSecs)
	v.intRange(p+"responseTimerSecs", s.ResponseTimerSecs, 1, maxTimerSecs)
	v.intRange(p+"pduReadTimerSecs", s.PDUReadTimerSecs, 1, maxTimerSecs)
	if s.InactivityTimerSecs > 0 && s.EnquireLinkTimerSecs >= s.InactivityTimerSecs {
		v.warn("smpp-server: enquireLinkTimerSecs (%d) >= inactivityTimerSecs (%d): an idle session is closed before the server ever probes it with enquire_link",
			s.EnquireLinkTimerSecs, s.InactivityTimerSecs)
	}
	if s.InactivityTimerSecs > 0 && s.ResponseTimerSecs >= s.InactivityTimerSecs {
		v.warn("smpp-server: responseTimerSecs (%d) >= inactivityTimerSecs (%d)", s.ResponseTimerSecs, s.InactivityTimerSecs)
	}

	if lvl, ok := logLevels[strings.ToLower(s.LogLevel)]; ok {
		s.LogLevel = lvl
	} else {
		v.fail(p+"log_level", "must be one of trace, debug, info, warn, error (Jasmin's DEBUG, INFO, WARNING, ERROR, CRITICAL also work), got %q", s.LogLevel)
	}
	switch s.LogFormat {
	case "json", "console":
	default:
		msg := "must be \"json\" or \"console\", got %q"
		if strings.Contains(s.LogFormat, "%(") {
			msg += " (Jasmin's Python logging format strings are not supported: smppd writes structured logs)"
		}
		v.fail(p+"log_format", msg, s.LogFormat)
	}
	if layout, err := timeLayout(s.LogDateFormat); err != nil {
		v.fail(p+"log_date_format", "%v", err)
	} else {
		s.LogTimeLayout = layout
	}

	v.intRange(p+"event_loops", s.EventLoops, 0, 1024)
	if s.MaxPDULen < maxPDULenMin || s.MaxPDULen > maxPDULenMax {
		v.fail(p+"max_pdu_len", "%d bytes is out of range %d..%d", s.MaxPDULen, maxPDULenMin, maxPDULenMax)
	} else if s.MaxPDULen < minFullPDU {
		v.warn("smpp-server: max_pdu_len %d refuses legal PDUs: a 254-destination submit_multi with a 64 KiB message_payload needs %d bytes",
			s.MaxPDULen, minFullPDU)
	}
	v.intRange(p+"max_in_flight", s.MaxInFlight, 1, 1<<20)
	if w := s.QueueFullWait.D(); w < 0 || w > time.Minute {
		v.fail(p+"queue_full_wait", "%v is out of range 0s..1m", s.QueueFullWait)
	} else if r := s.Response(); r > 0 && w >= r/2 {
		// A waiting session reads nothing, enquire_link_resp and
		// deliver_sm_resp included: it must not look dead meanwhile.
		v.fail(p+"queue_full_wait", "%v must be under half of responseTimerSecs (%v): a waiting session reads no responses", s.QueueFullWait, r)
	}
	v.intRange(p+"deliver_window", s.DeliverWindow, 1, 1<<16)
	v.intRange(p+"max_connections", s.MaxConnections, 0, 1<<24)
	v.intRange(p+"max_connections_per_ip", s.MaxConnectionsPerIP, 0, 1<<24)
	if s.MaxConnections > 0 && s.MaxConnectionsPerIP > s.MaxConnections {
		v.warn("smpp-server: max_connections_per_ip (%d) exceeds max_connections (%d)", s.MaxConnectionsPerIP, s.MaxConnections)
	}
	if s.MaxOutboundBacklog < s.MaxPDULen {
		v.fail(p+"max_outbound_backlog", "%d bytes is less than max_pdu_len (%d): the backlog must hold at least one PDU", s.MaxOutboundBacklog, s.MaxPDULen)
	}
	v.hostileBounds(s)
	if s.ShutdownGrace.D() > time.Hour {
		v.fail(p+"shutdown_grace", "%v is longer than 1h", s.ShutdownGrace)
	}
	if t := s.Tick.D(); t < time.Millisecond || t > time.Second {
		v.fail(p+"tick", "%v is out of range 1ms..1s", s.Tick)
	}
	v.intRange(p+"node_id", s.NodeID, 0, 4095)
}

// hostileBounds checks the caps that keep a peer from making smppd buffer
// without bound (docs/OPERATIONS.md, Limits and attacks).
func (v *validator) hostileBounds(s *SMPPServer) {
	const p = "smpp-server."
	const readChunk = 64 << 10 // what one socket read may add
	if min := s.MaxPDULen + readChunk; s.MaxInboundBuffer < min || s.MaxInboundBuffer > 1<<30 {
		v.fail(p+"max_inbound_buffer", "%d bytes is out of range %d (max_pdu_len + 64KiB: a full PDU plus one read)..1GiB", s.MaxInboundBuffer, min)
	}
	if s.MaxOutboundUnbound < 4<<10 || s.MaxOutboundUnbound > s.MaxOutboundBacklog {
		v.fail(p+"max_outbound_unbound", "%d bytes is out of range 4KiB..max_outbound_backlog (%d)", s.MaxOutboundUnbound, s.MaxOutboundBacklog)
	}
	if s.MaxOutboundTotal < s.MaxOutboundBacklog {
		v.fail(p+"max_outbound_total", "%d bytes is less than max_outbound_backlog (%d): one session could not use its own cap", s.MaxOutboundTotal, s.MaxOutboundBacklog)
	}
	v.intRange(p+"max_unexpected_responses", s.MaxUnexpectedResponses, 1, 1<<20)
	if d := s.SlowConsumerTimeout.D(); d < 0 || d > time.Hour {
		v.fail(p+"slow_consumer_timeout", "%v is out of range 0s..1h", s.SlowConsumerTimeout)
	}
	v.intRange(p+"log_rate_limit", s.LogRateLimit, 1, 100000)
}

// logLevels maps accepted spellings to zerolog level names.
var logLevels = map[string]string{
	"trace": "trace", "debug": "debug", "info": "info", "warn": "warn", "error": "error",
	"warning": "warn", "critical": "error",
}

func (v *validator) tls() {
	t := &v.c.Server.TLS
	const p = "smpp-server.tls."
	v.intRange(p+"port", t.Port, 1, 65535)
	if t.Bind != "" {
		if _, err := netip.ParseAddr(t.Bind); err != nil {
			v.fail(p+"bind", "must be an IP address literal, got %q", t.Bind)
		}
	}
	switch t.MinVersion {
	case "1.2":
		t.MinVersionID = tls.VersionTLS12
	case "1.3":
		t.MinVersionID = tls.VersionTLS13
	default:
		v.fail(p+"min_version", "must be \"1.2\" or \"1.3\", got %q", t.MinVersion)
	}
	if d := t.HandshakeTimeout.D(); d < 100*time.Millisecond || d > time.Minute {
		v.fail(p+"handshake_timeout", "%v is out of range 100ms..1m", t.HandshakeTimeout)
	}
	if d := t.WriteTimeout.D(); d < time.Second || d > 10*time.Minute {
		v.fail(p+"write_timeout", "%v is out of range 1s..10m", t.WriteTimeout)
	}
	if !t.Enabled {
		return
	}
	bind := t.Bind
	if bind == "" {
		bind = v.c.Server.Bind
	}
	if t.Port == v.c.Server.Port && bind == v.c.Server.Bind {
		v.fail(p+"port", "%d is also the plain SMPP port on %s", t.Port, bind)
	}
	for _, f := range []struct {
		key  string
		path *string
	}{{"cert_file", &t.CertFile}, {"key_file", &t.KeyFile}} {
		if *f.path == "" {
			v.fail(p+f.key, "is required when TLS is enabled")
			continue
		}
		*f.path = v.resolve(*f.path)
		if _, err := os.Stat(*f.path); err != nil {
			v.fail(p+f.key, "%v", err)
		}
	}
}

// resolve makes a relative path relative to the config file's directory.
func (v *validator) resolve(path string) string { return v.c.Resolve(path) }

func (v *validator) bindLimits() {
	b := &v.c.BindLimits
	const p = "bind-limits."
	v.intRange(p+"slow_after", b.SlowAfter, 0, 1<<20)
	v.intRange(p+"block_after", b.BlockAfter, 0, 1<<20)
	v.intRange(p+"address_block_after", b.AddressBlockAfter, 0, 1<<20)
	if (b.SlowAfter > 0 || b.BlockAfter > 0 || b.AddressBlockAfter > 0) && b.FailWindow <= 0 {
		v.fail(p+"fail_window", "must be > 0 when slow_after, block_after or address_block_after is set")
	}
	if b.SlowAfter > 0 && b.SlowDelay <= 0 {
		v.fail(p+"slow_delay", "must be > 0 when slow_after is set")
	}
	if b.SlowDelay.D() > time.Minute {
		v.fail(p+"slow_delay", "%v is longer than 1m", b.SlowDelay)
	}
	if sit := v.c.Server.SessionInit(); b.SlowAfter > 0 && b.SlowDelay.D() >= sit {
		v.warn("bind-limits: slow_delay %v >= sessionInitTimerSecs (%v): a slowed bind is answered after its session was closed", b.SlowDelay, sit)
	}
	if (b.BlockAfter > 0 || b.AddressBlockAfter > 0) && b.BlockFor <= 0 {
		v.fail(p+"block_for", "must be > 0 when block_after or address_block_after is set")
	}
	if b.AddressBlockAfter > 0 && b.AddressBlockAfter < b.BlockAfter {
		v.warn("bind-limits: address_block_after (%d) < block_after (%d): an address is blocked before any of its pairs", b.AddressBlockAfter, b.BlockAfter)
	}
	if b.BlockAfter > 0 && b.SlowAfter > b.BlockAfter {
		v.warn("bind-limits: slow_after (%d) > block_after (%d): keys are blocked before they are ever slowed", b.SlowAfter, b.BlockAfter)
	}
	v.intRange(p+"max_keys", b.MaxKeys, 1, 1<<24)
	v.intRange(p+"max_pending_per_address", b.MaxPendingPerAddress, 1, 1024)
}

func (v *validator) auth() {
	a := &v.c.Auth
	v.intRange("auth.cache_size", a.CacheSize, 0, 1<<24)
	v.intRange("auth.workers", a.Workers, 1, 1024)
}

var bindTypeNames = map[string]bool{"transmitter": true, "receiver": true, "transceiver": true}

// maxAddrLen is the longest source_addr / destination_addr (SMPP 3.4
// §5.2.8: 21 octets with the NUL).
const maxAddrLen = 20

func (v *validator) groups() {
	seen := make(map[string]int, len(v.c.Groups))
	for i := range v.c.Groups {
		g := &v.c.Groups[i]
		key := "group[" + strconv.Itoa(i) + "].name"
		if !validName(g.Name) {
			v.fail(key, "must be 1..64 of A-Z a-z 0-9 _ . : -, got %q", g.Name)
		} else if j, dup := seen[g.Name]; dup {
			v.fail(key, "%q is already defined by group[%d]", g.Name, j)
		} else {
			seen[g.Name] = i
		}
	}
}

func (v *validator) users() {
	if len(v.c.Users) == 0 && !v.usersOnly {
		v.warn("no users are configured: every bind will be refused")
	}
	groups := make(map[string]bool, len(v.c.Groups))
	for _, g := range v.c.Groups {
		groups[g.Name] = true
	}
	seen := make(map[string]int, len(v.c.Users))
	for i := range v.c.Users {
		u := &v.c.Users[i]
		p := "user[" + strconv.Itoa(i) + "]."
		if n := len(u.SystemID); n < 1 || n > 15 || !printable(u.SystemID) {
			v.fail(p+"system_id", "must be 1..15 printable ASCII characters without spaces, got %q", u.SystemID)
		} else if j, dup := seen[u.SystemID]; dup {
			v.fail(p+"system_id", "%q is already defined by user[%d]", u.SystemID, j)
		} else {
			seen[u.SystemID] = i
		}
		if !strings.HasPrefix(u.PasswordHash, "$pbkdf2-sha256$") || strings.Count(u.PasswordHash, "$") != 4 {
			key := p + "password_hash"
			if _, ok := v.c.pos[key]; !ok {
				key = "user[" + strconv.Itoa(i) + "]"
			}
			v.fail(key, "must be a hash printed by `smppd passwd` ($pbkdf2-sha256$<iterations>$<salt>$<hash>)")
		}
		if len(u.BindTypes) == 0 {
			v.fail(p+"bind_types", "must list at least one of transmitter, receiver, transceiver")
		}
		dup := map[string]bool{}
		for _, bt := range u.BindTypes {
			if !bindTypeNames[bt] {
				v.fail(p+"bind_types", "unknown bind type %q (use transmitter, receiver, transceiver)", bt)
			} else if dup[bt] {
				v.fail(p+"bind_types", "%q is listed twice", bt)
			}
			dup[bt] = true
		}
		v.intRange(p+"max_binds", u.MaxBinds, 0, 1<<20)
		u.AllowPrefixes = u.AllowPrefixes[:0]
		for _, s := range u.AllowIPs {
			pfx, err := parsePrefix(s)
			if err != nil {
				v.fail(p+"allow_ips", "%q is not an address or CIDR", s)
				continue
			}
			u.AllowPrefixes = append(u.AllowPrefixes, pfx)
		}
		v.userLimits(u, p, groups, dup)
	}
}

// userLimits checks the keys of issue 5: group, per-type binds, source
// addresses, receipts and the sending limits.
func (v *validator) userLimits(u *User, p string, groups, bindTypes map[string]bool) {
	if u.Group != "" && !groups[u.Group] && !v.usersOnly {
		v.fail(p+"group", "unknown group %q (define it in a [[group]] table)", u.Group)
	}
	for _, bt := range []struct {
		name string
		n    int
	}{{"transmitter", u.MaxBindsPerType.Transmitter}, {"receiver", u.MaxBindsPerType.Receiver}, {"transceiver", u.MaxBindsPerType.Transceiver}} {
		key := p + "max_binds_per_type." + bt.name
		v.intRange(key, bt.n, 0, 1<<20)
		if bt.n > 0 && !bindTypes[bt.name] {
			v.warn("%s: a limit for %s binds, which bind_types does not allow", key, bt.name)
		}
		if bt.n > 0 && u.MaxBinds > 0 && bt.n > u.MaxBinds {
			v.warn("%s: %d exceeds max_binds (%d)", key, bt.n, u.MaxBinds)
		}
	}
	if len(u.DefaultSource) > maxAddrLen || !addrChars(u.DefaultSource) {
		v.fail(p+"default_source", "must be at most %d characters without control characters, got %q", maxAddrLen, u.DefaultSource)
	}
	patsOK := true
	for _, pat := range u.SourceAddrs {
		if err := checkSourcePattern(pat); err != nil {
			v.fail(p+"source_addrs", "%q: %v", pat, err)
			patsOK = false
		}
	}
	if patsOK && u.DefaultSource != "" && !sourceAllowed(u.SourceAddrs, u.DefaultSource) {
		v.fail(p+"default_source", "%q is not allowed by source_addrs", u.DefaultSource)
	}
	if !(u.Throughput >= 0) || math.IsInf(u.Throughput, 1) || u.Throughput > 1e9 {
		v.fail(p+"throughput", "must be a number of parts per second, 0 (unlimited) to 1e9, got %v", u.Throughput)
	}
	v.intRange(p+"burst", u.Burst, 0, 1<<30)
	if u.Burst > 0 && u.Throughput == 0 {
		v.warn("%sburst: %d has no effect without a throughput", p, u.Burst)
	}
	if err := checkAmount(u.Balance); err != nil {
		v.fail(p+"balance", "%v, got %q", err, u.Balance)
	}
	if u.Quota < 0 {
		v.fail(p+"quota", "%d must be >= 0 (0 = unlimited)", u.Quota)
	}
	if u.QuotaUsed < 0 {
		v.fail(p+"quota_used", "%d must be >= 0", u.QuotaUsed)
	}
	v.intRange(p+"max_priority", u.MaxPriority, 0, 3)
}

// checkSourcePattern checks one source_addrs entry as accounts compiles
// it: "exact", "prefix*" ("*" alone = any) or "re:<RE2>", anchored.
func checkSourcePattern(pat string) error {
	if re, ok := strings.CutPrefix(pat, "re:"); ok {
		if re == "" {
			return errors.New("empty regular expression")
		}
		_, err := regexp.Compile(`^(?:` + re + `)$`)
		return err
	}
	lit := strings.TrimSuffix(pat, "*")
	switch {
	case pat == "":
		return errors.New("empty pattern (leave source_addrs empty, or write \"*\", to allow any source)")
	case strings.Contains(lit, "*"):
		return errors.New("'*' is allowed only at the end (use \"re:<regexp>\" for more)")
	case len(lit) > maxAddrLen || !addrChars(lit):
		return fmt.Errorf("must be at most %d characters without control characters", maxAddrLen)
	}
	return nil
}

// sourceAllowed reports whether addr passes one of pats (all valid).
func sourceAllowed(pats []string, addr string) bool {
	for _, pat := range pats {
		if re, ok := strings.CutPrefix(pat, "re:"); ok {
			if regexp.MustCompile(`^(?:` + re + `)$`).MatchString(addr) {
				return true
			}
		} else if lit, prefix := strings.CutSuffix(pat, "*"); prefix && strings.HasPrefix(addr, lit) || pat == addr {
			return true
		}
	}
	return false
}

// checkAmount accepts what accounts.ParseAmount does: "unlimited" (any
// case) or a non-negative decimal with at most 6 decimals.
func checkAmount(s string) error {
	errAmount := errors.New(`must be "unlimited" or a non-negative decimal with at most 6 decimals`)
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "unlimited") {
		return nil
	}
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "+"), ".")
	if whole == "" && (!dot || frac == "") || len(frac) > 6 || !digits(whole) || !digits(frac) {
		return errAmount
	}
	// accounts keeps micro-units in an int64.
	if n, err := strconv.ParseInt(whole, 10, 64); whole != "" && (err != nil || n > math.MaxInt64/1_000_000-1) {
		return errors.New("is too large")
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// addrChars reports whether s has no NUL or other control character.
func addrChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validName is the rule for connector, group and route names:
// [A-Za-z0-9_.:-]{1,64}.
func validName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
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

// parsePrefix accepts "10.0.0.0/8", "2001:db8::/32" or a bare address.
// The prefix is masked, and an IPv4-mapped IPv6 address is unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
