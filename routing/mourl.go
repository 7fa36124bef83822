package routing

import (
	"net/url"
	"strings"
)

// Limits of an MO route's URL target.
const (
	maxURLLen     = 2048 // as storage.MaxCallbackURL
	maxAckBodyLen = 255
	minSecretLen  = 16 // an HMAC key shorter than this is guessable
	maxSecretLen  = 1024
)

// moTarget checks a URL route's keys (url, method, ack_body, secret) and
// returns its method, "GET" or "POST"; the keys other than url belong to
// URL routes only.
func (c *compiler) moTarget(rc *MORouteConfig) string {
	if rc.URL == "" {
		for _, k := range [...]struct{ key, val string }{{"method", rc.Method}, {"ack_body", rc.AckBody}, {"secret", rc.Secret}} {
			if k.val != "" {
				c.failf(k.key, ErrURL, "only a route with a url takes "+k.key)
			}
		}
		return ""
	}
	if !validURL(rc.URL) {
		c.failf("url", ErrURL, "must be an absolute http:// or https:// URL with a host, at most 2048 octets")
	}
	method := strings.ToUpper(rc.Method)
	switch method {
	case "":
		method = "POST"
	case "GET", "POST":
	default:
		c.failf("method", ErrURL, "must be GET or POST, got "+quote(rc.Method))
	}
	if len(rc.AckBody) > maxAckBodyLen || !printable(rc.AckBody) {
		c.failf("ack_body", ErrURL, "at most 255 printable ASCII octets")
	}
	if rc.Secret != "" && (len(rc.Secret) < minSecretLen || len(rc.Secret) > maxSecretLen) {
		c.failf("secret", ErrURL, "must be 16..1024 octets")
	}
	return method
}

// validURL reports whether s is an absolute http or https URL with a host.
func validURL(s string) bool {
	if len(s) > maxURLLen {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// printable reports whether s is printable ASCII.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// MORoute returns the MO route named name, or nil.
func (t *Table) MORoute(name string) *MORoute {
	if t == nil {
		return nil
	}
	for _, r := range t.mo {
		if r.Name == name {
			return r
		}
	}
	return nil
}
