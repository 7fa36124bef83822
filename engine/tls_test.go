package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smppd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func TestTLSSessionBehavesLikeTCP(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.TLSAddr = "127.0.0.1:0"
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		o.Deliveries = k
		o.PDUReadTimeout = 300 * time.Millisecond
	})
	dial := func() *smpptest.Client {
		nc, err := tls.Dial("tcp", ts.TLSListenAddr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		c := smpptest.NewClient(nc)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	c := dial()
	h, f, err := c.Bind(codec.BindTransceiverID, "user", "secret", 0x34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind over tls: %v %v", h.Status, err)
	}
	var br codec.BindResp
	if err := br.Decode(f[codec.HeaderLen:]); err != nil || string(br.SystemID) != "smppd" {
		t.Fatalf("bind_resp %q %v", br.SystemID, err)
	}
	mustSend(t, c, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "over tls"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	// Deliveries reach TLS sessions through the same window.
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "mo"), Ref: 1}); err != nil {
		t.Fatal(err)
	}
	dh, _ := mustExpect(t, c, codec.DeliverSMID, codec.StatusOK)
	mustSend(t, c, codec.DeliverSMRespID, dh.Sequence, []byte{0})
	eventually(t, "tls delivery", func() bool { o, ok := k.get(1); return ok && o.err == nil })
	mustSend(t, c, codec.UnbindID, 3, nil)
	mustExpect(t, c, codec.UnbindRespID, codec.StatusOK)
	mustClosed(t, c)
	ts.logs.waitLog(t, `"event":"bind"`, `"tls":true`, `"remote":"127.0.0.1:`)

	// Timers apply too: a partial PDU over TLS is dropped by the PDU read timer.
	p := dial()
	if err := p.Write([]byte{0, 0, 0, 30, 0}); err != nil {
		t.Fatal(err)
	}
	mustClosed(t, p)
	ts.logs.waitLog(t, `"reason":"pdu_read_timeout"`)
	// And the per-IP limit counts TLS peers by their real address.
	if ts.Stats().Sessions != 0 {
		eventually(t, "sessions closed", func() bool { return ts.Stats().Sessions == 0 })
	}
}
