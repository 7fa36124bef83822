package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCDRKeys(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := CDR{Enabled: false, Dir: "cdrs", MaxFileSize: 16 << 20, MaxFileAge: Duration(10 * time.Minute),
		Retention: Duration(2160 * time.Hour), QueueSize: 4096, QueueHighWater: 75, ReadyGrace: Duration(3 * time.Second), MaskContent: true}
	if c.CDR != want {
		t.Errorf("[cdr] of the full file\n got %+v\nwant %+v (off: dir left as written)", c.CDR, want)
	}
	if !c.Server.LogPrivacy {
		t.Error("log_privacy = true not read")
	}

	for _, tc := range []struct {
		name, src string
		want      func(cfgDir string) CDR
	}{
		{"defaults: under the storage dir", "", func(d string) CDR {
			w := DefaultCDR()
			w.Dir, w.Active = filepath.Join(d, "var", "smppd", "cdr"), true
			return w
		}},
		{"relative dir", "[cdr]\ndir = \"../cdr\"\n", func(d string) CDR {
			w := DefaultCDR()
			w.Dir, w.Active = filepath.Join(filepath.Dir(d), "cdr"), true
			return w
		}},
		{"memory with a dir", "[storage]\nkind = \"memory\"\n[cdr]\ndir = \"/srv/cdr\"\n", func(string) CDR {
			w := DefaultCDR()
			w.Dir, w.Active = "/srv/cdr", true
			return w
		}},
		{"memory without a dir", "[storage]\nkind = \"memory\"\n", func(string) CDR { return DefaultCDR() }},
		{"off", "[cdr]\nenabled = false\n", func(string) CDR {
			w := DefaultCDR()
			w.Enabled = false
			return w
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, d, err := loadStorage(t, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if w := tc.want(d); c.CDR != w {
				t.Errorf("[cdr]\n got %+v\nwant %+v", c.CDR, w)
			}
			warned := strings.Contains(strings.Join(c.Warnings, "\n"), "no CDRs are written")
			if warned != (tc.name == "memory without a dir") {
				t.Errorf("warnings %q", c.Warnings)
			}
		})
	}
}

func TestCDRRefusals(t *testing.T) {
	for _, tc := range []struct{ src, key, msg string }{
		{"max_file_size = \"1KiB\"", "cdr.max_file_size", "out of range"},
		{"max_file_size = \"2GiB\"", "cdr.max_file_size", "out of range"},
		{"max_file_age = \"500ms\"", "cdr.max_file_age", "out of range"},
		{"max_file_age = \"8d\"", "cdr.max_file_age", ""},
		{"max_file_age = \"2h\"\nretention = \"1h\"", "cdr.retention", "out of range"},
		{"retention = \"100000h\"", "cdr.retention", "out of range"},
		{"queue_size = 100", "cdr.queue_size", "out of range"},
		{"queue_size = 20000000", "cdr.queue_size", "out of range"},
		{"queue_high_water = 5", "cdr.queue_high_water", "out of range 10..90"},
		{"queue_high_water = 95", "cdr.queue_high_water", "out of range 10..90"},
		{"ready_grace = \"2m\"", "cdr.ready_grace", "out of range 0s..1m"},
		{"ready_grace = \"-1s\"", "cdr.ready_grace", ""},
		{"dir = \"var/smppd\"", "cdr.dir", "must not be [storage] dir itself"},
		{"enabled = \"yes\"", "cdr.enabled", ""},
		{"unknown = 1", "cdr.unknown", ""},
	} {
		_, _, err := loadStorage(t, "[cdr]\n"+tc.src+"\n")
		wantErr(t, err, tc.key, tc.msg)
	}
}
