// Package testcert issues throw-away certificates for tests: self-signed
// ones, a CA, and server or client certificates it signs, as
// tls.Certificates and as PEM for config files.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Options describe one certificate; the zero value is a server
// certificate for 127.0.0.1 and ::1, valid from an hour ago for a year
// (longer than config's expiry warning), self-signed.
type Options struct {
	Subject   pkix.Name // CommonName "smppd test" when empty
	Parent    *Cert     // signer; nil = self-signed
	CA        bool      // may sign certificates
	Client    bool      // for TLS client authentication instead of a server
	NotBefore time.Time // zero = an hour ago
	NotAfter  time.Time // zero = a year from now
}

// Cert is an issued certificate with its key.
type Cert struct {
	Leaf    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// New issues a certificate as o says.
func New(t testing.TB, o Options) *Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      o.Subject,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if tmpl.Subject.CommonName == "" && len(tmpl.Subject.Organization) == 0 {
		tmpl.Subject.CommonName = "smppd test"
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.AddDate(1, 0, 0)
	}
	switch {
	case o.CA:
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	case o.Client:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	parent, signer := tmpl, key
	if o.Parent != nil {
		parent, signer = o.Parent.Leaf, o.Parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{
		Leaf:    leaf,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}
}

// TLS is c as crypto/tls serves or presents it.
func (c *Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.Key, Leaf: c.Leaf}
}

// Pool is a pool trusting c.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Leaf)
	return p
}

// SHA256 is the fingerprint of c's DER certificate.
func (c *Cert) SHA256() [32]byte { return sha256.Sum256(c.Leaf.Raw) }

// Write writes c's certificate and key as certName and keyName in dir
// (0600) and returns their paths.
func (c *Cert) Write(t testing.TB, dir, certName, keyName string) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, certName), filepath.Join(dir, keyName)
	if err := os.WriteFile(certPath, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
