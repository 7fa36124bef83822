package main

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/internal/testcert"
)

// tlsDir writes a config serving SMPP and SMPP over TLS on free loopback
// ports with a memory store, c.pem and k.pem as the pair, the demo users
// plus usersExtra, and tlsExtra in [smpp-server.tls]. It returns the config
// path and the TLS address.
func tlsDir(t *testing.T, pair *testcert.Cert, tlsExtra, usersExtra string) (cfgPath, tlsAddr string) {
	t.Helper()
	dir := t.TempDir()
	pair.Write(t, dir, "c.pem", "k.pem")
	users, err := os.ReadFile("../../configs/users.toml")
	must(t, err)
	tlsPort := freePort(t)
	src := "[smpp-server]\nport = " + strconv.Itoa(freePort(t)) + "\nlog_file = \"" + filepath.Join(dir, "smppd.log") + "\"\nshutdown_grace = \"1s\"\n" +
		"[smpp-server.tls]\nenabled = true\nport = " + strconv.Itoa(tlsPort) + "\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n" + tlsExtra +
		"[storage]\nkind = \"memory\"\n"
	cfgPath = filepath.Join(dir, "smppd.toml")
	must(t, os.WriteFile(cfgPath, []byte(src), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "users.toml"), append(users, usersExtra...), 0o600))
	return cfgPath, net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
}

// dialTLS connects to addr trusting roots with the client certificate
// given (nil: none) and returns the client and the server's certificate.
func dialTLS(t *testing.T, addr string, roots *x509.CertPool, cert *testcert.Cert) (*smpptest.Client, *x509.Certificate, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{cert.TLS()}
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	nc, err := tls.DialWithDialer(&d, "tcp", addr, cfg)
	if err != nil {
		return nil, nil, err
	}
	c := smpptest.NewClient(nc)
	t.Cleanup(func() { _ = c.Close() })
	return c, nc.ConnectionState().PeerCertificates[0], nil
}

