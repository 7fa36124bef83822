package config

import (
	"crypto/tls"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const testHash = "$pbkdf2-sha256$100000$0SdjHSW7vGSnGT4tPhM6ow$nBkkptKAOF5ZYcjfxu+WQm2Nl+M4M6JJMhVegEIIcBM"

// writeConfig writes files (name -> content) into a fresh directory and
// returns the path of the first name, "smppd.toml".
func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "smppd.toml")
}

// wantErr checks that err contains every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
}

func user(id string) string {
	return "[[user]]\nsystem_id = \"" + id + "\"\npassword_hash = \"" + testHash + "\"\n"
}

func TestLoadEveryKey(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", s.ID, "smsc01"},
		{"bind", s.Bind, "0.0.0.0"},
		{"port", s.Port, 2776},
		{"sessionInitTimerSecs", s.SessionInitTimerSecs, 11},
		{"enquireLinkTimerSecs", s.EnquireLinkTimerSecs, 12},
		{"inactivityTimerSecs", s.InactivityTimerSecs, 130},
		{"responseTimerSecs", s.ResponseTimerSecs, 14},
		{"pduReadTimerSecs", s.PDUReadTimerSecs, 15},
		{"SessionInit()", s.SessionInit(), 11 * time.Second},
		{"EnquireLink()", s.EnquireLink(), 12 * time.Second},
		{"Inactivity()", s.Inactivity(), 130 * time.Second},
		{"Response()", s.Response(), 14 * time.Second},
		{"PDURead()", s.PDURead(), 15 * time.Second},
		{"log_level", s.LogLevel, "debug"},
		{"log_file", s.LogFile, "/var/log/smppd.log"},
		{"log_format", s.LogFormat, "console"},
		{"log_date_format", s.LogDateFormat, "%d/%m/%Y %H:%M:%S"},
		{"LogTimeLayout", s.LogTimeLayout, "02/01/2006 15:04:05"},
		{"event_loops", s.EventLoops, 3},
		{"max_pdu_len", s.MaxPDULen, Size(128 << 10)},
		{"max_in_flight", s.MaxInFlight, 1500},
		{"deliver_window", s.DeliverWindow, 50},
		{"max_connections", s.MaxConnections, 1000},
		{"max_connections_per_ip", s.MaxConnectionsPerIP, 100},
		{"max_outbound_backlog", s.MaxOutboundBacklog, Size(8 << 20)},
		{"shutdown_grace", s.ShutdownGrace.D(), 3 * time.Second},
		{"tick", s.Tick.D(), 5 * time.Millisecond},
		{"node_id", s.NodeID, 4095},
		{"trace_pdus", s.TracePDUs, true},
		{"users_file", s.UsersFile, "sub/users.toml"},
		{"tls.enabled", s.TLS.Enabled, true},
		{"tls.bind", s.TLS.Bind, "::1"},
		{"tls.port", s.TLS.Port, 3551},
		{"tls.cert_file", s.TLS.CertFile, filepath.Join("testdata", "full", "cert.pem")},
		{"tls.key_file", s.TLS.KeyFile, filepath.Join("testdata", "full", "key.pem")},
		{"tls.min_version", s.TLS.MinVersion, "1.3"},
		{"tls MinVersionID", s.TLS.MinVersionID, uint16(tls.VersionTLS13)},
		{"fail_window", c.BindLimits.FailWindow.D(), 2 * time.Minute},
		{"slow_after", c.BindLimits.SlowAfter, 6},
		{"slow_delay", c.BindLimits.SlowDelay.D(), 2 * time.Second},
		{"block_after", c.BindLimits.BlockAfter, 21},
		{"block_for", c.BindLimits.BlockFor.D(), 6 * time.Minute},
		{"max_keys", c.BindLimits.MaxKeys, 100},
		{"cache_ttl", c.Auth.CacheTTL.D(), 7 * time.Minute},
		{"cache_size", c.Auth.CacheSize, 11},
		{"workers", c.Auth.Workers, 5},
		{"UsersPath", c.UsersPath, filepath.Join("testdata", "full", "sub", "users.toml")},
		{"user count", len(c.Users), 3},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}

	in := c.Users[0]
	if in.SystemID != "inline1" || in.PasswordHash != testHash || in.Enabled || in.MaxBinds != 3 ||
		!slices.Equal(in.BindTypes, []string{"receiver"}) {
		t.Errorf("inline user = %+v", in)
	}
	wantPfx := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("198.51.100.0/24"), // IPv4-mapped prefix unmapped
	}
	if !slices.Equal(in.AllowPrefixes, wantPfx) {
		t.Errorf("AllowPrefixes = %v, want %v", in.AllowPrefixes, wantPfx)
	}
	// Users from the file start from DefaultUser.
	f1, f2 := c.Users[1], c.Users[2]
	if f1.SystemID != "fromfile" || !f1.Enabled || f1.MaxBinds != 0 || len(f1.AllowPrefixes) != 0 ||
		!slices.Equal(f1.BindTypes, DefaultUser().BindTypes) {
		t.Errorf("file user 1 = %+v", f1)
	}
	if f2.SystemID != "fromfile2" || !slices.Equal(f2.BindTypes, []string{"transmitter", "transceiver"}) {
		t.Errorf("file user 2 = %+v", f2)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", c.Warnings)
	}
}

