package config

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
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
		{"queue_full_wait", s.QueueFullWait.D(), 250 * time.Millisecond},
		{"deliver_window", s.DeliverWindow, 50},
		{"max_connections", s.MaxConnections, 1000},
		{"max_connections_per_ip", s.MaxConnectionsPerIP, 100},
		{"max_outbound_backlog", s.MaxOutboundBacklog, Size(8 << 20)},
		{"max_outbound_unbound", s.MaxOutboundUnbound, Size(32 << 10)},
		{"max_outbound_total", s.MaxOutboundTotal, Size(1 << 30)},
		{"max_inbound_buffer", s.MaxInboundBuffer, Size(512 << 10)},
		{"max_unexpected_responses", s.MaxUnexpectedResponses, 5},
		{"slow_consumer_timeout", s.SlowConsumerTimeout.D(), 7 * time.Second},
		{"log_rate_limit", s.LogRateLimit, 20},
		{"shutdown_grace", s.ShutdownGrace.D(), 3 * time.Second},
		{"tick", s.Tick.D(), 5 * time.Millisecond},
		{"node_id", s.NodeID, 4095},
		{"trace_pdus", s.TracePDUs, true},
		{"users_file", s.UsersFile, "sub/users.toml"},
		{"tls.enabled", s.TLS.Enabled, true},
		{"tls.bind", s.TLS.Bind, "::1"},
		{"tls.port", s.TLS.Port, 3551},
		{"tls.cert_file", s.TLS.CertFile, filepath.Join("testdata", "full", "cert.pem")},
		{"tls.key_file", s.TLS.KeyFile, "file:key.pem"}, // a reference stays as written
		{"tls.client_auth", s.TLS.ClientAuth, "request"},
		{"tls ClientAuthType", s.TLS.ClientAuthType, tls.VerifyClientCertIfGiven},
		{"tls.client_ca_file", s.TLS.ClientCAFile, filepath.Join("testdata", "full", "cert.pem")},
		{"tls Certificate", s.TLS.Certificate != nil && s.TLS.Certificate.Leaf.Subject.CommonName == "smppd config test", true},
		{"tls ClientCAs", s.TLS.ClientCAs != nil, true},
		{"tls.min_version", s.TLS.MinVersion, "1.3"},
		{"tls MinVersionID", s.TLS.MinVersionID, uint16(tls.VersionTLS13)},
		{"tls.handshake_timeout", s.TLS.HandshakeTimeout.D(), 3 * time.Second},
		{"tls.write_timeout", s.TLS.WriteTimeout.D(), 45 * time.Second},
		{"fail_window", c.BindLimits.FailWindow.D(), 2 * time.Minute},
		{"slow_after", c.BindLimits.SlowAfter, 6},
		{"slow_delay", c.BindLimits.SlowDelay.D(), 2 * time.Second},
		{"block_after", c.BindLimits.BlockAfter, 21},
		{"block_for", c.BindLimits.BlockFor.D(), 6 * time.Minute},
		{"max_keys", c.BindLimits.MaxKeys, 100},
		{"address_block_after", c.BindLimits.AddressBlockAfter, 84},
		{"max_pending_per_address", c.BindLimits.MaxPendingPerAddress, 64},
		{"cache_ttl", c.Auth.CacheTTL.D(), 7 * time.Minute},
		{"cache_size", c.Auth.CacheSize, 11},
		{"workers", c.Auth.Workers, 5},
		{"UsersPath", c.UsersPath, filepath.Join("testdata", "full", "sub", "users.toml")},
		{"user count", len(c.Users), 3},
		{"jasmin_compat_status", s.JasminCompatStatus, true},
		{"delivery", c.Delivery, Delivery{HoldLifetime: Duration(96 * time.Hour), MaxHeld: 5000, MaxHeldPerUser: 800,
			RetryMin: Duration(2 * time.Second), RetryMax: Duration(time.Minute), ReassembleMO: false,
			ReassemblyTimeout: Duration(30 * time.Second), ReceiptIDFormat: "decimal", ReceiptTimeZone: "Local",
			ReceiptLocation: time.Local, DefaultValidity: Duration(24 * time.Hour)}},
		{"storage", c.Storage, Storage{Kind: "memory", Dir: "state", Sync: "interval", SyncInterval: Duration(5 * time.Millisecond),
			MaxDisk: 2 << 30, MessageTTL: Duration(36 * time.Hour), MaxRecords: 20000, MaxUpstreamIDs: 3000}},
		{"admin", withoutTokens(c.Admin), Admin{Enabled: true, Bind: "0.0.0.0", Port: 8791, Token: "0123456789abcdef-token", AllowInsecure: true, Pprof: true,
			AuditMaxFile: 1 << 20, AuditRetention: Duration(720 * time.Hour), AuditDir: fullAuditDir(t), // tokens: TestFullAdminTokens
			AllowedHosts: []string{"smpp1.example.net", "admin_1", "192.0.2.8", "2001:db8::8"}}},
		{"groups", c.Groups, []Group{{Name: "retail", Enabled: false, MaxHeldPerUser: 300}, {Name: "wholesale", Enabled: true}}},
		{"inline counts", [2]int{c.InlineUsers, c.InlineGroups}, [2]int{1, 1}},
		{"GroupEnabled", [3]bool{c.GroupEnabled("retail"), c.GroupEnabled("wholesale"), c.GroupEnabled("")}, [3]bool{false, true, true}},
		{"connector count", len(c.Connectors), 2},
		// Each kind reads its own table (cmd/smppd's TestKindsReadEveryKey).
		{"sim connector", [3]any{c.Connectors[0].Name, c.Connectors[0].Type, c.Connectors[0].Queue}, [3]any{"sim1", "sim", 1024}},
		{"smpp connector", [3]any{c.Connectors[1].Name, c.Connectors[1].Type, c.Connectors[1].Queue}, [3]any{"up.eu:1", "smpp", 4096}},
		{"kind tables", [2]bool{c.Connectors[0].Settings != nil, c.Connectors[1].Settings != nil}, [2]bool{true, true}},
		{"mt routes", c.MTRoutes, []MTRoute{
			{Name: "fr-business-hours", Kind: "weighted", Connectors: []string{"up.eu:1", "sim1"}, Weights: []int{3, 1}, Rate: 0.015,
				RouteFilter: RouteFilter{Users: []string{"inline1"}, Groups: []string{"retail"}, SourceAddrs: []string{"ACME", "re:^33"},
					DestPrefixes: []string{"33", "+336"}, DestRegex: "^33[67]", ContentRegex: "(?i)promo", DataCodings: []int{0, 8}, Networks: []string{"netA"}, Tags: []string{"promo"},
					TimeWindow: "08:00-20:00", Days: "mon-fri", DateWindow: "2026-01-01/2026-12-31", TimeZone: "Europe/Paris"}},
			{Name: "rest", Kind: "default", Connectors: []string{"sim1"}},
		}},
		{"mo routes", c.MORoutes, []MORoute{
			{Name: "to-inline1", User: "inline1", RouteFilter: RouteFilter{FromConnectors: []string{"up.eu:1"}}},
			{Name: "keyword-stop", User: "fromfile", RouteFilter: RouteFilter{SourceAddrs: []string{"re:^33"},
				DestPrefixes: []string{"36180"}, DestRegex: "^3618[0-9]$", ContentRegex: "(?i)^stop", DataCodings: []int{0},
				TimeWindow: "00:00-24:00", Days: "mon-sun", DateWindow: "2026-01-01", TimeZone: "UTC"}},
			{Name: "web-app", URL: "https://192.0.2.10/in?k=1", Method: "get", AckBody: "ACK/Jasmin",
				Secret: "mo-route-secret-0123456789", RouteFilter: RouteFilter{DestPrefixes: []string{"4470"}}},
		}},
		{"webhook", c.Webhook, Webhook{Timeout: Duration(5 * time.Second), MaxPerTarget: 4, MaxPending: 2000,
			MaxPendingPerTarget: 500, ReceiptAckBody: "ACK/Jasmin", DenyNetworks: []string{"10.0.0.0/8", "127.0.0.0/8"},
			AllowNetworks: []string{"10.1.2.3"}}},
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
	if in.Group != "retail" || in.MaxBindsPerType != (BindsPerType{Receiver: 2}) || in.DefaultSource != "ACME" ||
		!slices.Equal(in.SourceAddrs, []string{"ACME", "3361*", "re:^336[0-9]{8}$"}) || in.Receipts ||
		in.Throughput != 12.5 || in.Burst != 20 || in.Balance != "100.25" || in.Quota != 5000 ||
		in.MaxValidity.D() != 6*time.Hour || in.MaxPriority != 1 || in.MaxHeldPerUser != 40 || in.Account.MaxHeldPerUser != 40 {
		t.Errorf("inline user limits = %+v", in)
	}
	if a := in.Account; a.Auth != accounts.AuthPasswordCert || !slices.Equal(a.CertSubjects, []string{"CN=esme1,O=Acme"}) ||
		len(a.CertSHA256) != 1 || a.CertSHA256[0] != sha256.Sum256(s.TLS.Certificate.Leaf.Raw) {
		t.Errorf("inline user certificate pins = %v %v %x", a.Auth, a.CertSubjects, a.CertSHA256)
	}
	wantPfx := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("198.51.100.0/24"), // IPv4-mapped prefix unmapped
	}
	if !slices.Equal(in.Account.AllowIPs, wantPfx) {
		t.Errorf("Account.AllowIPs = %v, want %v", in.Account.AllowIPs, wantPfx)
	}
	// Users from the file start from DefaultUser.
	f1, f2 := c.Users[1], c.Users[2]
	if f1.SystemID != "fromfile" || !f1.Enabled || f1.MaxBinds != 0 || len(f1.Account.AllowIPs) != 0 ||
		!slices.Equal(f1.BindTypes, DefaultUser().BindTypes) {
		t.Errorf("file user 1 = %+v", f1)
	}
	if d := DefaultUser(); f1.Group != "" || !f1.Receipts || f1.Balance != "unlimited" || f1.MaxPriority != 3 ||
		f1.Throughput != 0 || f1.Quota != 0 || f1.MaxBindsPerType != d.MaxBindsPerType || f1.SourceAddrs != nil {
		t.Errorf("file user 1 limits = %+v", f1)
	}
	if f2.SystemID != "fromfile2" || !slices.Equal(f2.BindTypes, []string{"transmitter", "transceiver"}) || f2.Group != "wholesale" {
		t.Errorf("file user 2 = %+v", f2)
	}
	// The file's one warning, tls_skip_verify, is the smpp kind's (cmd/smppd).
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", c.Warnings)
	}
}

