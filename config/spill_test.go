package config

import (
	"strings"
	"testing"
	"time"
)

// [cluster] spill_high_water: read from the file, 80 by default, refused
// outside 1..100 naming the key.
func TestSpillHighWater(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cluster.SpillHighWater; got != 60 {
		t.Fatalf("spill_high_water = %d, want 60", got)
	}
	c, err = Load(writeConfig(t, map[string]string{"smppd.toml": "[storage]\ndir = \"data\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cluster.SpillHighWater; got != 80 {
		t.Fatalf("default spill_high_water = %d, want 80", got)
	}
	for _, v := range []string{"0", "101"} {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[cluster]\nspill_high_water = " + v + "\n"}))
		if err == nil || !strings.Contains(err.Error(), "smppd.toml:2") ||
			!strings.Contains(err.Error(), "cluster.spill_high_water: "+v+" is out of range 1..100") {
			t.Fatalf("spill_high_water = %s: %v", v, err)
		}
	}
}

// [cluster] spill_held_after: 5 s by default, 0 turns it off, refused
// outside 1 s..1 h naming the key.
func TestSpillHeldAfter(t *testing.T) {
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[storage]\ndir = \"data\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cluster.SpillHeldAfter.D(); got != 5*time.Second {
		t.Fatalf("default spill_held_after = %v, want 5s", got)
	}
	for v, want := range map[string]time.Duration{`"0s"`: 0, `"1s"`: time.Second, `"1h"`: time.Hour} {
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[cluster]\nspill_held_after = " + v + "\n"}))
		if err != nil || c.Cluster.SpillHeldAfter.D() != want {
			t.Fatalf("spill_held_after = %s: %v, %v", v, err, c)
		}
	}
	for _, v := range []string{`"500ms"`, `"2h"`} {
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[cluster]\nspill_held_after = " + v + "\n"}))
		if err == nil || !strings.Contains(err.Error(), "cluster.spill_held_after: ") ||
			!strings.Contains(err.Error(), "out of range: 0 (off) or 1s..1h0m0s") {
			t.Fatalf("spill_held_after = %s: %v", v, err)
		}
	}
}
