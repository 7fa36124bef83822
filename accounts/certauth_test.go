package accounts

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestAuthenticatePeerMethods(t *testing.T) {
	good := &PeerCert{Subject: "CN=esme1,O=Acme", SHA256: sha256.Sum256([]byte("esme1 cert"))}
	byPrint := &PeerCert{Subject: "CN=other", SHA256: sha256.Sum256([]byte("pinned by fingerprint"))}
	stranger := &PeerCert{Subject: "CN=stranger", SHA256: sha256.Sum256([]byte("unknown"))}

	pw := testUser(t, "pw", "pw")
	certOnly := User{SystemID: "cert", Enabled: true, BindTypes: AllBindTypes, Auth: AuthCert,
		CertSubjects: []string{good.Subject}, CertSHA256: [][32]byte{byPrint.SHA256}}
	both := testUser(t, "both", "pw")
	both.Auth, both.CertSubjects = AuthPasswordCert, []string{good.Subject}
	s := mustStore(t, []User{pw, certOnly, both}, Options{})

	cases := []struct {
		name, id, pw string
		peer         *PeerCert
		want         error
	}{
		{"password user ignores the certificate", "pw", "pw", stranger, nil},
		{"password user without one", "pw", "pw", nil, nil},
		{"cert user by subject, any password", "cert", "whatever", good, nil},
		{"cert user by fingerprint", "cert", "", byPrint, nil},
		{"cert user, unpinned certificate", "cert", "", stranger, ErrBadCredentials},
		{"cert user, no certificate", "cert", "", nil, ErrBadCredentials},
		{"both: password and certificate", "both", "pw", good, nil},
		{"both: wrong password", "both", "pW", good, ErrBadCredentials},
		{"both: no certificate", "both", "pw", nil, ErrBadCredentials},
		{"both: unpinned certificate", "both", "pw", byPrint, ErrBadCredentials},
	}
	for _, c := range cases {
		b, err := s.AuthenticatePeer(c.id, c.pw, BindTransceiver, localIP, c.peer)
		if !errors.Is(err, c.want) || (err == nil) != (b != nil) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if b != nil {
			b.Release()
		}
	}
	// The plain call is a bind without a certificate.
	if _, err := s.Authenticate("cert", "", BindTransceiver, localIP); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("Authenticate of a certificate user: %v", err)
	}
}

func TestCertAuthRules(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	cases := []struct {
		name    string
		edit    func(*UserSpec)
		wantKey string // "" = accepted
	}{
		{"cert without a pin", func(s *UserSpec) { s.Auth = "cert" }, "auth"},
		{"pins without a cert method", func(s *UserSpec) { s.CertFingerprints = []string{fp} }, "cert_fingerprints"},
		{"unknown method", func(s *UserSpec) { s.Auth = "token" }, "auth"},
		{"bad fingerprint", func(s *UserSpec) { s.Auth, s.CertFingerprints = "cert", []string{"abcd"} }, "cert_fingerprints"},
		{"subject without an attribute", func(s *UserSpec) { s.Auth, s.CertSubjects = "cert", []string{"esme1"} }, "cert_subjects"},
		{"cert only, no password hash", func(s *UserSpec) { s.Auth, s.PasswordHash, s.CertFingerprints = "cert", "", []string{fp} }, ""},
		{"password+cert needs the hash", func(s *UserSpec) {
			s.Auth, s.PasswordHash, s.CertSubjects = "password+cert", "", []string{"CN=x"}
		}, "password_hash"},
	}
	for _, c := range cases {
		s := DefaultSpec()
		s.SystemID, s.PasswordHash = "u", testHash(t, "pw")
		c.edit(&s)
		var chk Check
		u := ParseUser(&s, nil, &chk)
		switch {
		case c.wantKey == "" && len(chk.Problems) > 0:
			t.Errorf("%s: refused: %v", c.name, chk.Err())
		case c.wantKey != "" && (len(chk.Problems) == 0 || chk.Problems[0].Key != c.wantKey):
			t.Errorf("%s: problems %v, want one at %s", c.name, chk.Problems, c.wantKey)
		}
		if c.wantKey == "" {
			back := u.Spec()
			if back.Auth != s.Auth || len(back.CertFingerprints) != 1 {
				t.Errorf("%s: Spec gives auth %q, fingerprints %v", c.name, back.Auth, back.CertFingerprints)
			}
			var again Check
			if v := ParseUser(&back, nil, &again); len(again.Problems) > 0 || v.CertSHA256[0] != u.CertSHA256[0] {
				t.Errorf("%s: the written form does not read back: %v", c.name, again.Err())
			}
		}
	}
}

func TestParseFingerprintForms(t *testing.T) {
	want := sha256.Sum256([]byte("x"))
	plain := FormatFingerprint(want)
	forms := []string{
		plain,
		strings.ToUpper(plain),
		strings.ReplaceAll(plain, ":", ""),
		"sha256:" + strings.ReplaceAll(plain, ":", ""),
		"sha256 Fingerprint=" + strings.ToUpper(plain),
	}
	for _, f := range forms {
		got, err := ParseFingerprint(f)
		if err != nil || got != want {
			t.Errorf("%q: %v", f, err)
		}
	}
	for _, bad := range []string{"", "zz" + plain[2:], plain + ":00"} {
		if _, err := ParseFingerprint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
