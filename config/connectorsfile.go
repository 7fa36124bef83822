package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/internal/atomicfile"
)

// The connectors file ([smpp-server] connectors_file; by default
// "<config name>.connectors.toml" beside the config, so each config in a
// folder has its own) holds [[connector]] tables and their
// [connector.<type>] sub-tables, as the main file writes them. When it
// exists its connectors are the connectors, and the main file's
// [[connector]] tables are ignored (with a warning): the admin API's
// PUT and DELETE /v1/connectors/{name} write the whole list there, so a
// change made through the API survives a restart and is not reverted by
// the next SIGHUP. An operator who edits connectors by hand edits that
// file once it exists.

// defaultConnectorsFile names the connectors file of the config at path:
// smppd.toml's is smppd.connectors.toml.
func defaultConnectorsFile(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base)) + ".connectors.toml"
}

// connectorsHeader starts a connectors file smppd writes.
const connectorsHeader = `# smppd connectors. Written by smppd when connectors change through the
# admin API (PUT and DELETE /v1/connectors/{name}); while this file exists
# its connectors replace the main config's [[connector]] tables. Comments
# are not kept. Keys: docs/CONFIG.md ("Connectors").
`

type connectorsSchema struct {
	Connectors []Connector `toml:"connector"`
}

type connectorsDoc struct {
	Connectors []toml.Primitive `toml:"connector"`
}

// loadConnectorsFile resolves connectors_file and, when the file exists
// (or src, its content to check instead, is given), puts its connectors
// in place of the main file's.
func (c *Config) loadConnectorsFile(src []byte) error {
	name := c.Server.ConnectorsFile
	explicit := name != ""
	if !explicit {
		name = defaultConnectorsFile(c.Path)
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(c.Path), name)
	}
	c.ConnectorsPath = name
	if src == nil {
		b, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // none yet: the main file's connectors
		}
		if err != nil {
			p := c.pos["smpp-server.connectors_file"]
			return &Error{File: c.Path, Line: p.line, Key: "smpp-server.connectors_file", Msg: err.Error()}
		}
		src = b
	}
	var doc connectorsDoc
	d, err := parseStrict(name, string(src), reflect.TypeFor[connectorsSchema](), &doc)
	if err != nil {
		return err
	}
	conns, err := decodeEach(d, doc.Connectors, decodeConnector)
	if err != nil {
		return err
	}
	if len(conns) == 0 {
		return &Error{File: name, Line: 1, Key: "connector", Msg: "no [[connector]]: at least one is needed (remove the file to use the main config's)"}
	}
	main := false
	for k := range c.pos { // the main file's lines no longer name these entries
		if strings.HasPrefix(k, "connector[") || k == "connector" {
			main = true
			delete(c.pos, k)
		}
	}
	if main {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: its [[connector]] tables are ignored: the connectors come from %s", c.Path, name))
	}
	if err := d.finish(nil, c.pos); err != nil {
		return err
	}
	c.Connectors, c.ConnectorsFromFile = conns, true
	return nil
}

// LoadWithConnectors is Load with src as the connectors file's content:
// the admin API checks a change this way before it writes the file.
func LoadWithConnectors(path string, src []byte) (*Config, error) {
	main, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := Defaults()
	c.Path = path
	c.pos = make(map[string]srcPos)
	if err := c.decodeMain(path, string(main)); err != nil {
		return nil, err
	}
	if err := c.loadUsersFile(); err != nil {
		return nil, err
	}
	if err := c.loadConnectorsFile(src); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// EncodeConnectors writes cs as a connectors file: each [[connector]]
// with name, type and queue, and its settings ([connector.<type>], as
// read: secret references stay references).
func EncodeConnectors(cs []Connector) ([]byte, error) {
	type entry map[string]any
	doc := struct {
		Connector []entry `toml:"connector"`
	}{}
	for _, cn := range cs {
		e := entry{"name": cn.Name, "type": cn.Type, "queue": cn.Queue}
		if cn.Settings != nil {
			e[cn.Type] = cn.Settings
		}
		doc.Connector = append(doc.Connector, e)
	}
	var buf bytes.Buffer
	buf.WriteString(connectorsHeader)
	if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
		return nil, fmt.Errorf("config: encode connectors: %w", err)
	}
	return buf.Bytes(), nil
}

// SaveConnectors replaces the connectors file at path with data
// atomically (a crash leaves the old file or the new one), mode 0600: it
// may hold upstream passwords.
func SaveConnectors(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("config: save connectors: %w", err)
	}
	return nil
}