// TestEveryKeyIsCovered fails when a key is added to the structs but not
// to testdata/full (and so not to TestLoadEveryKey).
func TestEveryKeyIsCovered(t *testing.T) {
	src, err := os.ReadFile("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := keyLines(string(src))
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := tag(f)
			if name == "" || name == "-" {
				continue
			}
			path := join(prefix, name)
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]():
				walk(f.Type, path)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem(), path+"[0]")
			default:
				if _, ok := lines[path]; !ok {
					t.Errorf("key %s is missing from testdata/full/smppd.toml", path)
				}
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
}

func TestDefaults(t *testing.T) {
	path := writeConfig(t, map[string]string{"smppd.toml": "# nothing set\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	// Fields Validate derives from the defaults:
	want.Server.LogTimeLayout = "2006-01-02T15:04:05.000Z07:00"
	want.Server.TLS.MinVersionID = tls.VersionTLS12
	if !reflect.DeepEqual(c.Server, want.Server) {
		t.Errorf("server defaults\n got %+v\nwant %+v", c.Server, want.Server)
	}
	if c.BindLimits != want.BindLimits || c.Auth != want.Auth {
		t.Errorf("limits/auth defaults: %+v %+v", c.BindLimits, c.Auth)
	}
	if len(c.Users) != 0 || c.UsersPath != "" {
		t.Errorf("users: %v from %q", c.Users, c.UsersPath)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "no users") {
		t.Errorf("warnings = %q", c.Warnings)
	}
	// The documented figures (docs/CONFIG.md).
	d := want.Server
	if d.Port != 2775 || d.SessionInitTimerSecs != 30 || d.EnquireLinkTimerSecs != 30 || d.InactivityTimerSecs != 300 ||
		d.ResponseTimerSecs != 60 || d.PDUReadTimerSecs != 30 || d.MaxPDULen != 96<<10 || d.MaxInFlight != 2000 ||
		d.DeliverWindow != 100 || d.MaxConnections != 50000 || d.MaxConnectionsPerIP != 5000 ||
		d.MaxOutboundBacklog != 4<<20 || d.TLS.Port != 3550 || d.LogFormat != "json" {
		t.Errorf("defaults drifted from docs/CONFIG.md: %+v", d)
	}
	// Issue 4: room for a 254-destination submit_multi with a 64 KiB payload.
	if d.MaxPDULen < minFullPDU {
		t.Errorf("default max_pdu_len %d < %d", d.MaxPDULen, minFullPDU)
	}
}

func TestExplicitZeroKeepsZero(t *testing.T) {
	path := writeConfig(t, map[string]string{"smppd.toml": "[smpp-server]\nenquireLinkTimerSecs = 0\ninactivityTimerSecs = 0\n" +
		"max_connections = 0\n[auth]\ncache_size = 0\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.EnquireLinkTimerSecs != 0 || c.Server.InactivityTimerSecs != 0 || c.Server.MaxConnections != 0 || c.Auth.CacheSize != 0 {
		t.Errorf("zeros not kept: %+v %+v", c.Server, c.Auth)
	}
}

func TestUnknownKeys(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"typo", "[smpp-server]\nport = 2775\nprot = 1\n", []string{"smppd.toml:3: smpp-server.prot: unknown key"}},
		{"wrong case", "[smpp-server]\n\nSessionInitTimerSecs = 5\n",
			[]string{":3: smpp-server.SessionInitTimerSecs: unknown key (did you mean \"sessionInitTimerSecs\"?)"}},
		{"snake for camel", "[smpp-server]\nenquire_link_timer_secs = 5\n",
			[]string{":2: smpp-server.enquire_link_timer_secs: unknown key (did you mean \"enquireLinkTimerSecs\"?)"}},
		{"unknown table", "[smpp-server]\nport = 1\n\n[smpp-client]\nport = 2\n", []string{":4: smpp-client: unknown table or key"}},
		{"unknown top key", "id = \"x\"\n", []string{":1: id: unknown table or key"}},
		{"nested", "[smpp-server.tls]\nenabled = false\ncert = \"x\"\n", []string{":3: smpp-server.tls.cert: unknown key"}},
		{"dotted key", "[smpp-server]\ntls.enable = true\n", []string{":2: smpp-server.tls.enable: unknown key"}},
		{"second user", user("a") + "\n" + user("b") + "maxbinds = 3\n", []string{":8: user[1].maxbinds: unknown key"}},
		{"inline table", "[smpp-server]\ntls = { enabled = false, prot = 1 }\n", []string{":2: smpp-server.tls.prot: unknown key"}},
		{"several", "[auth]\na = 1\nb = 2\n", []string{":2: auth.a: unknown key", ":3: auth.b: unknown key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, map[string]string{"smppd.toml": tc.src}))
			wantErr(t, err, tc.want...)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *config.Error", err)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"string for int", "[smpp-server]\nport = \"2775\"\n", []string{":2: smpp-server.port: expected an integer, got a string (\"2775\")"}},
		{"float for int", "[smpp-server]\n\n\nenquireLinkTimerSecs = 1.5\n", []string{":4: smpp-server.enquireLinkTimerSecs: expected an integer, got a float (1.5)"}},
		{"int for bool", "[smpp-server]\ntrace_pdus = 1\n", []string{":2: smpp-server.trace_pdus: expected true or false"}},
		{"duration without unit", "[smpp-server]\nshutdown_grace = \"10\"\n", []string{":2: smpp-server.shutdown_grace: a duration needs a unit"}},
		{"duration as int", "[smpp-server]\ntick = 10\n", []string{":2: smpp-server.tick: a duration needs a unit"}},
		{"bad duration", "[bind-limits]\nblock_for = \"five minutes\"\n", []string{":2: bind-limits.block_for: invalid duration"}},
		{"negative duration", "[auth]\ncache_ttl = \"-1s\"\n", []string{":2: auth.cache_ttl: duration must not be negative"}},
		{"bad size", "[smpp-server]\nmax_pdu_len = \"96 parsecs\"\n", []string{":2: smpp-server.max_pdu_len: invalid size unit"}},
		{"string for array", user("a") + "bind_types = \"transmitter\"\n", []string{":4: user[0].bind_types: expected an array, got a string"}},
		{"int in array", user("a") + "allow_ips = [\"10.0.0.0/8\",\n  7]\n", []string{":4: user[0].allow_ips[1]: expected a string, got an integer (7)"}},
		{"value for table", "smpp-server = 5\n", []string{":1: smpp-server: expected a table, got an integer (5)"}},
		{"second user's value", user("a") + user("b") + "max_binds = \"ten\"\n", []string{":7: user[1].max_binds: expected an integer"}},
		{"huge int", "[smpp-server]\nport = 9223372036854775807\n", []string{":2: smpp-server.port: 9223372036854775807 is out of range 1..65535"}},
		{"syntax", "[smpp-server]\nport = = 1\n", []string{"smppd.toml:2"}},
		{"duplicate key", "[smpp-server]\nport = 1\nport = 2\n", []string{"smppd.toml:3", "port"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, map[string]string{"smppd.toml": tc.src}))
			wantErr(t, err, tc.want...)
		})
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"port range", "[smpp-server]\nport = 70000\n", []string{":2: smpp-server.port: 70000 is out of range 1..65535"}},
		{"pduRead zero", "[smpp-server]\npduReadTimerSecs = 0\n", []string{":2: smpp-server.pduReadTimerSecs: 0 is out of range 1..86400"}},
		{"sessionInit zero", "[smpp-server]\nsessionInitTimerSecs = 0\n", []string{"smpp-server.sessionInitTimerSecs: 0 is out of range"}},
		{"negative timer", "[smpp-server]\ninactivityTimerSecs = -1\n", []string{"smpp-server.inactivityTimerSecs: -1 is out of range"}},
		{"bind", "[smpp-server]\nbind = \"localhost\"\n", []string{":2: smpp-server.bind: must be an IP address literal"}},
		{"id too long", "[smpp-server]\nid = \"a-very-long-system-id\"\n", []string{"smpp-server.id: must be 1..15"}},
		{"log level", "[smpp-server]\nlog_level = \"verbose\"\n", []string{":2: smpp-server.log_level: must be one of trace, debug, info, warn, error"}},
		{"jasmin log format", "[smpp-server]\nlog_format = \"%(asctime)s %(message)s\"\n", []string{"smpp-server.log_format:", "Jasmin's Python logging format"}},
		{"date format", "[smpp-server]\nlog_date_format = \"%Y %Q\"\n", []string{"smpp-server.log_date_format: unsupported strftime directive %Q"}},
		{"node id", "[smpp-server]\nnode_id = 4096\n", []string{"smpp-server.node_id: 4096 is out of range 0..4095"}},
		{"tick", "[smpp-server]\ntick = \"2s\"\n", []string{"smpp-server.tick: 2s is out of range 1ms..1s"}},
		{"pdu len", "[smpp-server]\nmax_pdu_len = 100\n", []string{"smpp-server.max_pdu_len: 100 bytes is out of range"}},
		{"backlog below pdu", "[smpp-server]\nmax_outbound_backlog = \"64KiB\"\n", []string{"smpp-server.max_outbound_backlog: 65536 bytes is less than max_pdu_len"}},
		{"in flight", "[smpp-server]\nmax_in_flight = 0\n", []string{"smpp-server.max_in_flight: 0 is out of range"}},
		{"tls needs files", "[smpp-server.tls]\nenabled = true\n", []string{"smpp-server.tls.cert_file: is required", "smpp-server.tls.key_file: is required"}},
		{"tls missing file", "[smpp-server.tls]\nenabled = true\ncert_file = \"nope.pem\"\nkey_file = \"nope.key\"\n", []string{":3: smpp-server.tls.cert_file:", "no such file"}},
		{"tls same port", "[smpp-server]\nport = 3550\n", []string{}},
		{"tls min version", "[smpp-server.tls]\nmin_version = \"1.0\"\n", []string{"smpp-server.tls.min_version: must be \"1.2\" or \"1.3\""}},
		{"limits window", "[bind-limits]\nfail_window = \"0s\"\n", []string{"bind-limits.fail_window: must be > 0"}},
		{"limits block_for", "[bind-limits]\nblock_for = \"0s\"\n", []string{"bind-limits.block_for: must be > 0"}},
		{"workers", "[auth]\nworkers = 0\n", []string{"auth.workers: 0 is out of range 1..1024"}},
		{"user id", "[[user]]\nsystem_id = \"\"\npassword_hash = \"" + testHash + "\"\n", []string{":2: user[0].system_id: must be 1..15"}},
		{"user duplicate", user("a") + user("a"), []string{":5: user[1].system_id: \"a\" is already defined by user[0]"}},
		{"user hash", "[[user]]\nsystem_id = \"a\"\npassword_hash = \"5f4dcc3b5aa765d61d8327deb882cf99\"\n", []string{":3: user[0].password_hash: must be a hash printed by `smppd passwd`"}},
		{"user no hash", "[[user]]\nsystem_id = \"a\"\n", []string{":1: user[0]: must be a hash printed by `smppd passwd`"}},
		{"user bind types", user("a") + "bind_types = [\"transmitter\", \"esme\", \"transmitter\"]\n", []string{"user[0].bind_types: unknown bind type \"esme\"", "user[0].bind_types: \"transmitter\" is listed twice"}},
		{"user no bind types", user("a") + "bind_types = []\n", []string{"user[0].bind_types: must list at least one"}},
		{"user cidr", user("a") + "allow_ips = [\"10.0.0.0/33\"]\n", []string{":4: user[0].allow_ips: \"10.0.0.0/33\" is not an address or CIDR"}},
		{"user max binds", user("a") + "max_binds = -1\n", []string{"user[0].max_binds: -1 is out of range"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, map[string]string{"smppd.toml": tc.src}))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			wantErr(t, err, tc.want...)
		})
	}
}

