package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strconv"
	"time"
)

// Values of [smpp-server.tls] client_auth.
const (
	ClientAuthNone    = "none"    // no client certificate is asked for
	ClientAuthRequest = "request" // one is asked for and verified when sent
	ClientAuthRequire = "require" // a handshake without a verified one fails
)

// CertExpiryWarning: a certificate that expires sooner is warned about at
// every load (start, SIGHUP, -check-config), so a renewal that did not
// happen is seen while there is time.
const CertExpiryWarning = 30 * 24 * time.Hour

// clientAuth checks client_auth, and warns about users whose auth needs a
// client certificate the listener never asks for.
func (v *validator) clientAuth(t *TLS) {
	const p = "smpp-server.tls."
	switch t.ClientAuth {
	case ClientAuthNone:
		t.ClientAuthType = tls.NoClientCert
	case ClientAuthRequest:
		t.ClientAuthType = tls.VerifyClientCertIfGiven
	case ClientAuthRequire:
		t.ClientAuthType = tls.RequireAndVerifyClientCert
	default:
		v.fail(p+"client_auth", "must be %q, %q or %q, got %q", ClientAuthNone, ClientAuthRequest, ClientAuthRequire, t.ClientAuth)
	}
	if t.Enabled && t.ClientAuthType != tls.NoClientCert {
		return
	}
	for i, u := range v.c.Users {
		if u.Auth == "cert" || u.Auth == "password+cert" {
			v.warn("user[%d] %q: auth = %q, but the TLS listener asks for no client certificate ([smpp-server.tls] enabled and client_auth): it cannot bind",
				i, u.SystemID, u.Auth)
		}
	}
}

// tlsFiles reads the listener's certificate, key and client CAs (paths or
// SecretFile references) and checks them as the handshakes will: the key
// must match the certificate, which must be valid now; the CA file must
// hold at least one certificate. TLS is enabled.
func (v *validator) tlsFiles(t *TLS) {
	const p = "smpp-server.tls."
	certPEM := v.tlsFile(p+"cert_file", &t.CertFile)
	keyPEM := v.tlsFile(p+"key_file", &t.KeyFile)
	if certPEM != nil && keyPEM != nil {
		v.keyPair(t, certPEM, keyPEM)
	}
	if t.ClientAuthType == tls.NoClientCert {
		if t.ClientCAFile != "" {
			v.fail(p+"client_ca_file", "has no effect with client_auth = %q", ClientAuthNone)
		}
		return
	}
	if t.ClientCAFile == "" {
		v.fail(p+"client_auth", "%q needs client_ca_file: the CAs client certificates must chain to", t.ClientAuth)
		return
	}
	ca := v.tlsFile(p+"client_ca_file", &t.ClientCAFile)
	if ca == nil {
		return
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		v.fail(p+"client_ca_file", "holds no PEM certificate")
		return
	}
	t.ClientCAs = pool
}

// tlsFile reads one TLS file key; a path is made absolute against the
// config's directory in place. nil after a failure.
func (v *validator) tlsFile(key string, val *string) []byte {
	if *val == "" {
		v.fail(key, "is required when TLS is enabled")
		return nil
	}
	b, from, err := v.c.SecretFile(*val)
	if err != nil {
		v.fail(key, "%v", err)
		return nil
	}
	if !IsSecretRef(*val) {
		*val = from
	}
	return b
}

// keyPair matches the key to the certificate and checks the leaf's dates.
func (v *validator) keyPair(t *TLS, certPEM, keyPEM []byte) {
	const p = "smpp-server.tls."
	if blk, _ := pem.Decode(certPEM); blk == nil || blk.Type != "CERTIFICATE" {
		v.fail(p+"cert_file", "does not start with a PEM CERTIFICATE block")
		return
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls names what is wrong (no key, wrong type, not the
		// certificate's key) and never the key.
		v.fail(p+"key_file", "%v", err)
		return
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			v.fail(p+"cert_file", "%v", err)
			return
		}
		pair.Leaf = leaf
	}
	now := time.Now()
	switch left := leaf.NotAfter.Sub(now); {
	case left <= 0:
		v.fail(p+"cert_file", "certificate %q expired on %s: TLS clients refuse it", leaf.Subject, leaf.NotAfter.UTC().Format(time.DateOnly))
		return
	case left < CertExpiryWarning:
		v.warn("%scert_file: certificate %q expires in %s days (%s)", p, leaf.Subject, strconv.Itoa(int(left.Hours()/24)),
			leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(leaf.NotBefore) {
		v.warn("%scert_file: certificate %q is not valid before %s: check the clock", p, leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	t.Certificate = &pair
}

// CertExpiry describes when t's certificate expires, for summaries: ""
// without one.
func (t *TLS) CertExpiry() string {
	if t.Certificate == nil || t.Certificate.Leaf == nil {
		return ""
	}
	l := t.Certificate.Leaf
	return fmt.Sprintf("%s, expires %s", l.Subject, l.NotAfter.UTC().Format(time.DateOnly))
}
