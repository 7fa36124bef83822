package config

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/testcert"
)

// tlsConfig is a config enabling TLS with cert.pem and key.pem (and any
// extra lines of [smpp-server.tls]).
func tlsConfig(extra string) string {
	return "[smpp-server.tls]\nenabled = true\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n" + extra
}

func TestTLSFilesLoaded(t *testing.T) {
	server := testcert.New(t, testcert.Options{})
	ca := testcert.New(t, testcert.Options{CA: true})
	c, err := Load(writeConfig(t, map[string]string{
		"smppd.toml": tlsConfig("client_auth = \"require\"\nclient_ca_file = \"ca.pem\"\n") + user("a"),
		"cert.pem":   string(server.CertPEM), "key.pem": string(server.KeyPEM), "ca.pem": string(ca.CertPEM),
	}))
	if err != nil {
		t.Fatal(err)
	}
	tc := c.Server.TLS
	if tc.Certificate == nil || !tc.Certificate.Leaf.Equal(server.Leaf) || tc.ClientAuthType != tls.RequireAndVerifyClientCert || tc.ClientCAs == nil {
		t.Fatalf("tls %+v", tc)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// The key and certificate may come from the environment (PEM text).
func TestTLSFilesFromEnv(t *testing.T) {
	server := testcert.New(t, testcert.Options{})
	t.Setenv("SMPPD_TEST_CERT", string(server.CertPEM))
	t.Setenv("SMPPD_TEST_KEY", string(server.KeyPEM))
	c, err := Load(writeConfig(t, map[string]string{
		"smppd.toml": "[smpp-server.tls]\nenabled = true\ncert_file = \"env:SMPPD_TEST_CERT\"\nkey_file = \"env:SMPPD_TEST_KEY\"\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tc := c.Server.TLS; tc.Certificate == nil || !tc.Certificate.Leaf.Equal(server.Leaf) || tc.KeyFile != "env:SMPPD_TEST_KEY" {
		t.Fatalf("tls %+v", tc)
	}
}

// Each broken TLS setting is refused at its key and line.
func TestTLSFilesRefused(t *testing.T) {
	good := testcert.New(t, testcert.Options{})
	other := testcert.New(t, testcert.Options{})
	expired := testcert.New(t, testcert.Options{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	cases := []struct {
		name             string
		extra, cert, key string
		ca               string
		want             string
	}{
		{"key of another certificate", "", string(good.CertPEM), string(other.KeyPEM), "", ":4: smpp-server.tls.key_file: tls: private key does not match public key"},
		{"no certificate", "", "not a pem", string(good.KeyPEM), "", ":3: smpp-server.tls.cert_file: does not start with a PEM CERTIFICATE block"},
		{"expired", "", string(expired.CertPEM), string(expired.KeyPEM), "", ":3: smpp-server.tls.cert_file: certificate \"CN=smppd test\" expired on "},
		{"unknown client_auth", "client_auth = \"optional\"\n", string(good.CertPEM), string(good.KeyPEM), "", `:5: smpp-server.tls.client_auth: must be "none", "request" or "require", got "optional"`},
		{"client_auth without CAs", "client_auth = \"request\"\n", string(good.CertPEM), string(good.KeyPEM), "", `:5: smpp-server.tls.client_auth: "request" needs client_ca_file`},
		{"CAs without client_auth", "client_ca_file = \"ca.pem\"\n", string(good.CertPEM), string(good.KeyPEM), string(good.CertPEM), `:5: smpp-server.tls.client_ca_file: has no effect with client_auth = "none"`},
		{"CA file without a certificate", "client_auth = \"require\"\nclient_ca_file = \"ca.pem\"\n", string(good.CertPEM), string(good.KeyPEM), "junk", ":6: smpp-server.tls.client_ca_file: holds no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"smppd.toml": tlsConfig(tc.extra), "cert.pem": tc.cert, "key.pem": tc.key}
			if tc.ca != "" {
				files["ca.pem"] = tc.ca
			}
			_, err := Load(writeConfig(t, files))
			wantErr(t, err, tc.want)
			if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}

func TestTLSWarnings(t *testing.T) {
	soon := testcert.New(t, testcert.Options{NotAfter: time.Now().Add(12*24*time.Hour + time.Hour)})
	src := tlsConfig("") + user("esme") + "auth = \"cert\"\ncert_subjects = [\"CN=esme\"]\n"
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src, "cert.pem": string(soon.CertPEM), "key.pem": string(soon.KeyPEM)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`smpp-server.tls.cert_file: certificate "CN=smppd test" expires in 12 days`,
		`user[0] "esme": auth = "cert", but the TLS listener asks for no client certificate`} {
		found := false
		for _, got := range c.Warnings {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("no warning %q in %q", w, c.Warnings)
		}
	}
}