// TestEveryKeyIsCovered fails when a key is added to the structs but not
// to testdata/full (and so not to TestLoadEveryKey). An array of tables'
// key may be in any of its elements.
func TestEveryKeyIsCovered(t *testing.T) {
	src, err := os.ReadFile("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	index := regexp.MustCompile(`\[[0-9]+\]`)
	lines := map[string]bool{}
	for k := range keyLines(string(src)) {
		lines[index.ReplaceAllString(k, "[]")] = true
	}
	// Filters that routing.Compile refuses on that kind of route.
	notApplicable := map[string]bool{"mo_route[].users": true, "mo_route[].groups": true, "mt_route[].from_connectors": true,
		"mo_route[].networks": true, "mo_route[].tags": true}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for _, f := range tomlFields(typ) {
			path := join(prefix, tag(f))
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Duration]():
				walk(ft, path)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), path+"[]")
			default:
				if !lines[path] && !notApplicable[path] {
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
	if len(c.Users) != 0 || c.UsersPath != "" || len(c.Groups) != 0 || len(c.MORoutes) != 0 {
		t.Errorf("users: %v from %q, groups %v, mo routes %v", c.Users, c.UsersPath, c.Groups, c.MORoutes)
	}
	// No upstream configured: the simulator, and one default route to it.
	if !reflect.DeepEqual(c.Connectors, []Connector{DefaultSimConnector()}) {
		t.Errorf("connectors = %+v", c.Connectors)
	}
	if !reflect.DeepEqual(c.MTRoutes, []MTRoute{DefaultMTRoute("sim")}) {
		t.Errorf("mt routes = %+v", c.MTRoutes)
	}
	want.Delivery.ReceiptLocation = time.UTC
	want.Storage.Dir = filepath.Join(filepath.Dir(path), "var", "smppd") // resolved against the config's folder
	want.Admin.AuditDir = filepath.Join(want.Storage.Dir, "audit")
	if !reflect.DeepEqual(c.Delivery, want.Delivery) || c.Storage != want.Storage || !reflect.DeepEqual(c.Admin, want.Admin) {
		t.Errorf("delivery/storage/admin defaults: %+v %+v %+v", c.Delivery, c.Storage, c.Admin)
	}
	// The documented figures of issue 5 (docs/CONFIG.md).
	dl, st, ad := want.Delivery, want.Storage, want.Admin
	if dl.HoldLifetime.D() != 72*time.Hour || dl.MaxHeld != 100000 || dl.RetryMin.D() != 5*time.Second ||
		dl.RetryMax.D() != 5*time.Minute || !dl.ReassembleMO || dl.ReassemblyTimeout.D() != time.Minute ||
		dl.ReceiptIDFormat != "hex" || dl.ReceiptTimeZone != "UTC" || dl.DefaultValidity.D() != 48*time.Hour ||
		st.Kind != "disk" || Defaults().Storage.Dir != "var/smppd" || st.Sync != "always" || st.SyncInterval.D() != 10*time.Millisecond || st.MaxDisk != 8<<30 ||
		st.MessageTTL.D() != 72*time.Hour || st.MaxRecords != 1000000 || st.MaxUpstreamIDs != 1000000 ||
		ad.Enabled || ad.Bind != "127.0.0.1" || ad.Port != 8790 || ad.Token != "" || ad.AllowInsecure || ad.Pprof || ad.AllowedHosts != nil ||
		want.Server.JasminCompatStatus {
		t.Errorf("flow defaults drifted from docs/CONFIG.md: %+v %+v %+v", dl, st, ad)
	}
	du := DefaultUser()
	if DefaultConnector().Queue != 65536 {
		t.Errorf("connector defaults drifted: %+v", DefaultConnector())
	}
	if du.Group != "" || du.MaxBindsPerType != (BindsPerType{}) || du.DefaultSource != "" || du.SourceAddrs != nil ||
		!du.Receipts || du.Throughput != 0 || du.Burst != 0 || du.Balance != "unlimited" || du.Quota != 0 ||
		du.MaxValidity != 0 || du.MaxPriority != 3 || !DefaultGroup().Enabled {
		t.Errorf("user defaults drifted: %+v", du)
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
	if bl := want.BindLimits; d.TLS.HandshakeTimeout.D() != 5*time.Second || d.TLS.WriteTimeout.D() != 30*time.Second ||
		bl.BlockAfter != 20 || bl.AddressBlockAfter != 100 || bl.MaxPendingPerAddress != 128 {
		t.Errorf("hostile-bind defaults drifted from docs/CONFIG.md: %+v %+v", d.TLS, bl)
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
		{"delivery", "[delivery]\nhold_time = \"1h\"\n", []string{":2: delivery.hold_time: unknown key"}},
		{"storage", "[storage]\n\nmaxRecords = 5\n", []string{":3: storage.maxRecords: unknown key (did you mean \"max_records\"?)"}},
		{"admin", "[admin]\nallow_unsafe = true\n", []string{":2: admin.allow_unsafe: unknown key"}},
		{"per-type binds", user("a") + "max_binds_per_type = { esme = 1 }\n", []string{":4: user[0].max_binds_per_type.esme: unknown key"}},
		{"group", "[[group]]\nname = \"g\"\nenable = true\n", []string{":3: group[0].enable: unknown key"}},
		{"connector", "[[connector]]\nname = \"c\"\ntype = \"sim\"\nqueue_size = 1\n", []string{":4: connector[0].queue_size: unknown key"}},
		{"connector sub-table", "[[connector]]\nname = \"c\"\ntype = \"sim\"\n[connector.http]\nurl = \"x\"\n",
			[]string{":4: connector[0].http: a [connector.http] table is not allowed for type \"sim\""}},
		{"route filter", "[[mt_route]]\nname = \"r\"\nkind = \"default\"\ndest_regexp = \"^1\"\n",
			[]string{":4: mt_route[0].dest_regexp: unknown key"}},
		{"route filter case", "[[mo_route]]\nname = \"r\"\nDest_Prefixes = [\"1\"]\n",
			[]string{":3: mo_route[0].Dest_Prefixes: unknown key (did you mean \"dest_prefixes\"?)"}},
		{"kind on mo", "[[mo_route]]\nname = \"r\"\nkind = \"static\"\n", []string{":3: mo_route[0].kind: unknown key"}},
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
		{"string for float", user("a") + "throughput = \"100\"\n", []string{":4: user[0].throughput: expected a number, got a string"}},
		{"int for balance", user("a") + "balance = 1000\n", []string{":4: user[0].balance: expected a string, got an integer (1000)"}},
		{"validity without unit", user("a") + "max_validity = \"48\"\n", []string{":4: user[0].max_validity: a duration needs a unit"}},
		{"float for quota", user("a") + "quota = 1.5\n", []string{":4: user[0].quota: expected an integer"}},
		{"string for codings", "[[mt_route]]\nname = \"r\"\ndata_codings = [\"8\"]\n", []string{":3: mt_route[0].data_codings[0]: expected an integer"}},
		{"value for a kind's table", "[[connector]]\nname = \"c\"\ntype = \"sim\"\nsim = 1\n", []string{":4: connector[0].sim: unknown key"}},
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
		{"queue wait", "[smpp-server]\nqueue_full_wait = \"2m\"\n", []string{"smpp-server.queue_full_wait: 2m0s is out of range"}},
		{"reuse port memory", "[smpp-server]\nreuse_port = true\n[storage]\nkind = \"memory\"\n", []string{":2: smpp-server.reuse_port: needs [storage] kind = \"disk\""}},
		{"reuse port disk", "[smpp-server]\nreuse_port = true\n", []string{}},
		{"queue wait vs response", "[smpp-server]\nresponseTimerSecs = 10\nqueue_full_wait = \"5s\"\n", []string{"smpp-server.queue_full_wait: 5s must be under half of responseTimerSecs (10s)"}},
		{"tls needs files", "[smpp-server.tls]\nenabled = true\n", []string{"smpp-server.tls.cert_file: is required", "smpp-server.tls.key_file: is required"}},
		{"tls missing file", "[smpp-server.tls]\nenabled = true\ncert_file = \"nope.pem\"\nkey_file = \"nope.key\"\n", []string{":3: smpp-server.tls.cert_file:", "no such file"}},
		{"tls same port", "[smpp-server]\nport = 3550\n", []string{}},
		{"tls min version", "[smpp-server.tls]\nmin_version = \"1.0\"\n", []string{"smpp-server.tls.min_version: must be \"1.2\" or \"1.3\""}},
		{"inbound below pdu", "[smpp-server]\nmax_inbound_buffer = \"100KiB\"\n", []string{"smpp-server.max_inbound_buffer: 102400 bytes is out of range"}},
		{"unbound over backlog", "[smpp-server]\nmax_outbound_unbound = \"8MiB\"\n", []string{"smpp-server.max_outbound_unbound: 8388608 bytes is out of range"}},
		{"total below backlog", "[smpp-server]\nmax_outbound_total = \"1MiB\"\n", []string{"smpp-server.max_outbound_total: 1048576 bytes is less than max_outbound_backlog"}},
		{"unexpected zero", "[smpp-server]\nmax_unexpected_responses = 0\n", []string{"smpp-server.max_unexpected_responses"}},
		{"stall negative", "[smpp-server]\nslow_consumer_timeout = \"-1s\"\n", []string{"smpp-server.slow_consumer_timeout: duration must not be negative"}},
		{"log rate zero", "[smpp-server]\nlog_rate_limit = 0\n", []string{"smpp-server.log_rate_limit"}},
		{"limits window", "[bind-limits]\nfail_window = \"0s\"\n", []string{"bind-limits.fail_window: must be > 0"}},
		{"limits block_for", "[bind-limits]\nblock_for = \"0s\"\n", []string{"bind-limits.block_for: must be > 0"}},
		{"limits address block_for", "[bind-limits]\nblock_after = 0\nblock_for = \"0s\"\n", []string{"bind-limits.block_for: must be > 0 when block_after or address_block_after"}},
		{"limits address negative", "[bind-limits]\naddress_block_after = -1\n", []string{"bind-limits.address_block_after: -1 is out of range 0..1048576"}},
		{"limits pending zero", "[bind-limits]\nmax_pending_per_address = 0\n", []string{"bind-limits.max_pending_per_address: 0 is out of range 1..1024"}},
		{"limits pending over queue", "[bind-limits]\nmax_pending_per_address = 1025\n", []string{"bind-limits.max_pending_per_address: 1025 is out of range 1..1024"}},
		{"tls handshake short", "[smpp-server.tls]\nhandshake_timeout = \"10ms\"\n", []string{"smpp-server.tls.handshake_timeout: 10ms is out of range 100ms..1m"}},
		{"tls write long", "[smpp-server.tls]\nwrite_timeout = \"1h\"\n", []string{"smpp-server.tls.write_timeout: 1h0m0s is out of range 1s..10m"}},
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

// smppConn is a valid [[connector]] of type smpp; extra goes into its
// [connector.smpp] table (lines 7 on).
func smppConn(name, extra string) string {
	return "[[connector]]\nname = \"" + name + "\"\ntype = \"smpp\"\n[connector.smpp]\nhost = \"10.0.0.1\"\nsystem_id = \"up\"\n" + extra
}

// TestIssue5Validation covers every check of the message-flow keys: the
// error names the key and the line it was written on.
func TestIssue5Validation(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		// users
		{"unknown group", user("a") + "group = \"vip\"\n", []string{":4: user[0].group: unknown group \"vip\""}},
		{"per-type binds", user("a") + "max_binds_per_type = { receiver = -1 }\n", []string{":4: user[0].max_binds_per_type.receiver: -1 is out of range 0..1048576"}},
		{"default source long", user("a") + "default_source = \"123456789012345678901\"\n", []string{":4: user[0].default_source: must be at most 20 characters"}},
		{"default source control", user("a") + "default_source = \"a\\tb\"\n", []string{":4: user[0].default_source: must be at most 20"}},
		{"source regexp", user("a") + "source_addrs = [\"ACME\",\n \"re:(33\"]\n", []string{":4: user[0].source_addrs: \"re:(33\": error parsing regexp: missing closing )"}},
		{"source empty regexp", user("a") + "source_addrs = [\"re:\"]\n", []string{":4: user[0].source_addrs: \"re:\": empty regular expression"}},
		{"source star inside", user("a") + "source_addrs = [\"33*1\"]\n", []string{":4: user[0].source_addrs: \"33*1\": '*' is allowed only at the end"}},
		{"source empty", user("a") + "source_addrs = [\"\"]\n", []string{":4: user[0].source_addrs: \"\": empty pattern"}},
		{"default source refused", user("a") + "source_addrs = [\"33*\", \"re:ACME|SHOP\"]\ndefault_source = \"ACMEX\"\n",
			[]string{":5: user[0].default_source: \"ACMEX\" is not allowed by source_addrs"}},
		{"default source allowed", user("a") + "source_addrs = [\"33*\", \"re:ACME|SHOP\", \"X\"]\ndefault_source = \"SHOP\"\n" +
			user("b") + "source_addrs = [\"*\"]\ndefault_source = \"any\"\n" + user("c") + "source_addrs = [\"33*\"]\ndefault_source = \"3312\"\n" +
			user("d") + "source_addrs = [\"X\"]\ndefault_source = \"X\"\n", nil},
		{"source long", user("a") + "source_addrs = [\"123456789012345678901*\"]\n", []string{":4: user[0].source_addrs: \"123456789012345678901*\": must be at most 20"}},
		{"throughput negative", user("a") + "throughput = -1\n", []string{":4: user[0].throughput: must be a number of parts per second, 0 (unlimited) to 1e9, got -1"}},
		{"throughput nan", user("a") + "throughput = nan\n", []string{":4: user[0].throughput: must be a number of parts per second"}},
		{"throughput inf", user("a") + "throughput = inf\n", []string{":4: user[0].throughput: must be a number"}},
		{"burst", user("a") + "burst = -2\n", []string{":4: user[0].burst: -2 is out of range 0..1073741824"}},
		{"balance decimals", user("a") + "balance = \"12.1234567\"\n", []string{":4: user[0].balance: must be \"unlimited\" or a non-negative decimal with at most 6 decimals, got \"12.1234567\""}},
		{"balance negative", user("a") + "balance = \"-5\"\n", []string{":4: user[0].balance: must be \"unlimited\""}},
		{"balance words", user("a") + "balance = \"plenty\"\n", []string{":4: user[0].balance: must be \"unlimited\""}},
		{"balance dot", user("a") + "balance = \".\"\n", []string{":4: user[0].balance: must be \"unlimited\""}},
		{"balance huge", user("a") + "balance = \"99999999999999999999\"\n", []string{":4: user[0].balance: is too large"}},
		{"quota", user("a") + "quota = -1\n", []string{":4: user[0].quota: -1 must be >= 0 (0 = unlimited)"}},
		{"priority", user("a") + "max_priority = 4\n", []string{":4: user[0].max_priority: 4 is out of range 0..3"}},
		{"held share", user("a") + "max_held_per_user = -1\n", []string{":4: user[0].max_held_per_user: -1 is out of range 0..67108864"}},
		// groups
		{"group name", "[[group]]\nname = \"a b\"\n", []string{":2: group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got \"a b\""}},
		{"group no name", "[[group]]\nenabled = false\n", []string{":1: group[0].name: must be 1..64"}},
		{"group twice", "[[group]]\nname = \"g\"\n[[group]]\nname = \"g\"\n", []string{":4: group[1].name: \"g\" is already defined by group[0]"}},
		{"group held share", "[[group]]\nname = \"g\"\nmax_held_per_user = 67108865\n", []string{":3: group[0].max_held_per_user: 67108865 is out of range 0..67108864"}},
		{"delivery held share", "[delivery]\nmax_held = 100\nmax_held_per_user = 101\n", []string{":3: delivery.max_held_per_user: 101 is out of range 0..100"}},
		{"delivery held share negative", "[delivery]\nmax_held_per_user = -1\n", []string{":2: delivery.max_held_per_user: -1 is out of range 0..100000"}},
		// connectors
		{"connector name", "[[connector]]\nname = \"up/1\"\ntype = \"sim\"\n", []string{":2: connector[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got \"up/1\""}},
		{"connector twice", "[[connector]]\nname = \"c\"\ntype = \"sim\"\n[[connector]]\nname = \"c\"\ntype = \"sim\"\n",
			[]string{":5: connector[1].name: \"c\" is already defined by connector[0]"}},
		{"connector queue", "[[connector]]\nname = \"c\"\ntype = \"sim\"\nqueue = 0\n", []string{":4: connector[0].queue: 0 is out of range 1..16777216"}},
		{"smpp table on sim", "[[connector]]\nname = \"c\"\ntype = \"sim\"\n[connector.smpp]\nhost = \"h\"\n", []string{":4: connector[0].smpp: a [connector.smpp] table is not allowed for type \"sim\""}},
		{"sim table on smpp", smppConn("c", "[connector.sim]\nseed = 1\n"), []string{":7: connector[0].sim: a [connector.sim] table is not allowed for type \"smpp\""}},
		{"route connector", "[[mt_route]]\nname = \"r\"\nkind = \"static\"\nconnectors = [\"up\"]\n", []string{":4: mt_route[0].connectors: unknown connector \"up\""}},
		{"route user", user("a") + "[[mt_route]]\nname = \"r\"\nkind = \"default\"\nconnectors = [\"sim\"]\nusers = [\"a\", \"b\"]\n", []string{":8: mt_route[0].users: unknown user \"b\""}},
		{"route group", "[[mt_route]]\nname = \"r\"\nkind = \"default\"\nconnectors = [\"sim\"]\ngroups = [\"vip\"]\n", []string{":5: mt_route[0].groups: unknown group \"vip\""}},
		{"mo route user", "[[mo_route]]\nname = \"r\"\nuser = \"nobody\"\n", []string{":3: mo_route[0].user: unknown user \"nobody\""}},
		{"mo route connector", user("a") + "[[mo_route]]\nname = \"r\"\nuser = \"a\"\nfrom_connectors = [\"up\"]\n", []string{":7: mo_route[0].from_connectors: unknown connector \"up\""}},
		// delivery, storage, admin
		{"hold lifetime", "[delivery]\nhold_lifetime = \"0s\"\n", []string{":2: delivery.hold_lifetime: must be > 0"}},
		{"max held", "[delivery]\nmax_held = 0\n", []string{":2: delivery.max_held: 0 is out of range 1..67108864"}},
		{"delivery retry", "[delivery]\nretry_min = \"10m\"\n", []string{":1: delivery.retry_max: 5m0s is less than retry_min (10m0s)"}},
		{"reassembly timeout", "[delivery]\nreassembly_timeout = \"0s\"\n", []string{":2: delivery.reassembly_timeout: must be > 0"}},
		{"receipt id format", "[delivery]\nreceipt_id_format = \"octal\"\n", []string{":2: delivery.receipt_id_format: must be \"hex\" or \"decimal\", got \"octal\""}},
		{"receipt zone", "[delivery]\nreceipt_time_zone = \"Mars/Olympus\"\n", []string{":2: delivery.receipt_time_zone: \"Mars/Olympus\" is not a time zone"}},
		{"default validity", "[delivery]\ndefault_validity = \"0s\"\n", []string{":2: delivery.default_validity: must be > 0"}},
		{"message ttl", "[storage]\nmessage_ttl = \"0s\"\n", []string{":2: storage.message_ttl: must be > 0"}},
		{"max records", "[storage]\nkind = \"memory\"\nmax_records = 0\nmax_upstream_ids = -1\n", []string{":3: storage.max_records: 0 is out of range", ":4: storage.max_upstream_ids: -1 is out of range"}},
		{"admin open", "[admin]\nenabled = true\nbind = \"0.0.0.0\"\n", []string{":3: admin.bind: 0.0.0.0 is not a loopback address: set a token, or allow_insecure = true"}},
		{"admin bind", "[admin]\nbind = \"localhost\"\n", []string{":2: admin.bind: must be an IP address literal"}},
		{"admin port", "[admin]\nport = 70000\n", []string{":2: admin.port: 70000 is out of range 1..65535"}},
		{"admin port clash", "[admin]\nenabled = true\nport = 2775\n", []string{":3: admin.port: 2775 is also the SMPP port"}},
		{"admin tls port clash", "[smpp-server.tls]\nenabled = true\ncert_file = \"c.pem\"\nkey_file = \"c.pem\"\n[admin]\nenabled = true\nport = 3550\n",
			[]string{":7: admin.port: 3550 is also the SMPP-over-TLS port"}},
		{"admin token", "[admin]\ntoken = \"two words\"\n", []string{":2: admin.token: must not contain spaces"}},
		// accepted
		{"admin open with token", "[admin]\nenabled = true\nbind = \"::\"\ntoken = \"0123456789abcdef0123\"\n", nil},
		{"admin open insecure", "[admin]\nenabled = true\nbind = \"0.0.0.0\"\nallow_insecure = true\n", nil},
		{"admin on ::1", "[admin]\nenabled = true\nbind = \"::1\"\n", nil},
		{"admin allowed_hosts", "[admin]\nallowed_hosts = [\"Smpp1.Example.net.\", \"10.0.0.5\", \"::1\", \"svc_admin\"]\n", nil},
		{"admin allowed_hosts port", "[admin]\nallowed_hosts = [\"example.net:8790\"]\n", []string{`:2: admin.allowed_hosts: "example.net:8790": a host without port`}},
		{"admin allowed_hosts brackets", "[admin]\nallowed_hosts = [\"[::1]\"]\n", []string{`:2: admin.allowed_hosts: "[::1]": write an IPv6 address without brackets`}},
		{"admin allowed_hosts wildcard", "[admin]\nallowed_hosts = [\"*.example.net\"]\n", []string{`:2: admin.allowed_hosts: "*.example.net": wildcards are not supported`}},
		{"admin allowed_hosts empty", "[admin]\nallowed_hosts = [\"\"]\n", []string{`:2: admin.allowed_hosts: "": empty entry`}},
		{"admin allowed_hosts bad name", "[admin]\nallowed_hosts = [\"a b.net\", \"-x.net\", \"x..net\"]\n",
			[]string{`admin.allowed_hosts: "a b.net": not a DNS name`, `admin.allowed_hosts: "-x.net": not a DNS name`, `admin.allowed_hosts: "x..net": not a DNS name`}},
		{"disabled admin unchecked", "[admin]\nbind = \"0.0.0.0\"\nport = 2775\n", nil},
		{"balance forms", user("a") + "balance = \"UNLIMITED\"\n" + user("b") + "balance = \"+.5\"\n" + user("c") + "balance = \"0\"\n" + user("d") + "balance = \"7.123456\"\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, map[string]string{"smppd.toml": tc.src, "c.pem": "x"}))
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

func TestIssue5Warnings(t *testing.T) {
	src := user("a") + "bind_types = [\"receiver\"]\nmax_binds = 2\nmax_binds_per_type = { transmitter = 1, receiver = 3 }\nburst = 5\n" +
		"[storage]\nmessage_ttl = \"1h\"\n[admin]\nenabled = true\ntoken = \"short\"\n" +
		"[[connector]]\nname = \"a\"\ntype = \"sim\"\n[[connector]]\nname = \"b\"\ntype = \"sim\"\n"
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"user[0].max_binds_per_type.transmitter: a limit for transmitter binds, which bind_types does not allow",
		"user[0].max_binds_per_type.receiver: 3 exceeds max_binds (2)",
		"user[0].burst: 5 has no effect without a throughput",
		"storage: message_ttl 1h0m0s < delivery.default_validity 48h0m0s",
		"admin: the token is shorter than 16 characters",
		`connector "b" is in no mt_route`,
	} {
		if !slices.ContainsFunc(c.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning containing %q in %q", w, c.Warnings)
		}
	}
	if len(c.Warnings) != 6 {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

// TestConnectorsAndRoutes: a kind's sub-table is kept as written for its
// kind to decode (none: nil), and without MT routes the first connector
// gets the default route.
func TestConnectorsAndRoutes(t *testing.T) {
	src := smppConn("up", "window = 20\n") + "[[connector]]\nname = \"sim2\"\ntype = \"sim\"\n"
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"host": "10.0.0.1", "system_id": "up", "window": int64(20)}
	if len(c.Connectors) != 2 || c.Connectors[0].Type != "smpp" || !reflect.DeepEqual(c.Connectors[0].Settings, want) {
		t.Fatalf("smpp connector = %+v", c.Connectors[0])
	}
	if s := c.Connectors[1]; s.Type != "sim" || s.Settings != nil || s.Queue != 65536 {
		t.Errorf("sim connector = %+v", s)
	}
	if !reflect.DeepEqual(c.MTRoutes, []MTRoute{DefaultMTRoute("up")}) {
		t.Errorf("mt routes = %+v", c.MTRoutes)
	}
	if len(c.Warnings) != 2 || !strings.Contains(c.Warnings[1], `connector "sim2" is in no mt_route`) {
		t.Errorf("warnings = %q", c.Warnings)
	}
	// Explicit routes replace the default one.
	c, err = Load(writeConfig(t, map[string]string{"smppd.toml": src + "[[mt_route]]\nname = \"r\"\nkind = \"failover\"\nconnectors = [\"up\", \"sim2\"]\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.MTRoutes) != 1 || c.MTRoutes[0].Name != "r" {
		t.Errorf("mt routes = %+v", c.MTRoutes)
	}
	// Validate on a Config built in code.
	cc := Defaults()
	cc.Connectors = []Connector{{Name: "x", Type: "sim", Queue: 8}}
	if err := cc.Validate(); err != nil {
		t.Fatal(err)
	}
	if cc.MTRoutes[0].Connectors[0] != "x" {
		t.Errorf("built config = %+v %+v", cc.Connectors, cc.MTRoutes)
	}
	cc = Defaults()
	cc.Connectors = nil
	wantErr(t, cc.Validate(), "connector: at least one connector is required")
}

func TestGroupsAcrossFiles(t *testing.T) {
	c, err := Load(writeConfig(t, map[string]string{
		"smppd.toml": "[[group]]\nname = \"inline\"\n" + user("a") + "group = \"filed\"\n",
		"users.toml": "[[group]]\nname = \"filed\"\nenabled = false\n" + user("b") + "group = \"inline\"\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Groups) != 2 || c.InlineGroups != 1 || c.GroupEnabled("filed") || !c.GroupEnabled("inline") {
		t.Errorf("groups = %+v", c.Groups)
	}
	_, err = Load(writeConfig(t, map[string]string{
		"smppd.toml": "[[group]]\nname = \"g\"\n",
		"users.toml": "\n[[group]]\nname = \"h\"\n[[group]]\nname = \"g\"\n",
	}))
	wantErr(t, err, "users.toml:5: group[2].name: \"g\" is already defined by group[0]")
}

func TestErrorAt(t *testing.T) {
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[[mt_route]]\nname = \"r\"\nkind = \"default\"\n\ndest_regex = \"(\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	// routing.Compile reports "mt_route[0].dest_regex"; cmd/smppd adds the line.
	e := c.ErrorAt("mt_route[0].dest_regex", "bad regular expression")
	if e.Line != 5 || !strings.HasSuffix(e.Error(), "smppd.toml:5: mt_route[0].dest_regex: bad regular expression") {
		t.Errorf("ErrorAt = %v", e)
	}
	if e := c.ErrorAt("mt_route[0].weights", "x"); e.Line != 1 {
		t.Errorf("a key left out should have its table's line: %v", e)
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
		"[bind-limits]\nslow_after = 30\nblock_after = 10\nslow_delay = \"40s\"\naddress_block_after = 5\n" + user("a")
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": src}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"enquireLinkTimerSecs (300) >= inactivityTimerSecs (300)", "max_pdu_len 16384 refuses legal PDUs",
		"slow_after (30) > block_after (10)", "slow_delay 40s >= sessionInitTimerSecs",
		"address_block_after (5) < block_after (10): an address is blocked before any of its pairs"} {
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
		if u.SystemID != id || !u.Enabled || u.MaxBinds != 1000 || len(u.BindTypes) != 3 || len(u.Account.AllowIPs) != 0 {
			t.Errorf("demo user %d: %+v", i, u)
		}
	}
	// Issue 5: the simulator, a default route to it, every MO to demo, the
	// admin API on loopback without a token; issue 16: the disk store in
	// configs/var/smppd, synced before every answer.
	// (The simulator's settings are its kind's: cmd/smppd's TestDemoKinds.)
	if len(c.Connectors) != 1 || c.Connectors[0].Name != "sim" || c.Connectors[0].Type != "sim" || c.Connectors[0].Settings == nil {
		t.Fatalf("demo connectors: %+v", c.Connectors)
	}
	if len(c.MTRoutes) != 1 || c.MTRoutes[0].Kind != "default" || !slices.Equal(c.MTRoutes[0].Connectors, []string{"sim"}) || c.MTRoutes[0].Rate != 0 {
		t.Errorf("demo mt routes: %+v", c.MTRoutes)
	}
	if len(c.MORoutes) != 1 || c.MORoutes[0].User != "demo" || !reflect.DeepEqual(c.MORoutes[0].RouteFilter, RouteFilter{}) {
		t.Errorf("demo mo routes: %+v", c.MORoutes)
	}
	if a := c.Admin; !a.Enabled || a.Bind != "127.0.0.1" || a.Port != 8790 || a.Token != "" {
		t.Errorf("demo admin: %+v", a)
	}
	dir, err := filepath.Abs(filepath.Join("..", "configs", "var", "smppd"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Storage{Kind: "disk", Dir: dir, Sync: "always", SyncInterval: Duration(10 * time.Millisecond), MaxDisk: 8 << 30,
		MessageTTL: Duration(72 * time.Hour), MaxRecords: 1000000, MaxUpstreamIDs: 1000000}); c.Storage != want || !reflect.DeepEqual(c.Delivery, func() Delivery {
		d := Defaults().Delivery
		d.ReceiptLocation = time.UTC
		return d
	}()) {
		t.Errorf("demo storage/delivery: %+v %+v", c.Storage, c.Delivery)
	}
	if len(c.Groups) != 1 || c.Groups[0] != (Group{Name: "default", Enabled: true}) {
		t.Errorf("demo groups: %+v", c.Groups)
	}
	// Benchmarks run on demo: no throughput or credit limit.
	if d := c.Users[0]; d.Throughput != 0 || d.Balance != "unlimited" || d.Quota != 0 || !d.Receipts || d.Group != "default" {
		t.Errorf("demo user limits: %+v", d)
	}
	if d2 := c.Users[1]; d2.Throughput != 100 || d2.Burst != 50 || d2.Balance != "1000" || !d2.Receipts {
		t.Errorf("demo2 user limits: %+v", d2)
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
	if got := c.Users[0].Account.AllowIPs; len(got) != 1 || got[0] != netip.MustParsePrefix("::1/128") {
		t.Errorf("Account.AllowIPs = %v", got)
	}
}

// saveSample returns users and groups with every key away from its default,
// so a round trip covers every field (TestSaveUsersRoundTrip checks that).
func saveSample() ([]User, []Group) {
	groups := []Group{{Name: "retail", Enabled: true}, {Name: "off", Enabled: false, MaxHeldPerUser: 64}}
	users := []User{
		{
			SystemID: "full", PasswordHash: testHash, Enabled: false, BindTypes: []string{"receiver", "transceiver"},
			MaxBinds: 7, AllowIPs: []string{"10.0.0.0/8", "2001:db8::1"}, Group: "retail",
			MaxBindsPerType: BindsPerType{Transmitter: 0, Receiver: 2, Transceiver: 5}, DefaultSource: "Shop \"A\"",
			SourceAddrs: []string{"ACME", "3361*", `re:^\+?336\d{8}$`, "it's", "Shop*"}, Receipts: false,
			Throughput: 100, Burst: 50, Balance: "1000.5", Quota: 123456789012, QuotaUsed: 42,
			MaxValidity: Duration(90 * time.Minute), MaxPriority: 0, MaxHeldPerUser: 12,
			Auth: "password+cert", CertSubjects: []string{"CN=esme1,O=Acme"}, CertFingerprints: []string{strings.Repeat("ab:", 31) + "ab"},
			Deny: []string{"http_rate", "set_schedule_delivery_time"}, APIKeyHash: "sha256$" + strings.Repeat("0f", 32),
			CallbackSecret: "dlr-signing-secret-0123",
		},
		{SystemID: "plain", PasswordHash: testHash, Enabled: true, BindTypes: []string{"transmitter", "receiver", "transceiver"},
			Receipts: true, Balance: "unlimited", MaxPriority: 3, Throughput: 0.25, Auth: "password"},
	}
	return users, groups
}

func TestSaveUsersRoundTrip(t *testing.T) {
	users, groups := saveSample()
	// Every User and Group key differs from its default in the sample.
	for _, tc := range []struct{ v, def any }{{users[0], DefaultUser()}, {groups[1], DefaultGroup()}} {
		v, d := reflect.ValueOf(tc.v), reflect.ValueOf(tc.def)
		for _, f := range tomlFields(v.Type()) {
			if tag(f) != "system_id" && tag(f) != "password_hash" && tag(f) != "name" && sameValue(v.FieldByIndex(f.Index), d.FieldByIndex(f.Index)) {
				t.Errorf("sample leaves %s at its default: the round trip would not cover it", tag(f))
			}
		}
	}
	dir := t.TempDir()
	main := filepath.Join(dir, "smppd.toml")
	if err := os.WriteFile(main, []byte("[smpp-server]\nusers_file = \"users.toml\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.toml")
	if err := SaveUsers(path, users, groups); err != nil {
		t.Fatal(err)
	}
	c, err := Load(main)
	if err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("%v\n%s", err, b)
	}
	want := Defaults()
	want.Path, want.Users, want.Groups = main, slices.Clone(users), groups
	if err := want.Validate(); err != nil { // fills Account
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Users, want.Users) || !reflect.DeepEqual(c.Groups, want.Groups) {
		b, _ := os.ReadFile(path)
		t.Errorf("round trip\n got %+v %+v\nwant %+v %+v\nfile:\n%s", c.Users, c.Groups, want.Users, want.Groups, b)
	}
	if users[0].Account.SystemID != "" {
		t.Error("SaveUsers modified its argument")
	}
	// Keys at their default are left out, the identifying ones never.
	b, _ := os.ReadFile(path)
	plain := string(b[strings.Index(string(b), `system_id = "plain"`):])
	for _, k := range []string{"max_priority", "receipts", "balance", "bind_types", "group ="} {
		if strings.Contains(plain, k) {
			t.Errorf("default key %s written for user plain:\n%s", k, plain)
		}
	}
	if !strings.Contains(plain, "enabled = true") || !strings.Contains(plain, "throughput = 0.25") {
		t.Errorf("user plain:\n%s", plain)
	}
	if !strings.Contains(string(b), `max_validity = "1h30m"`) || !strings.Contains(string(b), `'re:^\+?336\d{8}$'`) ||
		!strings.Contains(string(b), "throughput = 100.0") || !strings.HasPrefix(string(b), defaultUsersHeader) {
		t.Errorf("file:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestSaveUsersKeepsHeaderAndMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.toml")
	orig := "# our header\n#\n# second paragraph\n\n[[user]] # not kept\n" + strings.TrimPrefix(user("x"), "[[user]]\n")
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // umask
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.toml")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	users, groups := saveSample()
	if err := SaveUsers(link, users[1:], groups[:1]); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "# our header\n#\n# second paragraph\n\n[[group]]\n") || strings.Contains(string(b), "not kept") {
		t.Errorf("header not kept:\n%s", b)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("temporary file left behind: %v", ents)
	}
}

func TestSaveUsersRefusesInvalid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.toml")
	if err := os.WriteFile(path, []byte(user("keep")), 0o600); err != nil {
		t.Fatal(err)
	}
	users, groups := saveSample()
	users[1].Balance = "12.3456789"
	users = append(users, users[0])
	err := SaveUsers(path, users, append(groups, Group{Name: "bad name"}))
	wantErr(t, err, "users.toml: user[1].balance: must be \"unlimited\"", "user[2].system_id: \"full\" is already defined by user[0]",
		"group[2].name: must be 1..64")
	if b, _ := os.ReadFile(path); string(b) != user("keep") {
		t.Errorf("file changed after a refused save:\n%s", b)
	}
	// A group of the main file may be named: SaveUsers cannot see it.
	users, _ = saveSample()
	if err := SaveUsers(path, users, nil); err != nil {
		t.Errorf("group reference outside the users file: %v", err)
	}
	if err := SaveUsers(filepath.Join(dir, "missing", "users.toml"), users, nil); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
}

// TestSaveDemoUsers: the demo users file survives a save and reload.
func TestSaveDemoUsers(t *testing.T) {
	c, err := Load("../configs/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile("../configs/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "smppd.toml")
	if err := os.WriteFile(main, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveUsers(filepath.Join(dir, "users.toml"), c.Users[c.InlineUsers:], c.Groups[c.InlineGroups:]); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(main)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(nilEmpty(c.Users), nilEmpty(c2.Users)) || !reflect.DeepEqual(c.Groups, c2.Groups) {
		t.Errorf("demo users changed by a save:\n%+v\n%+v", c.Users, c2.Users)
	}
}

// nilEmpty sets empty slices in users to nil: `allow_ips = []` and a key
// left out mean the same.
func nilEmpty(users []User) []User {
	out := slices.Clone(users)
	for i := range out {
		v := reflect.ValueOf(&out[i]).Elem()
		for j := range v.NumField() {
			if f := v.Field(j); f.Kind() == reflect.Slice && f.Len() == 0 {
				f.SetZero()
			}
		}
	}
	return out
}

func TestWarnsWhenRecordsCannotCoverTheQueues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "smppd.toml")
	conf := "[storage]\nkind = \"memory\"\nmax_records = 1000\n\n[[connector]]\nname = \"sim\"\ntype = \"sim\"\nqueue = 4096\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(c.Warnings, func(w string) bool {
		return strings.Contains(w, "max_records 1000 < twice the connector queues (4096)")
	}) {
		t.Fatalf("warnings %q", c.Warnings)
	}
}

// A wildcard admin bind without allowed_hosts works for IP literals and
// loopback only: the operator is told names will be refused.
func TestAdminWildcardHostsWarning(t *testing.T) {
	const open = "[admin]\nenabled = true\nbind = \"::\"\ntoken = \"0123456789abcdef0123\"\n"
	for _, tc := range []struct {
		src  string
		warn bool
	}{{open, true}, {open + "allowed_hosts = [\"smpp1.example.net\"]\n", false}} {
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": tc.src}))
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(c.Warnings, func(s string) bool { return strings.Contains(s, "no allowed_hosts") })
		if got != tc.warn {
			t.Errorf("%q: warning %v, want %v (%q)", tc.src, got, tc.warn, c.Warnings)
		}
	}
}

// max_held_per_user 0 is 10% of max_held (at least 1).
func TestHeldShare(t *testing.T) {
	for _, c := range []struct{ held, share, want int }{{100000, 0, 10000}, {5, 0, 1}, {5000, 800, 800}} {
		d := Delivery{MaxHeld: c.held, MaxHeldPerUser: c.share}
		if got := d.HeldShare(); got != c.want {
			t.Errorf("max_held %d, max_held_per_user %d: share %d, want %d", c.held, c.share, got, c.want)
		}
	}
	if d := Defaults().Delivery; d.MaxHeldPerUser != 0 || d.HeldShare() != d.MaxHeld/10 {
		t.Errorf("default share %d of %d", d.HeldShare(), d.MaxHeld)
	}
}
