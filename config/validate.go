package config

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/smppd/smppd/msg"
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
// derives LogTimeLayout, TLS MinVersionID, each user's Account (parsed by
// accounts) and ReceiptLocation, resolves file paths against the config's directory,
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
	v.httpAPI()
	v.cdr()
	v.webhook()
	v.cluster()
	v.proxyProtocol()
	v.policy()
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
	if n := len(s.ID); n < 1 || n > 15 || !msg.PrintableNoSpace(s.ID) {
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
	if s.ReusePort && (v.c.Storage.Kind != StorageDisk || v.c.Cluster.Enabled) {
		// The data-directory lock is what hands the traffic over: without
		// it two processes would serve the port side by side.
		v.fail(p+"reuse_port", "needs [storage] kind = \"disk\" and no [cluster]: the data directory's lock orders the hand-over")
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
	v.clientAuth(t)
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
	v.tlsFiles(t)
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

// validName is the rule for connector and route names, and the one
// accounts applies to group names: [A-Za-z0-9_.:-]{1,64}.
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
