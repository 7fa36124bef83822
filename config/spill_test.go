package config

import (
	"strings"
	"testing"
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
