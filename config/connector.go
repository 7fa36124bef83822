package config

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Connector is one [[connector]] table: an upstream that MT routes send to.
// Its kind (Type) is not config's business: the binary's registry of
// connector kinds (connector.Registry) knows what each kind's
// [connector.<type>] sub-table holds, and reads it with DecodeSettings.
type Connector struct {
	// Name identifies the connector in routes, logs and metrics: 1..64 of
	// A-Z a-z 0-9 _ . : -, unique.
	Name string `toml:"name"`
	// Type names the connector's kind ("sim", "smpp", ...).
	Type string `toml:"type"`
	// Queue is the capacity of the connector's queue (rounded up to a
	// power of two); a submit that finds it full is answered ESME_RMSGQFUL
	// or goes to the route's failover.
	Queue int `toml:"queue"`

	// Settings is the [connector.<type>] sub-table as TOML values, nil
	// when absent. Validate refuses a sub-table named for another kind.
	Settings map[string]any `toml:"-"`
	// others are the names of sub-tables of other kinds, for Validate.
	others []string
}

// DecodeSettings decodes connector i's [connector.<type>] sub-table into
// into, a pointer to its kind's settings struct holding the defaults
// (connector.Kind.Settings): every key and value is checked against the
// struct's toml tags as the rest of the file is, so an error names the
// file, the line and the key. A string field tagged `secret:"true"` may be
// written as a secret reference (IsSecretRef), resolved here at every
// call. Without a sub-table into keeps its defaults.
func (c *Config) DecodeSettings(i int, into any) error {
	t := reflect.TypeOf(into)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: DecodeSettings needs a pointer to a struct, got %T", into)
	}
	cn := &c.Connectors[i]
	if cn.Settings == nil {
		return nil
	}
	path := "connector[" + strconv.Itoa(i) + "]." + cn.Type
	lines := make(map[string]int)
	file := c.Path
	for k, p := range c.pos {
		if k == path || strings.HasPrefix(k, path+".") {
			lines[k] = p.line
			file = p.file
		}
	}
	var errs errList
	checkTable(cn.Settings, t.Elem(), path, lines, file, &errs)
	if len(errs) > 0 {
		return errs.err()
	}
	// Fields tagged secret:"true" may be references (secret.go): the kind
	// sees the value.
	settings, err := c.resolveSecretFields(cn.Settings, t.Elem(), path)
	if err != nil {
		return err
	}
	// The values passed the check: round-trip them through the same
	// decoder as the rest of the file.
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(settings); err != nil {
		return c.errorAt(path, err.Error())
	}
	if _, err := toml.Decode(buf.String(), into); err != nil {
		return c.errorAt(path, err.Error())
	}
	return nil
}

// kindTables splits a [[connector]] table's sub-tables off: the one named
// like its type becomes Settings, the others are kept for Validate.
func (cn *Connector) kindTables(raw map[string]any) {
	for k, v := range raw {
		tbl, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if k == cn.Type {
			cn.Settings = tbl
		} else {
			cn.others = append(cn.others, k)
		}
	}
}

// Resolve returns path relative to the working directory: a relative path
// written in the config is anchored at the config file's directory.
func (c *Config) Resolve(path string) string {
	if filepath.IsAbs(path) || c.Path == "" {
		return path
	}
	return filepath.Join(filepath.Dir(c.Path), path)
}