func TestTLSPortClash(t *testing.T) {
	files := map[string]string{
		"smppd.toml": "[smpp-server]\nport = 3550\n[smpp-server.tls]\nenabled = true\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n",
		"c.pem":      "x", "k.pem": "x",
	}
	_, err := Load(writeConfig(t, files))
	wantErr(t, err, "smpp-server.tls.port: 3550 is also the plain SMPP port on 127.0.0.1")
}

func TestWarnings(t *testing.T) {
	src := "[smpp-server]\nenquireLinkTimerSecs = 300\ninactivityTimerSecs = 300\nmax_pdu_len = \"16KiB\"\n" +
		"[bind-limits]\nslow_after = 30\nblock_after = 10\nslow_delay = \"40s\"\n" + user("a")
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"enquireLinkTimerSecs (300) >= inactivityTimerSecs (300)", "max_pdu_len 16384 refuses legal PDUs",
		"slow_after (30) > block_after (10)", "slow_delay 40s >= sessionInitTimerSecs"} {
		if !slices.ContainsFunc(c.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning containing %q in %q", w, c.Warnings)
		}
	}
}

func TestJasminLogLevels(t *testing.T) {
	for in, want := range map[string]string{"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error", "CRITICAL": "error", "trace": "trace"} {
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[smpp-server]\nlog_level = \"" + in + "\"\n"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Server.LogLevel != want {
			t.Errorf("log_level %q -> %q, want %q", in, c.Server.LogLevel, want)
		}
	}
}

