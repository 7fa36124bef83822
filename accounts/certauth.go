package accounts

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// AuthMethod is what a bind of the user must prove.
type AuthMethod uint8

// Authentication methods (the users file's auth key).
const (
	// AuthPassword: the bind's password (the default).
	AuthPassword AuthMethod = iota
	// AuthCert: a verified TLS client certificate pinned by the user's
	// CertSubjects or CertSHA256; the bind's password is not checked.
	AuthCert
	// AuthPasswordCert: the password and a pinned certificate.
	AuthPasswordCert
)

// String returns the users file's spelling.
func (m AuthMethod) String() string {
	switch m {
	case AuthPassword:
		return "password"
	case AuthCert:
		return "cert"
	case AuthPasswordCert:
		return "password+cert"
	}
	return "AuthMethod(invalid)"
}

// needsCert reports whether m checks a client certificate.
func (m AuthMethod) needsCert() bool { return m == AuthCert || m == AuthPasswordCert }

// needsPassword reports whether m checks the bind's password.
func (m AuthMethod) needsPassword() bool { return m != AuthCert }

// parseAuthMethod reads the users file's auth key ("" is the default).
func parseAuthMethod(s string) (AuthMethod, bool) {
	switch s {
	case "", "password":
		return AuthPassword, true
	case "cert":
		return AuthCert, true
	case "password+cert":
		return AuthPasswordCert, true
	}
	return 0, false
}

// PeerCert is the TLS client certificate a bind came with, after the
// listener verified it against its client CAs; nil for a plain TCP bind or
// a TLS client that sent none.
type PeerCert struct {
	// Subject as crypto/x509's pkix.Name.String writes it (RFC 2253
	// order: "CN=esme1,O=Acme,C=DE").
	Subject string
	// SHA256 of the DER certificate.
	SHA256 [32]byte
}

// certMatches reports whether peer is pinned by u: its subject is one of
// CertSubjects or its fingerprint one of CertSHA256.
func (u *User) certMatches(peer *PeerCert) bool {
	if peer == nil {
		return false
	}
	for _, s := range u.CertSubjects {
		if s == peer.Subject {
			return true
		}
	}
	for i := range u.CertSHA256 {
		if subtle.ConstantTimeCompare(u.CertSHA256[i][:], peer.SHA256[:]) == 1 {
			return true
		}
	}
	return false
}

// ParseFingerprint reads a SHA-256 certificate fingerprint: 64 hex digits,
// upper or lower case, optionally in colon-separated pairs as `openssl
// x509 -noout -fingerprint -sha256` prints them (its "sha256 Fingerprint="
// label and a "sha256:" prefix are accepted too).
func ParseFingerprint(s string) ([32]byte, error) {
	var out [32]byte
	t := strings.TrimSpace(s)
	if _, v, ok := strings.Cut(t, "="); ok && strings.HasPrefix(strings.ToLower(t), "sha256 fingerprint=") {
		t = v
	}
	t = strings.TrimPrefix(strings.ToLower(t), "sha256:")
	t = strings.ReplaceAll(t, ":", "")
	if len(t) != 64 {
		return out, fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits, colons allowed)", s)
	}
	if _, err := hex.Decode(out[:], []byte(t)); err != nil {
		return out, fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits, colons allowed)", s)
	}
	return out, nil
}

// FormatFingerprint writes f as ParseFingerprint reads it back: 64
// lower-case hex digits in colon-separated pairs.
func FormatFingerprint(f [32]byte) string {
	var b strings.Builder
	for i, c := range f {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex.EncodeToString([]byte{c}))
	}
	return b.String()
}

// checkCertAuth checks auth, cert_subjects and cert_fingerprints: a
// certificate method needs at least one pin, and pins need a certificate
// method (else they would be silently ignored).
func checkCertAuth(u *User, c *Check) {
	pins := len(u.CertSubjects) + len(u.CertSHA256)
	switch {
	case u.Auth.needsCert() && pins == 0:
		c.fail("auth", "%q needs cert_subjects or cert_fingerprints: which client certificate may bind as this user", u.Auth)
	case !u.Auth.needsCert() && pins > 0:
		key := "cert_subjects"
		if len(u.CertSubjects) == 0 {
			key = "cert_fingerprints"
		}
		c.fail(key, "applies with auth = \"cert\" or \"password+cert\" only, auth is %q", u.Auth)
	}
	for _, s := range u.CertSubjects {
		if s == "" || !strings.Contains(s, "=") {
			c.fail("cert_subjects", "%q is not a subject such as \"CN=esme1,O=Acme\"", s)
		}
	}
}
