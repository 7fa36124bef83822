package config

import (
	"net/netip"
	"time"
)

// Bounds of [http-api]; see docs/CONFIG.md.
const (
	minHTTPBody = Size(4 << 10)  // a /send form with a long content
	maxHTTPBody = Size(64 << 20) // a mistyped unit
	// A batch of 1,000 short messages as JSON is about 150 KiB.
	batchHTTPBody     = Size(512 << 10)
	minHTTPTimeout    = time.Second
	maxHTTPTimeout    = 10 * time.Minute
	maxHTTPIdle       = time.Hour
	maxHTTPConns      = 1_000_000
	maxIdemKeys       = 10_000_000
	minIdemTTL        = time.Minute
	maxIdemTTL        = 30 * 24 * time.Hour
	maxLongParts      = 255 // the concatenation counters are one octet
	defaultHTTPAPIKey = "http-api."
)

func (v *validator) httpAPI() {
	h := &v.c.HTTPAPI
	const p = defaultHTTPAPIKey
	addr, err := netip.ParseAddr(h.Bind)
	if err != nil {
		v.fail(p+"bind", "must be an IP address literal such as 127.0.0.1, got %q", h.Bind)
	}
	v.intRange(p+"port", h.Port, 1, 65535)
	v.intRange(p+"long_content_max_parts", h.LongContentMaxParts, 1, maxLongParts)
	switch h.LongContentSplit {
	case SplitUDH, SplitSAR:
	default:
		v.fail(p+"long_content_split", "must be %q or %q, got %q", SplitUDH, SplitSAR, h.LongContentSplit)
	}
	if h.MaxBody < minHTTPBody || h.MaxBody > maxHTTPBody {
		v.fail(p+"max_body", "%v is out of range %v..%v", h.MaxBody, minHTTPBody, maxHTTPBody)
	}
	for _, t := range []struct {
		key    string
		d      Duration
		lo, hi time.Duration
	}{
		{"read_timeout", h.ReadTimeout, minHTTPTimeout, maxHTTPTimeout},
		{"write_timeout", h.WriteTimeout, minHTTPTimeout, maxHTTPTimeout},
		{"idle_timeout", h.IdleTimeout, minHTTPTimeout, maxHTTPIdle},
		{"idempotency_ttl", h.IdempotencyTTL, minIdemTTL, maxIdemTTL},
	} {
		if d := t.d.D(); d < t.lo || d > t.hi {
			v.fail(p+t.key, "%v is out of range %v..%v", t.d, t.lo, t.hi)
		}
	}
	v.intRange(p+"max_connections", h.MaxConnections, 1, maxHTTPConns)
	v.intRange(p+"idempotency_keys", h.IdempotencyKeys, 0, maxIdemKeys)
	if !h.Enabled || err != nil {
		return
	}
	if h.MaxBody >= minHTTPBody && h.MaxBody < batchHTTPBody {
		v.warn("http-api: max_body %v is below %v: a POST /v1/messages batch of 1,000 messages may not fit", h.MaxBody, batchHTTPBody)
	}
	if addr.IsUnspecified() || !addr.IsLoopback() {
		v.warn("http-api: bind %s is reachable from other hosts: users' passwords travel in clear text unless a TLS proxy fronts the API", h.Bind)
	}
	s := &v.c.Server
	if h.Port == s.Port && overlaps(h.Bind, s.Bind) {
		v.fail(p+"port", "%d is also the SMPP port", h.Port)
	}
	if tb := s.TLS.Bind; s.TLS.Enabled && h.Port == s.TLS.Port {
		if tb == "" {
			tb = s.Bind
		}
		if overlaps(h.Bind, tb) {
			v.fail(p+"port", "%d is also the SMPP-over-TLS port", h.Port)
		}
	}
	if a := &v.c.Admin; a.Enabled && h.Port == a.Port && overlaps(h.Bind, a.Bind) {
		v.fail(p+"port", "%d is also the admin API's port", h.Port)
	}
}