func TestUsersFile(t *testing.T) {
	t.Run("relative to the config, not the cwd", func(t *testing.T) {
		path := writeConfig(t, map[string]string{
			"smppd.toml":          "[smpp-server]\nusers_file = \"accounts/users.toml\"\n" + user("inline"),
			"accounts/users.toml": user("filed"),
		})
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Users) != 2 || c.Users[0].SystemID != "inline" || c.Users[1].SystemID != "filed" {
			t.Errorf("users = %+v", c.Users)
		}
		if want := filepath.Join(filepath.Dir(path), "accounts", "users.toml"); c.UsersPath != want {
			t.Errorf("UsersPath = %q, want %q", c.UsersPath, want)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		other := writeConfig(t, map[string]string{"smppd.toml": user("abs")})
		path := writeConfig(t, map[string]string{"smppd.toml": "[smpp-server]\nusers_file = \"" + other + "\"\n"})
		c, err := Load(path)
		if err != nil || len(c.Users) != 1 || c.Users[0].SystemID != "abs" {
			t.Fatalf("users = %+v, err %v", c, err)
		}
	})
	t.Run("default users.toml beside the config", func(t *testing.T) {
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "", "users.toml": user("beside")}))
		if err != nil || len(c.Users) != 1 || c.Users[0].SystemID != "beside" {
			t.Fatalf("users = %+v, err %v", c, err)
		}
	})
	t.Run("explicit file missing", func(t *testing.T) {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[smpp-server]\n\nusers_file = \"gone.toml\"\n"}))
		wantErr(t, err, "smppd.toml:3: smpp-server.users_file:", "gone.toml")
	})
	t.Run("errors name the users file and its line", func(t *testing.T) {
		_, err := Load(writeConfig(t, map[string]string{
			"smppd.toml": user("inline"),
			"users.toml": user("a") + "\n" + user("b") + "max_binds = \"x\"\n",
		}))
		wantErr(t, err, "users.toml:8: user[1].max_binds: expected an integer")
	})
	t.Run("validation errors name the users file and its line", func(t *testing.T) {
		_, err := Load(writeConfig(t, map[string]string{
			"smppd.toml": user("inline"),
			"users.toml": user("a") + user("b") + "allow_ips = [\"nope\"]\n",
		}))
		// user[2] counts inline users first; the line is the users file's.
		wantErr(t, err, "users.toml:7: user[2].allow_ips: \"nope\" is not an address or CIDR")
	})
	t.Run("duplicate across files", func(t *testing.T) {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": user("same"), "users.toml": user("same")}))
		wantErr(t, err, "users.toml:2: user[1].system_id: \"same\" is already defined by user[0]")
	})
	t.Run("users file holds only users", func(t *testing.T) {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "", "users.toml": "[smpp-server]\nport = 1\n"}))
		wantErr(t, err, "users.toml:1: smpp-server: unknown table or key")
	})
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	wantErr(t, err, "config:", "none.toml")
}

