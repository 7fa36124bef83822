package accounts

import (
	"os"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("demopass")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "pbkdf2-sha256" || parts[2] != "100000" {
		t.Fatalf("format: %q", h)
	}
	if !VerifyPassword(h, "demopass") {
		t.Error("the right password does not verify")
	}
	for _, wrong := range []string{"", "demopas", "demopass ", "DEMOPASS", "demopass\x00"} {
		if VerifyPassword(h, wrong) {
			t.Errorf("%q verifies", wrong)
		}
	}
	h2, _ := HashPassword("demopass")
	if h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good := testHash(t, "pw")
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"",
		"5f4dcc3b5aa765d61d8327deb882cf99", // Jasmin's unsalted MD5
		"$pbkdf2-sha1$1000$" + parts[3] + "$" + parts[4],
		"$pbkdf2-sha256$999$" + parts[3] + "$" + parts[4],         // too few iterations
		"$pbkdf2-sha256$99999999$" + parts[3] + "$" + parts[4],    // too many
		"$pbkdf2-sha256$x$" + parts[3] + "$" + parts[4],           // not a number
		"$pbkdf2-sha256$1000$!!$" + parts[4],                      // salt not base64
		"$pbkdf2-sha256$1000$c2FsdA$" + parts[4],                  // salt too short
		"$pbkdf2-sha256$1000$" + parts[3] + "$c2hvcnQ",            // key too short
		"$pbkdf2-sha256$1000$" + parts[3] + "$" + parts[4] + "$x", // extra field
	} {
		if VerifyPassword(bad, "pw") {
			t.Errorf("malformed %q verifies", bad)
		}
		if _, err := NewStore([]User{{SystemID: "a", PasswordHash: bad, BindTypes: AllBindTypes}}, nil, Options{}); err == nil {
			t.Errorf("NewStore accepts hash %q", bad)
		}
	}
	if _, err := HashPassword("pw\x00"); err == nil {
		t.Error("HashPassword accepts a NUL")
	}
	if _, err := HashPasswordIter("pw", 10); err == nil {
		t.Error("HashPasswordIter accepts 10 iterations")
	}
}

// TestDemoUsers checks that configs/users.toml holds the passwords the
// README and issue 4 promise (demo/demopass, demo2/demopas2).
func TestDemoUsers(t *testing.T) {
	src, err := os.ReadFile("../configs/users.toml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		User []struct {
			SystemID     string `toml:"system_id"`
			PasswordHash string `toml:"password_hash"`
		} `toml:"user"`
	}
	if _, err := toml.Decode(string(src), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"demo": "demopass", "demo2": "demopas2"}
	if len(doc.User) != len(want) {
		t.Fatalf("demo users: %+v", doc.User)
	}
	for _, u := range doc.User {
		if !VerifyPassword(u.PasswordHash, want[u.SystemID]) {
			t.Errorf("user %q: password %q does not verify", u.SystemID, want[u.SystemID])
		}
	}
}
