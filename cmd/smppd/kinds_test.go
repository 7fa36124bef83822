package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/connector/smppout"
	"github.com/smppd/smppd/msg"
)

// settingsOf reads connector i of cfg with its kind, failing t on error.
func settingsOf(t *testing.T, cfg *config.Config, i int) any {
	t.Helper()
	_, s, _, err := connectorKind(cfg, i)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKindsReadEveryKey: the full example's [connector.sim] and
// [connector.smpp] reach their kinds' settings, key for key, and every key
// a registered kind has is in that file.
func TestKindsReadEveryKey(t *testing.T) {
	const full = "../../config/testdata/full/smppd.toml"
	cfg, warns, err := loadConfig(full)
	if err != nil {
		t.Fatal(err)
	}
	wantSim := sim.Settings{Latency: connector.Duration(5 * time.Millisecond), ReceiptDelay: connector.Duration(250 * time.Millisecond),
		Outcomes:       sim.SettingsOutcomes{Delivered: 70, Undeliverable: 10, Expired: 15, Rejected: 5},
		MOEchoPrefixes: []string{"999", "+1555"}, Intermediate: true, Seed: 42}
	if got := settingsOf(t, cfg, 0).(*sim.Settings); !reflect.DeepEqual(*got, wantSim) {
		t.Errorf("sim settings\n got %+v\nwant %+v", *got, wantSim)
	}
	five, zero := 5, 0
	wantSMPP := smppout.Settings{Host: "smsc.example.net", Port: 2776, TLS: true, TLSSkipVerify: true,
		TLSCAFile: filepath.Join(filepath.Dir(full), "cert.pem"), SystemID: "smppd01", Password: "secret",
		SystemType: "VMA", BindMode: "tx+rx", Binds: 4, ClusterBinds: 8, Window: 50, Throughput: 250.5,
		EnquireLink: connector.Duration(15 * time.Second), ResponseTimeout: connector.Duration(20 * time.Second),
		ReconnectMin: connector.Duration(2 * time.Second), ReconnectMax: connector.Duration(2 * time.Minute),
		RetryMin: connector.Duration(3 * time.Second), RetryMax: connector.Duration(3 * time.Minute),
		DefaultValidity: connector.Duration(12 * time.Hour), SupportsPayload: false, SourceTON: &five, SourceNPI: &zero}
	if got := settingsOf(t, cfg, 1).(*smppout.Settings); !reflect.DeepEqual(*got, wantSMPP) {
		t.Errorf("smpp settings\n got %+v\nwant %+v", *got, wantSMPP)
	}
	// tls_skip_verify = true is the one key of the file that warns.
	if len(warns) != 1 || !strings.Contains(warns[0], "connector[1].smpp.tls_skip_verify: the upstream's certificate is not checked") {
		t.Errorf("warnings %q", warns)
	}

	// Every key of every kind is in the file (so in the test above).
	src, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	index := regexp.MustCompile(`(?m)^\s*([A-Za-z_]+)\s*=`)
	section := ""
	for _, line := range strings.Split(string(src), "\n") {
		if h := strings.TrimSpace(line); strings.HasPrefix(h, "[") {
			section = strings.Trim(h, "[]")
			continue
		}
		if m := index.FindStringSubmatch(line); m != nil {
			written[section+"."+m[1]] = true
		}
	}
	for _, name := range kinds.Names() {
		k, _ := kinds.Lookup(name)
		for _, key := range tomlKeys(reflect.TypeOf(k.Settings()).Elem()) {
			if !written["connector."+name+"."+key] {
				t.Errorf("key connector.%s.%s is missing from %s", name, key, full)
			}
		}
	}
}

// tomlKeys lists a settings struct's top-level keys.
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// The demo config runs the simulator with receipts at 100 ms and an MO
// echo for 999 numbers.
func TestDemoKinds(t *testing.T) {
	cfg, _, err := loadConfig("../../configs/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := settingsOf(t, cfg, 0).(*sim.Settings)
	if s.Latency != 0 || s.ReceiptDelay.D() > 200*time.Millisecond || !reflect.DeepEqual(s.MOEchoPrefixes, []string{"999"}) ||
		s.Outcomes != (sim.SettingsOutcomes{Delivered: 100}) {
		t.Errorf("demo sim: %+v", s)
	}
}

// A kind's errors name the file, the line and the key, as config's own do.
func TestKindErrors(t *testing.T) {
	const simHead = "[[connector]]\nname = \"c\"\ntype = \"sim\"\n[connector.sim]\n" // sim keys from line 5
	smpp := func(extra string) string {
		return "[[connector]]\nname = \"c\"\ntype = \"smpp\"\n[connector.smpp]\nhost = \"10.0.0.1\"\nsystem_id = \"up\"\n" + extra
	}
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown kind", "[[connector]]\nname = \"c\"\ntype = \"http\"\n", []string{":3: connector[0].type: must be \"sim\" or \"smpp\", got \"http\""}},
		{"no kind", "[[connector]]\nname = \"c\"\n", []string{":1: connector[0].type: must be \"sim\" or \"smpp\", got \"\""}},
		{"smpp without table", "[[connector]]\nname = \"c\"\ntype = \"smpp\"\n", []string{":3: connector[0].type: type \"smpp\" needs a [connector.smpp] table"}},
		{"sim unknown key", simHead + "latency = \"1s\"\ndelay = \"1s\"\n", []string{":6: connector[0].sim.delay: unknown key"}},
		{"sim outcomes key", "[[connector]]\nname = \"c\"\ntype = \"sim\"\nsim.outcomes = { delivrd = 100 }\n",
			[]string{":4: connector[0].sim.outcomes.delivrd: unknown key"}},
		{"smpp unknown key", smpp("username = \"u\"\n"), []string{":7: connector[0].smpp.username: unknown key"}},
		{"string for ton", smpp("source_ton = \"5\"\n"), []string{":7: connector[0].smpp.source_ton: expected an integer"}},
		{"negative receipt delay", simHead + "receipt_delay = \"-1s\"\n", []string{":5: connector[0].sim.receipt_delay: duration must not be negative"}},
		{"sim latency", simHead + "latency = \"2h\"\n", []string{":5: connector[0].sim.latency: 2h0m0s is longer than 1h"}},
		{"sim receipt delay", simHead + "receipt_delay = \"25h\"\n", []string{":5: connector[0].sim.receipt_delay: 25h0m0s is longer than 24h"}},
		{"sim outcomes sum", simHead + "outcomes = { undeliverable = 10 }\n", []string{":5: connector[0].sim.outcomes: the percentages add up to 110, not 100"}},
		{"sim outcome range", simHead + "outcomes = { delivered = 110, rejected = -10 }\n",
			[]string{":5: connector[0].sim.outcomes.delivered: 110 is out of range 0..100", ":5: connector[0].sim.outcomes.rejected: -10 is out of range 0..100"}},
		{"sim echo prefix", simHead + "mo_echo_prefixes = [\"\"]\n", []string{":5: connector[0].sim.mo_echo_prefixes: \"\" must be 1..20 printable characters"}},
		{"smpp no host", "[[connector]]\nname = \"c\"\ntype = \"smpp\"\n[connector.smpp]\nsystem_id = \"up\"\n", []string{":4: connector[0].smpp.host: is required"}},
		{"smpp host with port", strings.Replace(smpp(""), "10.0.0.1", "smsc:2775", 1), []string{":5: connector[0].smpp.host: must be a host name or IP address without a port"}},
		{"smpp host brackets", strings.Replace(smpp(""), "10.0.0.1", "[::1]", 1), []string{":5: connector[0].smpp.host: write an IPv6 address without brackets"}},
		{"smpp host space", strings.Replace(smpp(""), "10.0.0.1", "smsc one", 1), []string{":5: connector[0].smpp.host: must not contain spaces"}},
		{"smpp port", smpp("port = 0\n"), []string{":7: connector[0].smpp.port: 0 is out of range 1..65535"}},
		{"smpp system id", strings.Replace(smpp(""), "\"up\"", "\"a-very-long-system-id\"", 1), []string{":6: connector[0].smpp.system_id: must be 1..15"}},
		{"smpp password", smpp("password = \"123456789\"\n"), []string{":7: connector[0].smpp.password: must be at most 8 characters"}},
		{"smpp system type", smpp("system_type = \"1234567890123\"\n"), []string{":7: connector[0].smpp.system_type: must be at most 12 characters"}},
		{"smpp bind mode", smpp("bind_mode = \"receiver\"\n"), []string{":7: connector[0].smpp.bind_mode: must be \"transceiver\" or \"tx+rx\", got \"receiver\""}},
		{"smpp binds", smpp("binds = 0\n"), []string{":7: connector[0].smpp.binds: 0 is out of range 1..64"}},
		{"smpp window", smpp("window = 0\n"), []string{":7: connector[0].smpp.window: 0 is out of range 1..65536"}},
		{"smpp throughput", smpp("throughput = -0.5\n"), []string{":7: connector[0].smpp.throughput: must be a number of submit_sm per second"}},
		{"smpp response timeout", smpp("response_timeout = \"0s\"\n"), []string{":7: connector[0].smpp.response_timeout: must be > 0"}},
		{"smpp reconnect", smpp("reconnect_min = \"10s\"\nreconnect_max = \"5s\"\n"), []string{":8: connector[0].smpp.reconnect_max: 5s is less than reconnect_min (10s)"}},
		{"smpp retry min", smpp("retry_min = \"0s\"\n"), []string{":7: connector[0].smpp.retry_min: must be > 0"}},
		{"smpp retry max default", smpp("retry_min = \"2m\"\n"), []string{":4: connector[0].smpp.retry_max: 1m0s is less than retry_min (2m0s)"}},
		{"smpp skip verify", smpp("tls_skip_verify = true\n"), []string{":7: connector[0].smpp.tls_skip_verify: has no effect without tls = true"}},
		{"smpp ca without tls", smpp("tls_ca_file = \"ca.pem\"\n"), []string{":7: connector[0].smpp.tls_ca_file: has no effect without tls = true", ":7: connector[0].smpp.tls_ca_file:", "no such file"}},
		{"smpp ca not pem", smpp("tls = true\ntls_ca_file = \"smppd.toml\"\n"), []string{":8: connector[0].smpp.tls_ca_file:", "no PEM certificate"}},
		{"smpp ton", smpp("source_ton = 7\n"), []string{":7: connector[0].smpp.source_ton: 7 is out of range 0..6"}},
		{"smpp npi", smpp("source_npi = 2\n"), []string{":7: connector[0].smpp.source_npi: 2 is not an SMPP 3.4 NPI"}},
		{"second connector", "[[connector]]\nname = \"a\"\ntype = \"sim\"\n[[connector]]\nname = \"b\"\ntype = \"sim\"\n[connector.sim]\nseed = \"x\"\n",
			[]string{":8: connector[1].sim.seed: expected an integer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "smppd.toml")
			if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := loadConfig(path)
			if err == nil {
				t.Fatalf("accepted; want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// A connector table without its kind's sub-table runs the kind's
// defaults; a connector is built with the config's name and queue, and
// wrapped so the operator may restart it.
func TestKindBuild(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "smppd.toml")
	src := "[[connector]]\nname = \"s1\"\ntype = \"sim\"\nqueue = 128\n" +
		"[[connector]]\nname = \"up\"\ntype = \"smpp\"\n[connector.smpp]\nhost = \"127.0.0.1\"\nsystem_id = \"up\"\n" +
		"tls = true\ntls_ca_file = \"ca.pem\"\n"
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), selfSigned(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src+"[[mt_route]]\nname = \"r\"\nkind = \"failover\"\nconnectors = [\"s1\", \"up\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := settingsOf(t, cfg, 0).(*sim.Settings); !reflect.DeepEqual(*s, sim.DefaultSettings()) {
		t.Fatalf("settings %+v, want the defaults", *s)
	}
	conns, err := newConnectors(cfg, nil, mapIDs{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		name, kind string
		caps       connector.Caps
	}{{"s1", "sim", connector.Caps{Helped: true}}, {"up", "smpp", connector.Caps{Cancel: true, Replace: true}}} {
		r, ok := conns[i].(*connector.Restartable)
		if !ok || r.Name() != want.name || r.Kind() != want.kind || r.Caps() != want.caps {
			t.Fatalf("connector %d: %T %+v", i, conns[i], conns[i])
		}
	}
	k, s, _, err := connectorKind(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.Build(s, connector.Build{Name: "s1", Queue: 128})
	if err != nil {
		t.Fatal(err)
	}
	if sc := c.(*sim.Connector); sc.Cap() != 128 || sc.Name() != "s1" {
		t.Fatalf("built %q with a queue of %d, want s1 and 128", sc.Name(), sc.Cap())
	}
	// A CA file that holds no certificate fails the build, naming why.
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newConnectors(cfg, nil, mapIDs{}, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without a certificate: %v", err)
	}
}

// mapIDs is an IDMap that keeps nothing: these connectors never start.
type mapIDs struct{}

func (mapIDs) PutUpstream(int, []byte, msg.ID) error { return nil }
func (mapIDs) Upstream(int, []byte) (msg.ID, bool)   { return 0, false }

// selfSigned returns a PEM certificate for a CA file.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestOneOf(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"a"}, `"a"`}, {[]string{"a", "b"}, `"a" or "b"`}, {[]string{"a", "b", "c"}, `"a", "b" or "c"`}} {
		if got := oneOf(tc.in); got != tc.want {
			t.Errorf("oneOf(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