func TestDemoConfig(t *testing.T) {
	c, err := Load("../configs/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("demo config warnings: %q", c.Warnings)
	}
	s := c.Server
	if s.Bind != "127.0.0.1" || s.Port != 2775 || s.TLS.Enabled || s.LogFormat != "console" || s.LogFile != "" || s.LogLevel != "info" {
		t.Errorf("demo server settings: %+v", s)
	}
	if len(c.Users) != 2 {
		t.Fatalf("demo users: %+v", c.Users)
	}
	for i, id := range []string{"demo", "demo2"} {
		u := c.Users[i]
		if u.SystemID != id || !u.Enabled || u.MaxBinds != 1000 || len(u.BindTypes) != 3 || len(u.AllowPrefixes) != 0 {
			t.Errorf("demo user %d: %+v", i, u)
		}
	}
	// A dozen wrong passwords a minute from one address must never be slowed.
	if b := c.BindLimits; b.SlowAfter != 0 && b.SlowAfter <= 12 || b.FailWindow.D() > time.Minute && b.SlowAfter <= 24 {
		t.Errorf("demo bind-limits too strict for the test suites: %+v", b)
	}
	// Every key in the demo config carries a comment.
	src, _ := os.ReadFile("../configs/smppd.toml")
	for n, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		if !strings.Contains(line, "#") {
			t.Errorf("demo config line %d has no comment: %s", n+1, line)
		}
	}
}

func TestParseInMemory(t *testing.T) {
	c, err := Parse("inline.toml", "[smpp-server]\nport = 2800\n"+user("m"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Port != 2800 || len(c.Users) != 1 {
		t.Errorf("Parse: %+v", c)
	}
	_, err = Parse("inline.toml", "[smpp-server]\nprot = 1\n")
	wantErr(t, err, "inline.toml:2: smpp-server.prot: unknown key")
}

func TestValidateBuiltInCode(t *testing.T) {
	c := Defaults()
	c.Server.Port = 0
	c.Users = []User{{SystemID: "x", PasswordHash: testHash, BindTypes: []string{"receiver"}, AllowIPs: []string{"::1"}}}
	err := c.Validate()
	wantErr(t, err, "smpp-server.port: 0 is out of range")
	if got := c.Users[0].AllowPrefixes; len(got) != 1 || got[0] != netip.MustParsePrefix("::1/128") {
		t.Errorf("AllowPrefixes = %v", got)
	}
}
