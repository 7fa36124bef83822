package crash

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/config"
)

// demoHash is a password_hash from the demo users file: any valid hash
// serves, the test does not bind.
func demoHash(t *testing.T) string {
	t.Helper()
	var users struct {
		User []struct {
			Hash string `toml:"password_hash"`
		} `toml:"user"`
	}
	if _, err := toml.DecodeFile(filepath.Join("..", "..", "configs", demoUsers), &users); err != nil || len(users.User) == 0 {
		t.Fatalf("demo users: %v", err)
	}
	return users.User[0].Hash
}

// TestDerivedConfigLoads feeds the derived configurations to the config
// package: the disk store with sync "always" in the scratch folder, the
// billed route ahead of the default one, the MO route, and the harness's
// user with a numeric balance.
func TestDerivedConfigLoads(t *testing.T) {
	hash := demoHash(t)
	for _, s := range []setup{{storage: "disk"}, {storage: "disk", upstream: 2775}, {storage: "memory"}} {
		s.dir = t.TempDir()
		d, err := writeConfig(filepath.Join("..", "..", "configs"), s, hash)
		if err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(d.path)
		if err != nil {
			t.Fatalf("%+v: config.Load: %v", s, err)
		}
		if s.storage == "disk" {
			if c.Storage.Kind != config.StorageDisk || c.Storage.Sync != config.SyncAlways || c.Storage.Dir != filepath.Join(s.dir, storeSubdir) {
				t.Errorf("%+v: storage %+v", s, c.Storage)
			}
		} else if c.Storage.Kind != config.StorageMemory {
			t.Errorf("%+v: storage kind %q", s, c.Storage.Kind)
		}
		if c.Server.Port != d.smppPort || c.Admin.Port != d.adminPort || !c.Admin.Enabled {
			t.Errorf("%+v: ports smpp %d admin %d (enabled %v), derived %d %d", s, c.Server.Port, c.Admin.Port, c.Admin.Enabled, d.smppPort, d.adminPort)
		}
		want := simName
		if s.upstream != 0 {
			want = upstreamName
		}
		if len(c.Connectors) != 1 || c.Connectors[0].Name != want {
			t.Errorf("%+v: connectors %+v", s, c.Connectors)
		}
		if len(c.MTRoutes) != 2 || c.MTRoutes[0].Name != billedRoute || c.MTRoutes[0].Rate != crashRate ||
			len(c.MORoutes) != 1 || c.MORoutes[0].User != crashUser {
			t.Errorf("%+v: routes %+v %+v", s, c.MTRoutes, c.MORoutes)
		}
		found := false
		for _, u := range c.Users {
			if u.SystemID == crashUser {
				found = true
				if m, err := parseMicros(u.Balance); err != nil || m != initialUnits {
					t.Errorf("%s balance %q (%v)", crashUser, u.Balance, err)
				}
			}
		}
		if !found {
			t.Errorf("%+v: no user %s", s, crashUser)
		}
	}
}

func TestParseMicrosAndUnits(t *testing.T) {
	for in, want := range map[string]int64{"1000": initialUnits, "991.3": 991_300_000, "0.000001": 1, "12.5": 12_500_000, "0": 0} {
		if got, err := parseMicros(in); err != nil || got != want {
			t.Errorf("parseMicros(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"unlimited", "1.0000001", "", "x.5", "1.-5"} {
		if _, err := parseMicros(bad); err == nil {
			t.Errorf("parseMicros(%q) accepted", bad)
		}
	}
	if got := units(-27_310_000); !regexp.MustCompile(`^-27\.310000$`).MatchString(got) {
		t.Errorf("units(-27.31) = %q", got)
	}
}
