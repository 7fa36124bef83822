package config

import (
	"path/filepath"
	"testing"
	"time"
)

// kindSettings stands for a connector kind's settings struct.
type kindSettings struct {
	Host     string      `toml:"host"`
	Port     int         `toml:"port"`
	Wait     Duration    `toml:"wait"`
	Prefixes []string    `toml:"prefixes"`
	Mix      kindMix     `toml:"mix"`
	TON      *int        `toml:"ton"`
	Ratio    float64     `toml:"ratio"`
	Nested   *kindNested `toml:"nested"`
}

type kindMix struct {
	A int `toml:"a"`
	B int `toml:"b"`
}

type kindNested struct {
	On bool `toml:"on"`
}

func kindDefaults() kindSettings {
	return kindSettings{Port: 2775, Wait: Duration(time.Second), Mix: kindMix{A: 100}}
}

// DecodeSettings reads a kind's sub-table over its defaults, with the same
// strictness and the same file:line errors as the rest of the file.
func TestDecodeSettings(t *testing.T) {
	const head = "[[connector]]\nname = \"c\"\ntype = \"k\"\n"
	c, err := Parse("smppd.toml", head+"[connector.k]\nhost = \"h\"\nwait = \"250ms\"\nprefixes = [\"1\", \"2\"]\n"+
		"mix = { b = 5 }\nton = 0\nratio = 2\nnested.on = true\n")
	if err != nil {
		t.Fatal(err)
	}
	s := kindDefaults()
	if err := c.DecodeSettings(0, &s); err != nil {
		t.Fatal(err)
	}
	if s.Host != "h" || s.Port != 2775 || s.Wait.D() != 250*time.Millisecond || len(s.Prefixes) != 2 ||
		s.Mix != (kindMix{A: 100, B: 5}) || s.TON == nil || *s.TON != 0 || s.Ratio != 2 || s.Nested == nil || !s.Nested.On {
		t.Fatalf("decoded %+v", s)
	}

	// No sub-table: the defaults stand.
	c, err = Parse("smppd.toml", head)
	if err != nil {
		t.Fatal(err)
	}
	s = kindDefaults()
	if err := c.DecodeSettings(0, &s); err != nil || s.Port != 2775 || s.Host != "" {
		t.Fatalf("without a table: %+v, %v", s, err)
	}

	for _, tc := range []struct{ name, table, want string }{
		{"unknown key", "hots = \"h\"\n", "smppd.toml:5: connector[0].k.hots: unknown key"},
		{"wrong type", "\nport = \"2775\"\n", "smppd.toml:6: connector[0].k.port: expected an integer, got a string"},
		{"duration", "wait = \"5\"\n", "smppd.toml:5: connector[0].k.wait: a duration needs a unit"},
		{"nested unknown", "mix = { c = 1 }\n", "smppd.toml:5: connector[0].k.mix.c: unknown key"},
		{"array element", "prefixes = [\"1\", 2]\n", "smppd.toml:5: connector[0].k.prefixes[1]: expected a string"},
	} {
		c, err := Parse("smppd.toml", head+"[connector.k]\n"+tc.table)
		if err != nil {
			t.Fatalf("%s: Parse: %v (a kind's keys are its kind's to check)", tc.name, err)
		}
		s := kindDefaults()
		wantErr(t, c.DecodeSettings(0, &s), tc.want)
	}
	var notPtr kindSettings
	if err := c.DecodeSettings(0, notPtr); err == nil {
		t.Error("DecodeSettings into a struct value accepted")
	}
}

// A [[connector]] keeps only the table of its own kind; another kind's is
// refused, and a scalar where a table goes is an unknown key.
func TestConnectorKindTables(t *testing.T) {
	const head = "[[connector]]\nname = \"c\"\ntype = \"k\"\n"
	_, err := Parse("smppd.toml", head+"[connector.k]\nhost = \"h\"\n[connector.other]\nx = 1\n")
	wantErr(t, err, "smppd.toml:6: connector[0].other: a [connector.other] table is not allowed for type \"k\"")
	_, err = Parse("smppd.toml", head+"k = 1\n")
	wantErr(t, err, "smppd.toml:4: connector[0].k: unknown key")
	_, err = Parse("smppd.toml", head+"queue_size = 1\n")
	wantErr(t, err, "smppd.toml:4: connector[0].queue_size: unknown key")
}

func TestResolve(t *testing.T) {
	c := &Config{Path: filepath.Join("etc", "smppd", "smppd.toml")}
	if got := c.Resolve("ca.pem"); got != filepath.Join("etc", "smppd", "ca.pem") {
		t.Errorf("relative: %q", got)
	}
	if got := c.Resolve("/abs/ca.pem"); got != "/abs/ca.pem" {
		t.Errorf("absolute: %q", got)
	}
	if got := (&Config{}).Resolve("ca.pem"); got != "ca.pem" {
		t.Errorf("no config path: %q", got)
	}
}
