package config

import (
	"strings"
	"testing"
	"time"
)

func TestHTTPAPIEveryKey(t *testing.T) {
	c, err := Load("testdata/full/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := HTTPAPI{Enabled: true, Bind: "127.0.0.2", Port: 1402, LongContentMaxParts: 8, LongContentSplit: SplitSAR,
		MaxBody: 1 << 20, ReadTimeout: Duration(5 * time.Second), WriteTimeout: Duration(20 * time.Second),
		IdleTimeout: Duration(2 * time.Minute), MaxConnections: 100, IdempotencyKeys: 5000,
		IdempotencyTTL: Duration(12 * time.Hour)}
	if c.HTTPAPI != want {
		t.Errorf("[http-api] = %+v\nwant %+v", c.HTTPAPI, want)
	}
}

func TestHTTPAPIDefaults(t *testing.T) {
	d := Defaults().HTTPAPI
	if d.Enabled || d.Bind != "127.0.0.1" || d.Port != 1401 || d.LongContentMaxParts != 5 || d.LongContentSplit != SplitUDH ||
		d.MaxBody != 2<<20 || d.ReadTimeout.D() != 10*time.Second || d.WriteTimeout.D() != 30*time.Second ||
		d.IdleTimeout.D() != time.Minute || d.MaxConnections != 4096 || d.IdempotencyKeys != 100000 ||
		d.IdempotencyTTL.D() != 24*time.Hour {
		t.Errorf("[http-api] defaults drifted from docs/CONFIG.md: %+v", d)
	}
}

func TestHTTPAPIRefused(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[http-api]\nenabled = true\n" + src}))
		wantErr(t, err, want...)
	}
	f("bind = \"localhost\"\n", ":3: http-api.bind: must be an IP address literal")
	f("port = 0\n", ":3: http-api.port: 0 is out of range 1..65535")
	f("port = 2775\n", ":3: http-api.port: 2775 is also the SMPP port")
	f("long_content_max_parts = 0\n", ":3: http-api.long_content_max_parts: 0 is out of range 1..255")
	f("long_content_max_parts = 256\n", ":3: http-api.long_content_max_parts: 256 is out of range 1..255")
	f("long_content_split = \"udh16\"\n", `:3: http-api.long_content_split: must be "udh" or "sar", got "udh16"`)
	f("max_body = \"1KiB\"\n", ":3: http-api.max_body: 1KiB is out of range 4KiB..64MiB")
	f("read_timeout = \"0s\"\n", ":3: http-api.read_timeout: 0s is out of range 1s..10m0s")
	f("write_timeout = \"1h\"\n", ":3: http-api.write_timeout: 1h0m0s is out of range 1s..10m0s")
	f("idle_timeout = \"2h\"\n", ":3: http-api.idle_timeout: 2h0m0s is out of range 1s..1h0m0s")
	f("max_connections = 0\n", ":3: http-api.max_connections: 0 is out of range 1..1000000")
	f("idempotency_keys = -1\n", ":3: http-api.idempotency_keys: -1 is out of range 0..10000000")
	f("idempotency_ttl = \"1s\"\n", ":3: http-api.idempotency_ttl: 1s is out of range 1m0s..720h0m0s")
	f("\n[admin]\nenabled = true\nport = 1401\n", ":1: http-api.port: 1401 is also the admin API's port")
}

func TestHTTPAPIWarnings(t *testing.T) {
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[http-api]\nenabled = true\nbind = \"0.0.0.0\"\nmax_body = \"64KiB\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	var body, clear bool
	for _, w := range c.Warnings {
		body = body || strings.Contains(w, "http-api: max_body 64KiB is below 512KiB")
		clear = clear || strings.Contains(w, "http-api: bind 0.0.0.0 is reachable from other hosts")
	}
	if !body || !clear {
		t.Errorf("warnings = %q", c.Warnings)
	}
}
