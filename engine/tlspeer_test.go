package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// peerAuth grants every bind and records the Peer each one carried.
type peerAuth struct {
	mu    sync.Mutex
	peers []*TLSPeer
}

func (a *peerAuth) Authenticate(req BindRequest) (Principal, codec.Status) {
	a.mu.Lock()
	a.peers = append(a.peers, req.Peer)
	a.mu.Unlock()
	return &fakePrincipal{id: req.SystemID, a: newAuth()}, codec.StatusOK
}

func (a *peerAuth) last() *TLSPeer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.peers[len(a.peers)-1]
}

// clientCert issues a client certificate named subject, signed by ca.
func clientCert(t *testing.T, ca tls.Certificate, subject pkix.Name) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Leaf, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// caCert is a self-signed CA that may sign client certificates.
func caCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "smppd test clients CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// The certificate a TLS client presented and the listener verified reaches
// the Authenticator as BindRequest.Peer; no certificate, an unverified
// one and a plain TCP bind carry none.
func TestTLSPeerReachesAuthenticator(t *testing.T) {
	t.Parallel()
	server, pool := selfSigned(t)
	ca := caCert(t)
	clients := x509.NewCertPool()
	clients.AddCert(ca.Leaf)
	a := &peerAuth{}
	ts := start(t, func(o *Options) {
		o.TLSAddr = "127.0.0.1:0"
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{server}, MinVersion: tls.VersionTLS12,
			ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clients}
		o.Authenticator = a
	})
	bind := func(cert *tls.Certificate) *TLSPeer {
		t.Helper()
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		nc, err := tls.Dial("tcp", ts.TLSListenAddr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := smpptest.NewClient(nc)
		defer c.Close()
		if h, _, err := c.Bind(codec.BindTransceiverID, "esme", "pw", 0x34); err != nil || h.Status != codec.StatusOK {
			t.Fatalf("bind: %v %v", h.Status, err)
		}
		return a.last()
	}
	esme := clientCert(t, ca, pkix.Name{CommonName: "esme1", Organization: []string{"Acme"}})
	p := bind(&esme)
	if p == nil || p.Subject != "CN=esme1,O=Acme" || p.SHA256 != sha256.Sum256(esme.Certificate[0]) {
		t.Fatalf("peer %+v", p)
	}
	if p := bind(nil); p != nil {
		t.Fatalf("a client without a certificate carried %+v", p)
	}
	// Signed by nobody the listener trusts: the handshake fails, no bind.
	rogue := clientCert(t, caCert(t), pkix.Name{CommonName: "esme1", Organization: []string{"Acme"}})
	nc, err := tls.Dial("tcp", ts.TLSListenAddr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{rogue}})
	if err == nil {
		// TLS 1.3 reports the client's refusal on the first read.
		c := smpptest.NewClient(nc)
		if h, _, err := c.Bind(codec.BindTransceiverID, "esme", "pw", 0x34); err == nil && h.Status == codec.StatusOK {
			t.Fatal("a certificate from an untrusted CA bound")
		}
		_ = c.Close()
	}
	tcp, err := net.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := smpptest.NewClient(tcp)
	defer c.Close()
	if h, _, err := c.Bind(codec.BindTransceiverID, "esme", "pw", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("tcp bind: %v %v", h.Status, err)
	}
	if p := a.last(); p != nil {
		t.Fatalf("a TCP bind carried %+v", p)
	}
}
