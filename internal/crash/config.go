package crash

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/internal/proctest"
)

// The account the harness submits and receives as, written into the
// scratch users file beside the demo's users.
const (
	crashUser     = "crash"
	crashPass     = "crashpw1"
	crashBalance  = "1000"         // units; the billed route charges rateMicros per part
	crashRate     = 0.01           // rate of the billed route
	rateMicros    = 10_000         // crashRate in micro-units (accounts.MicrosPerUnit)
	crashSource   = "4917000"      // our sender
	stubSystemID  = "smppd"        // smppd's system_id at the upstream stub
	stubPassword  = "upstrpw"      // and its password (at most 8 characters)
	upstreamName  = "up"           // the smpp connector's name
	simName       = "sim"          // the demo's simulator connector
	crashMORoute  = "all-to-crash" // every MO goes to crashUser
	billedRoute   = "crash-billed" // crashUser's MT, charged
	defaultRoute  = "default"      // everything else, free
	demoConfig    = "smppd.toml"   // in Options.ConfigDir
	demoUsers     = "users.toml"   // in Options.ConfigDir
	storeSubdir   = "store"        // the disk store's dir under a case's folder
	microsPerUnit = 1_000_000      // accounts' micro-units
	initialUnits  = int64(1000) * microsPerUnit
)

// setup says how one case's smppd is configured.
type setup struct {
	dir      string // the case's folder: config, users, log
	storeDir string // the data directory as smppd sees it ("" = dir/store)
	storage  string // "disk" or "memory"
	// upstream, when non-zero, replaces the simulator with an smpp
	// connector to a stub listening on this loopback port.
	upstream int
}

// derived is the written configuration.
type derived struct {
	path          string
	smppPort      int
	adminPort     int
	deliverWindow int
	storeDir      string
}

// writeConfig derives the case's smppd.toml from the demo's: loopback and
// free ports, JSON logs on standard error, the admin API without a token,
// [storage] as asked (for "disk": kind, dir and sync = "always", without
// the memory-only keys), a billed route for crashUser ahead of the demo's
// default route, every MO to crashUser, and for an upstream case an smpp
// connector instead of the simulator. Everything else stays the demo's.
func writeConfig(configDir string, s setup, hash string) (*derived, error) {
	var conf map[string]any
	if _, err := toml.DecodeFile(filepath.Join(configDir, demoConfig), &conf); err != nil {
		return nil, err
	}
	ports, err := proctest.FreePorts(4)
	if err != nil {
		return nil, err
	}
	d := &derived{path: filepath.Join(s.dir, demoConfig), smppPort: ports[0], adminPort: ports[1], deliverWindow: 100}
	srv := proctest.Table(conf, "smpp-server")
	srv["bind"], srv["port"] = "127.0.0.1", ports[0]
	srv["log_file"], srv["log_format"], srv["log_level"] = "", "json", "info"
	srv["shutdown_grace"], srv["users_file"] = "2s", demoUsers
	if w, ok := srv["deliver_window"].(int64); ok {
		d.deliverWindow = int(w)
	}
	proctest.Table(srv, "tls")["port"] = ports[2]
	adm := proctest.Table(conf, "admin")
	adm["enabled"], adm["bind"], adm["port"], adm["token"] = true, "127.0.0.1", ports[1], ""
	if h, ok := conf["http-api"].(map[string]any); ok { // the customers' HTTP API, in builds that have it
		h["bind"], h["port"] = "127.0.0.1", ports[3]
	}

	st := proctest.Table(conf, "storage")
	switch s.storage {
	case "disk":
		d.storeDir = s.storeDir
		if d.storeDir == "" {
			d.storeDir = filepath.Join(s.dir, storeSubdir)
		}
		st["kind"], st["dir"], st["sync"] = "disk", d.storeDir, "always"
		delete(st, "max_records") // refused with kind = "disk"
		delete(st, "max_upstream_ids")
	case "memory":
		// A build that knows [storage] kind (its demo config names it)
		// defaults to disk: ask for memory. An older build has memory only.
		if _, ok := st["kind"]; ok {
			st["kind"] = "memory"
			delete(st, "dir")
			delete(st, "sync")
		}
	default:
		return nil, fmt.Errorf("crash: storage %q is neither disk nor memory", s.storage)
	}

	conn := simName
	if s.upstream != 0 {
		conn = upstreamName
		conf["connector"] = []map[string]any{{
			"name": upstreamName, "type": "smpp", "queue": 8192,
			"smpp": map[string]any{
				"host": "127.0.0.1", "port": s.upstream, "system_id": stubSystemID, "password": stubPassword,
				"bind_mode": "transceiver", "binds": 1, "window": 50,
				"enquire_link": "5s", "response_timeout": "5s",
				"reconnect_min": "100ms", "reconnect_max": "1s", "retry_min": "200ms", "retry_max": "2s",
			},
		}}
	}
	conf["mt_route"] = []map[string]any{
		{"name": billedRoute, "kind": "static", "connectors": []string{conn}, "users": []string{crashUser}, "rate": crashRate},
		{"name": defaultRoute, "kind": "default", "connectors": []string{conn}, "rate": 0.0},
	}
	conf["mo_route"] = []map[string]any{{"name": crashMORoute, "user": crashUser}}

	if err := writeTOML(d.path, conf); err != nil {
		return nil, err
	}
	return d, writeUsers(configDir, s.dir, hash)
}

// passwdHash returns crashPass's password_hash as the binary under test
// writes it (smppd passwd).
func passwdHash(binary string) (string, error) {
	out, err := exec.Command(binary, "passwd", crashPass).Output()
	if err != nil {
		return "", fmt.Errorf("%s passwd: %w", binary, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// writeUsers copies the demo's users file and adds crashUser with a
// numeric balance, every bind type and receipts.
func writeUsers(configDir, dir, hash string) error {
	var users map[string]any
	if _, err := toml.DecodeFile(filepath.Join(configDir, demoUsers), &users); err != nil {
		return err
	}
	u := map[string]any{
		"system_id": crashUser, "password_hash": hash, "enabled": true,
		"bind_types": []string{"transmitter", "receiver", "transceiver"}, "max_binds": 100,
		"allow_ips": []string{}, "receipts": true, "balance": crashBalance,
	}
	if gs, ok := users["group"].([]map[string]any); ok && len(gs) > 0 {
		u["group"] = gs[0]["name"]
	}
	list, _ := users["user"].([]map[string]any)
	users["user"] = append(list, u)
	return writeTOML(filepath.Join(dir, demoUsers), users)
}

func writeTOML(path string, v any) error {
	return proctest.WriteTOML(path, "Written by the crash harness (internal/crash) from the demo config.", v)
}
