package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smppd/smppd/internal/freeport"
)

// minPerIP is the per-address connection limit the idle case needs (3,000
// from 127.0.0.3) with a margin; the demo's limit is raised to it if lower.
const minPerIP = idleConns + 100

// serverConfig is the derived configuration of one smppd child.
type serverConfig struct {
	dir       string // holds smppd.toml and users.toml
	path      string // smppd.toml
	smppPort  int
	adminPort int
	// slowConsumer is [smpp-server] slow_consumer_timeout (0: not set, as
	// in builds before it existed).
	slowConsumer time.Duration
}

// writeConfig copies configDir/smppd.toml and users.toml into dir with free
// loopback ports, JSON logs on standard error (parsed by logWatch) and a
// short shutdown grace; everything else stays the demo's (the disk store,
// the simulator, the admin API on loopback).
func writeConfig(configDir, dir string) (*serverConfig, error) {
	src, err := os.ReadFile(filepath.Join(configDir, "smppd.toml"))
	if err != nil {
		return nil, err
	}
	users, err := os.ReadFile(filepath.Join(configDir, "users.toml"))
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	sc := &serverConfig{dir: dir, path: filepath.Join(dir, "smppd.toml"), smppPort: ports[0], adminPort: ports[1]}
	conf := string(src)
	edits := []struct{ section, key, value string }{
		{"smpp-server", "bind", `"127.0.0.1"`},
		{"smpp-server", "port", strconv.Itoa(ports[0])},
		{"smpp-server", "log_file", `""`},
		{"smpp-server", "log_format", `"json"`},
		{"smpp-server", "log_level", `"info"`},
		{"smpp-server", "shutdown_grace", `"1s"`},
		{"smpp-server", "users_file", `"users.toml"`},
		{"smpp-server.tls", "port", strconv.Itoa(ports[2])},
		{"admin", "enabled", "true"},
		{"admin", "bind", `"127.0.0.1"`},
		{"admin", "port", strconv.Itoa(ports[1])},
		{"admin", "token", `""`},
		// The stuck-receiver case queues stuckMO MO for one user: past the
		// default share (10% of max_held) they would be refused, as designed.
		{"delivery", "max_held_per_user", "60000"},
	}
	for _, ed := range edits {
		if conf, err = setKey(conf, ed.section, ed.key, ed.value); err != nil {
			return nil, err
		}
	}
	if strings.Contains(conf, "\n[http-api]") { // the customers' HTTP API, in builds that have it
		if conf, err = setKey(conf, "http-api", "port", strconv.Itoa(ports[3])); err != nil {
			return nil, err
		}
	}
	for key, least := range map[string]int{"max_connections_per_ip": minPerIP, "max_connections": minPerIP + slowlorisConns + 100} {
		if conf, err = raiseKey(conf, "smpp-server", key, least); err != nil {
			return nil, err
		}
	}
	if v, ok := getKey(conf, "smpp-server", "slow_consumer_timeout"); ok {
		if sc.slowConsumer, err = time.ParseDuration(v); err != nil {
			return nil, fmt.Errorf("hostile: slow_consumer_timeout = %q: %w", v, err)
		}
	}
	if err := os.WriteFile(sc.path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return sc, os.WriteFile(filepath.Join(dir, "users.toml"), users, 0o600)
}

// freePorts reserves n distinct free loopback ports by listening on them
// together, then releases them for smppd.
func freePorts(n int) ([]int, error) {
	return freeport.Take(n)
}

var (
	sectionRe = regexp.MustCompile(`^\s*\[\[?\s*([^\]\s]+)\s*\]\]?`)
	keyRe     = regexp.MustCompile(`^(\s*)([A-Za-z0-9_]+)(\s*=\s*)("[^"]*"|[^\s#]+)(.*)$`)
)

// setKey sets key in the first table named section (the comment after the
// value is kept), or adds it right after the table's header.
func setKey(conf, section, key, value string) (string, error) {
	lines := strings.Split(conf, "\n")
	header := -1
	cur := ""
	for i, l := range lines {
		if m := sectionRe.FindStringSubmatch(l); m != nil {
			if cur == section && header >= 0 {
				break // past the table without finding the key
			}
			cur = m[1]
			if cur == section && header < 0 {
				header = i
			}
			continue
		}
		if cur != section {
			continue
		}
		if m := keyRe.FindStringSubmatch(l); m != nil && m[2] == key {
			lines[i] = m[1] + m[2] + m[3] + value + m[5]
			return strings.Join(lines, "\n"), nil
		}
	}
	if header < 0 {
		return "", fmt.Errorf("hostile: config has no [%s] table for %s", section, key)
	}
	lines = append(lines[:header+1], append([]string{key + " = " + value}, lines[header+1:]...)...)
	return strings.Join(lines, "\n"), nil
}

// raiseKey makes an integer key at least least (0 means unlimited and is
// kept).
func raiseKey(conf, section, key string, least int) (string, error) {
	v, ok := getKey(conf, section, key)
	if ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return "", fmt.Errorf("hostile: [%s] %s = %q is not an integer", section, key, v)
		}
		if n == 0 || n >= least {
			return conf, nil
		}
	}
	return setKey(conf, section, key, strconv.Itoa(least))
}

// getKey returns the raw value of key in the first table named section.
func getKey(conf, section, key string) (string, bool) {
	cur := ""
	for _, l := range strings.Split(conf, "\n") {
		if m := sectionRe.FindStringSubmatch(l); m != nil {
			cur = m[1]
			continue
		}
		if m := keyRe.FindStringSubmatch(l); cur == section && m != nil && m[2] == key {
			return strings.Trim(m[4], `"`), true
		}
	}
	return "", false
}
