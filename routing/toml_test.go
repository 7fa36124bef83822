package routing

import (
	"testing"

	"github.com/BurntSushi/toml"
)

// TestTOMLShape decodes the shape documented in docs/ROUTING.md strictly (no
// undecoded keys) and compiles it: the toml tags and the flattened filter
// keys are what the docs say.
func TestTOMLShape(t *testing.T) {
	const doc = `
[[mt_route]]
name       = "otp-fast"
kind       = "failover"
connectors = ["smsc-a", "smsc-b"]
rate       = 0.045
users      = ["bank1", "bank2"]
content_regex = '(?i)\bcode\b'

[[mt_route]]
name          = "fr-mobile"
kind          = "weighted"
connectors    = ["orange", "sfr"]
weights       = [70, 30]
rate          = 0.03
dest_prefixes = ["336", "337", "+337"]
source_addrs  = ["ACME", 're:^\d{5}$']
data_codings  = [0, 8]
time_window   = "08:00-20:00"
days          = "mon-fri"
time_zone     = "Europe/Paris"

[[mt_route]]
name        = "xmas"
kind        = "roundrobin"
connectors  = ["smsc-a", "smsc-b"]
groups      = ["retail"]
dest_regex  = '^44'
date_window = "2026-12-24/2026-12-26"

[[mt_route]]
name       = "default"
kind       = "default"
connectors = ["cheap"]
rate       = 0.02

[[mo_route]]
name            = "stop"
user            = "optout"
content_regex   = '(?i)^stop\b'
from_connectors = ["orange"]

[[mo_route]]
name = "rest"
user = "demo"
`
	var cfg Config
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("undecoded keys %v", und)
	}
	tb := mustCompile(t, cfg)
	if len(tb.MTRoutes()) != 4 || len(tb.MORoutes()) != 2 {
		t.Fatalf("routes %d/%d", len(tb.MTRoutes()), len(tb.MORoutes()))
	}
	w := cfg.MT[1]
	if w.Kind != "weighted" || w.Weights[0] != 70 || w.TimeZone != "Europe/Paris" || w.SourceAddrs[1] != `re:^\d{5}$` || w.DataCodings[1] != 8 {
		t.Errorf("decoded %+v", w)
	}
	if cfg.MO[0].FromConnectors[0] != "orange" || cfg.MO[1].User != "demo" {
		t.Errorf("decoded MO %+v", cfg.MO)
	}
	d, ok := tb.RouteMT(&MT{User: "bank2", Content: []byte("Your code: 1"), Dest: []byte("447")}, nil)
	if !ok || d.Route.Name != "otp-fast" || d.Rate != 0.045 {
		t.Errorf("otp: %+v", d)
	}
}