// A certificate renewed on disk is in force for new handshakes after
// SIGHUP while a session made with the old one stays bound; a renewal
// whose key does not match is refused and the certificate in force stays.
// run is main's, with the signals main handles.
func TestTLSCertificateSwappedOnSIGHUP(t *testing.T) {
	certA := testcert.New(t, testcert.Options{Subject: pkix.Name{CommonName: "smppd A"}})
	certB := testcert.New(t, testcert.Options{Subject: pkix.Name{CommonName: "smppd B"}})
	cfgPath, addr := tlsDir(t, certA, "", "")
	dir := filepath.Dir(cfgPath)
	roots := x509.NewCertPool()
	roots.AddCert(certA.Leaf)
	roots.AddCert(certB.Leaf)

	r := startRun(t, cfgPath) // signals to this process land in run (or its guard)

	// until serves: the first TLS session, made with certificate A.
	var old *smpptest.Client
	var leaf *x509.Certificate
	var err error
	for deadline := time.Now().Add(5 * time.Second); old == nil; {
		if old, leaf, err = dialTLS(t, addr, roots, nil); err != nil {
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if h, _, err := old.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	if leaf.Subject.CommonName != "smppd A" {
		t.Fatalf("first session saw %s", leaf.Subject)
	}

	certB.Write(t, dir, "c.pem", "k.pem")
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	served := func(cn string) *smpptest.Client {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			c, leaf, err := dialTLS(t, addr, roots, nil)
			if err == nil && leaf.Subject.CommonName == cn {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("new sessions still see %v (%v), want %s", leaf.Subject, err, cn)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	c := served("smppd B")
	if h, _, err := c.Bind(codec.BindTransceiverID, "demo2", "demopas2", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind after the swap: %v %v", h.Status, err)
	}
	must(t, old.Send(codec.EnquireLinkID, 0, 7, nil))
	if _, _, err := old.Expect(5*time.Second, codec.EnquireLinkRespID, codec.StatusOK); err != nil {
		t.Fatalf("the session made with the old certificate dropped: %v", err)
	}

	// A renewal with the wrong key: the reload fails, B stays.
	mismatched := testcert.New(t, testcert.Options{Subject: pkix.Name{CommonName: "smppd C"}})
	must(t, os.WriteFile(filepath.Join(dir, "c.pem"), mismatched.CertPEM, 0o600))
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	logPath := filepath.Join(dir, "smppd.log")
	waitLog(t, logPath, "smpp-server.tls.key_file: tls: private key does not match public key")
	served("smppd B")

	must(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	if err := r.wait(t, 15*time.Second); err != nil {
		t.Fatalf("run returned %v", err)
	}
	logs, err := os.ReadFile(logPath)
	must(t, err)
	for _, want := range []string{`"event":"tls_reload","subject":"CN=smppd B"`, "previous users, routes and TLS certificate stay in force"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// waitLog waits up to 5 s for want in the log file at path.
func waitLog(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client certificates: users bound by a pinned certificate alone, by a
// certificate and a password, and by a password, on a listener that asks
// for certificates and verifies them against its CA file.
func TestMTLSBinds(t *testing.T) {
	server := testcert.New(t, testcert.Options{})
	ca := testcert.New(t, testcert.Options{CA: true, Subject: pkix.Name{CommonName: "ESME CA"}})
	esme1 := testcert.New(t, testcert.Options{Client: true, Parent: ca, Subject: pkix.Name{CommonName: "esme1", Organization: []string{"Acme"}}})
	esme2 := testcert.New(t, testcert.Options{Client: true, Parent: ca, Subject: pkix.Name{CommonName: "esme2"}})
	rogueCA := testcert.New(t, testcert.Options{CA: true})
	rogue := testcert.New(t, testcert.Options{Client: true, Parent: rogueCA, Subject: pkix.Name{CommonName: "esme1", Organization: []string{"Acme"}}})
	hash, err := accounts.HashPassword("bothpw")
	must(t, err)
	users := "\n[[user]]\nsystem_id = \"certonly\"\nauth = \"cert\"\ncert_subjects = [\"CN=esme1,O=Acme\"]\n" +
		"\n[[user]]\nsystem_id = \"byprint\"\nauth = \"cert\"\ncert_fingerprints = [\"" + accounts.FormatFingerprint(esme2.SHA256()) + "\"]\n" +
		"\n[[user]]\nsystem_id = \"both\"\npassword_hash = \"" + hash + "\"\nauth = \"password+cert\"\ncert_subjects = [\"CN=esme1,O=Acme\"]\n"
	cfgPath, addr := tlsDir(t, server, "client_auth = \"request\"\nclient_ca_file = \"ca.pem\"\n", users)
	must(t, os.WriteFile(filepath.Join(filepath.Dir(cfgPath), "ca.pem"), ca.CertPEM, 0o600))
	d, _, _ := runConfig(t, cfgPath)

	cases := []struct {
		name     string
		cert     *testcert.Cert
		user, pw string
		want     codec.Status
	}{
		{"certificate alone, pinned by subject", esme1, "certonly", "", codec.StatusOK},
		{"certificate alone, any password", esme1, "certonly", "x", codec.StatusOK},
		{"pinned by fingerprint", esme2, "byprint", "", codec.StatusOK},
		{"no certificate", nil, "certonly", "", codec.StatusInvPaswd},
		{"a certificate pinned for another user", esme2, "certonly", "", codec.StatusInvPaswd},
		{"certificate and password", esme1, "both", "bothpw", codec.StatusOK},
		{"certificate, wrong password", esme1, "both", "wrong", codec.StatusInvPaswd},
		{"password without the certificate", nil, "both", "bothpw", codec.StatusInvPaswd},
		{"password user, no certificate", nil, "demo", "demopass", codec.StatusOK},
		{"password user with a certificate", esme1, "demo", "demopass", codec.StatusOK},
	}
	for _, tc := range cases {
		c, _, err := dialTLS(t, addr, server.Pool(), tc.cert)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		h, _, err := c.Bind(codec.BindTransceiverID, tc.user, tc.pw, 0x34)
		if err != nil || h.Status != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.name, h.Status, err, tc.want)
		}
		_ = c.Close()
	}
	// Signed by a CA the listener does not trust: no session at all.
	if c, _, err := dialTLS(t, addr, server.Pool(), rogue); err == nil {
		if h, _, err := c.Bind(codec.BindTransceiverID, "certonly", "", 0x34); err == nil && h.Status == codec.StatusOK {
			t.Fatal("a certificate from an untrusted CA bound")
		}
	}
	// Over plain TCP a certificate user cannot bind.
	if _, st := bindAs(t, d, codec.BindTransceiverID, "certonly", ""); st != codec.StatusInvPaswd {
		t.Fatalf("certificate user over TCP: %v", st)
	}
}
