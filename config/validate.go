package config

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
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
// derives LogTimeLayout, TLS MinVersionID, user AllowPrefixes and resolves
// the TLS file paths against the config's directory. Problems that are legal
// but probably unintended are appended to Warnings. Load calls it; call it
// yourself only on a Config you built in code.
func (c *Config) Validate() error {
	v := validator{c: c}
	v.server()
	v.tls()
	v.bindLimits()
	v.auth()
	v.users()
	return v.errs.err()
}

type validator struct {
	c    *Config
	errs errList
}

func (v *validator) fail(key, format string, args ...any) {
	p := v.c.pos[key]
	if p.file == "" {
		p.file = v.c.Path
	}
	v.errs.add(&Error{File: p.file, Line: p.line, Key: key, Msg: fmt.Sprintf(format, args...)})
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
	v.intRange(p+"deliver_window", s.DeliverWindow, 1, 1<<16)
	v.intRange(p+"max_connections", s.MaxConnections, 0, 1<<24)
	v.intRange(p+"max_connections_per_ip", s.MaxConnectionsPerIP, 0, 1<<24)
	if s.MaxConnections > 0 && s.MaxConnectionsPerIP > s.MaxConnections {
		v.warn("smpp-server: max_connections_per_ip (%d) exceeds max_connections (%d)", s.MaxConnectionsPerIP, s.MaxConnections)
	}
	if s.MaxOutboundBacklog < s.MaxPDULen {
		v.fail(p+"max_outbound_backlog", "%d bytes is less than max_pdu_len (%d): the backlog must hold at least one PDU", s.MaxOutboundBacklog, s.MaxPDULen)
	}
	if s.ShutdownGrace.D() > time.Hour {
		v.fail(p+"shutdown_grace", "%v is longer than 1h", s.ShutdownGrace)
	}
	if t := s.Tick.D(); t < time.Millisecond || t > time.Second {
		v.fail(p+"tick", "%v is out of range 1ms..1s", s.Tick)
	}
	v.intRange(p+"node_id", s.NodeID, 0, 4095)
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
func (v *validator) resolve(path string) string {
	if filepath.IsAbs(path) || v.c.Path == "" {
		return path
	}
	return filepath.Join(filepath.Dir(v.c.Path), path)
}

func (v *validator) bindLimits() {
	b := &v.c.BindLimits
	const p = "bind-limits."
	v.intRange(p+"slow_after", b.SlowAfter, 0, 1<<20)
	v.intRange(p+"block_after", b.BlockAfter, 0, 1<<20)
	if (b.SlowAfter > 0 || b.BlockAfter > 0) && b.FailWindow <= 0 {
		v.fail(p+"fail_window", "must be > 0 when slow_after or block_after is set")
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
	if b.BlockAfter > 0 && b.BlockFor <= 0 {
		v.fail(p+"block_for", "must be > 0 when block_after is set")
	}
	if b.BlockAfter > 0 && b.SlowAfter > b.BlockAfter {
		v.warn("bind-limits: slow_after (%d) > block_after (%d): keys are blocked before they are ever slowed", b.SlowAfter, b.BlockAfter)
	}
	v.intRange(p+"max_keys", b.MaxKeys, 1, 1<<24)
}

func (v *validator) auth() {
	a := &v.c.Auth
	v.intRange("auth.cache_size", a.CacheSize, 0, 1<<24)
	v.intRange("auth.workers", a.Workers, 1, 1024)
}

var bindTypeNames = map[string]bool{"transmitter": true, "receiver": true, "transceiver": true}

func (v *validator) users() {
	if len(v.c.Users) == 0 {
		v.warn("no users are configured: every bind will be refused")
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
	}
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
