package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// srcPos is where a key was written.
type srcPos struct {
	file string
	line int
}

// Load reads the config file at path (and its users file), applies the
// defaults, decodes strictly and validates. Every error is a *Error (several
// are joined with errors.Join) naming the file, line and key. The returned
// Config is complete and must not be modified.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := Defaults()
	c.Path = path
	c.pos = make(map[string]srcPos)
	if err := c.decodeMain(path, string(src)); err != nil {
		return nil, err
	}
	if err := c.loadUsersFile(); err != nil {
		return nil, err
	}
	if err := c.loadConnectorsFile(nil); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes a config held in memory as if it had been read from the file
// name (which names it in errors and anchors a relative users_file).
func Parse(name, src string) (*Config, error) {
	c := Defaults()
	c.Path = name
	c.pos = make(map[string]srcPos)
	if err := c.decodeMain(name, src); err != nil {
		return nil, err
	}
	if err := c.loadUsersFile(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// usersSchema is the users file: only [[user]] and [[group]] tables. The
// main file's schema is Config itself.
type usersSchema struct {
	Users  []User  `toml:"user"`
	Groups []Group `toml:"group"`
}

// mainDoc and usersDoc are what toml decodes into. Arrays of tables whose
// elements have defaults stay Primitive so each element can start from its
// default (DefaultUser, DefaultGroup, DefaultConnector).
type mainDoc struct {
	Server     *SMPPServer      `toml:"smpp-server"`
	BindLimits *BindLimits      `toml:"bind-limits"`
	Auth       *Auth            `toml:"auth"`
	Delivery   *Delivery        `toml:"delivery"`
	Storage    *Storage         `toml:"storage"`
	Admin      *Admin           `toml:"admin"`
	HTTPAPI    *HTTPAPI         `toml:"http-api"`
	CDR        *CDR             `toml:"cdr"`
	Webhook    *Webhook         `toml:"webhook"`
	Cluster    *Cluster         `toml:"cluster"`
	Policy     *Policy          `toml:"policy"`
	Proxy      *ProxyProtocol   `toml:"proxy-protocol"`
	Users      []toml.Primitive `toml:"user"`
	Groups     []toml.Primitive `toml:"group"`
	Connectors []toml.Primitive `toml:"connector"`
	MTRoutes   []MTRoute        `toml:"mt_route"`
	MORoutes   []MORoute        `toml:"mo_route"`
}

type usersDoc struct {
	Users  []toml.Primitive `toml:"user"`
	Groups []toml.Primitive `toml:"group"`
}

func (c *Config) decodeMain(file, src string) error {
	doc := mainDoc{Server: &c.Server, BindLimits: &c.BindLimits, Auth: &c.Auth,
		Delivery: &c.Delivery, Storage: &c.Storage, Admin: &c.Admin, HTTPAPI: &c.HTTPAPI, CDR: &c.CDR, Webhook: &c.Webhook,
		Cluster: &c.Cluster, Policy: &c.Policy, Proxy: &c.ProxyProtocol}
	d, err := parseStrict(file, src, reflect.TypeFor[Config](), &doc)
	if err != nil {
		return err
	}
	if c.Users, err = decodeEach(d, doc.Users, decodeOver(DefaultUser)); err != nil {
		return err
	}
	if c.Groups, err = decodeEach(d, doc.Groups, decodeOver(DefaultGroup)); err != nil {
		return err
	}
	conns, err := decodeEach(d, doc.Connectors, decodeConnector)
	if err != nil {
		return err
	}
	if len(conns) > 0 { // else Defaults' simulator stays
		c.Connectors = conns
	}
	c.MTRoutes, c.MORoutes = doc.MTRoutes, doc.MORoutes
	c.InlineUsers, c.InlineGroups = len(c.Users), len(c.Groups)
	return d.finish(nil, c.pos)
}

// loadUsersFile reads users_file (or users.toml beside the config when
// users_file is "" and that file exists) and appends its users and groups.
func (c *Config) loadUsersFile() error {
	name := c.Server.UsersFile
	explicit := name != ""
	if !explicit {
		name = defaultUsersFile
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(c.Path), name)
	}
	src, err := os.ReadFile(name)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		p := c.pos["smpp-server.users_file"]
		return &Error{File: c.Path, Line: p.line, Key: "smpp-server.users_file", Msg: err.Error()}
	}
	c.UsersPath = name
	var doc usersDoc
	d, err := parseStrict(name, string(src), reflect.TypeFor[usersSchema](), &doc)
	if err != nil {
		return err
	}
	users, err := decodeEach(d, doc.Users, decodeOver(DefaultUser))
	if err != nil {
		return err
	}
	groups, err := decodeEach(d, doc.Groups, decodeOver(DefaultGroup))
	if err != nil {
		return err
	}
	if err := d.finish(map[string]int{"user": len(c.Users), "group": len(c.Groups)}, c.pos); err != nil {
		return err
	}
	c.Users = append(c.Users, users...)
	c.Groups = append(c.Groups, groups...)
	return nil
}

// strictDoc is a document that passed the schema check and was decoded;
// its Primitive arrays are decoded next, then finish checks that every key
// was used.
type strictDoc struct {
	file  string
	md    toml.MetaData
	lines map[string]int
}

// parseStrict parses src, checks every key and value against schema (a
// struct type with toml tags), then decodes into doc.
func parseStrict(file, src string, schema reflect.Type, doc any) (*strictDoc, error) {
	var tree map[string]any
	if _, err := toml.Decode(src, &tree); err != nil {
		return nil, syntaxError(file, err)
	}
	lines := keyLines(src)
	var errs errList
	checkTable(tree, schema, "", lines, file, &errs)
	if len(errs) > 0 {
		return nil, errs.err()
	}
	md, err := toml.Decode(src, doc)
	if err != nil { // the schema check should have caught it; keep toml's words
		return nil, syntaxError(file, err)
	}
	return &strictDoc{file: file, md: md, lines: lines}, nil
}

// decodeEach decodes every Primitive of prims with dec.
func decodeEach[T any](d *strictDoc, prims []toml.Primitive, dec func(toml.MetaData, toml.Primitive) (T, error)) ([]T, error) {
	out := make([]T, 0, len(prims))
	for _, p := range prims {
		v, err := dec(d.md, p)
		if err != nil {
			return nil, syntaxError(d.file, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// decodeOver returns a decoder that starts each element from def().
func decodeOver[T any](def func() T) func(toml.MetaData, toml.Primitive) (T, error) {
	return func(md toml.MetaData, p toml.Primitive) (T, error) {
		v := def()
		err := md.PrimitiveDecode(p, &v)
		return v, err
	}
}

// decodeConnector starts from DefaultConnector; the sub-tables stay TOML
// values (Connector.Settings) for their kind to decode.
func decodeConnector(md toml.MetaData, p toml.Primitive) (Connector, error) {
	var raw map[string]any
	if err := md.PrimitiveDecode(p, &raw); err != nil {
		return Connector{}, err
	}
	c := DefaultConnector()
	if err := md.PrimitiveDecode(p, &c); err != nil {
		return Connector{}, err
	}
	c.kindTables(raw)
	return c, nil
}

// finish refuses keys that nothing decoded and records where every key was
// written. bases shifts the indices of arrays of tables (a users file's
// user[0] follows the main file's users).
func (d *strictDoc) finish(bases map[string]int, pos map[string]srcPos) error {
	for _, u := range d.md.Undecoded() {
		if len(u) > 2 && u[0] == "connector" {
			continue // inside a kind's sub-table: Config.DecodeSettings checks it
		}
		k := u.String()
		return &Error{File: d.file, Line: d.lines[k], Key: k, Msg: "unknown key"}
	}
	for k, l := range d.lines {
		if name, rest, ok := strings.Cut(k, "["); ok && bases[name] > 0 {
			if n, tail, ok := strings.Cut(rest, "]"); ok {
				if idx, err := strconv.Atoi(n); err == nil {
					k = name + "[" + strconv.Itoa(idx+bases[name]) + "]" + tail
				}
			}
		}
		pos[k] = srcPos{file: d.file, line: l}
	}
	return nil
}

// syntaxError turns a toml error into an *Error with its line.
func syntaxError(file string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	return &Error{File: file, Msg: err.Error()}
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	connectorType   = reflect.TypeFor[Connector]()
)

// checkTable checks the keys of one TOML table against struct type t.
// Keys are visited in line order so the errors read top to bottom.
func checkTable(m map[string]any, t reflect.Type, path string, lines map[string]int, file string, errs *errList) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := lines[join(path, a)] - lines[join(path, b)]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		kp := join(path, k)
		f, ok := fieldByTag(t, k)
		if _, table := m[k].(map[string]any); !ok && table && t == connectorType {
			continue // a kind's sub-table: its kind checks it (Config.DecodeSettings)
		}
		if !ok {
			msg := "unknown key"
			if near := nearTag(t, k); near != "" {
				msg += " (did you mean " + strconv.Quote(near) + "?)"
			} else if path == "" {
				msg = "unknown table or key"
			}
			errs.add(&Error{File: file, Line: lineOf(lines, kp), Key: kp, Msg: msg})
			continue
		}
		checkValue(m[k], f.Type, kp, lines, file, errs)
	}
}

// checkValue checks one value against the Go type it will be decoded into.
func checkValue(v any, t reflect.Type, path string, lines map[string]int, file string, errs *errList) {
	bad := func(msg string) {
		errs.add(&Error{File: file, Line: lineOf(lines, path), Key: path, Msg: msg})
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		var text string
		switch x := v.(type) {
		case string:
			text = x
		case int64:
			text = strconv.FormatInt(x, 10)
		default:
			bad("expected a string, got " + tomlKind(v))
			return
		}
		tu := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := tu.UnmarshalText([]byte(text)); err != nil {
			bad(err.Error())
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("expected a string, got " + tomlKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("expected true or false, got " + tomlKind(v))
		}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint16:
		n, ok := v.(int64)
		if !ok {
			bad("expected an integer, got " + tomlKind(v))
			return
		}
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if t.Kind() == reflect.Int64 || t.Kind() == reflect.Int {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if t.Kind() == reflect.Uint16 {
			lo, hi = 0, math.MaxUint16
		}
		if n < lo || n > hi {
			bad(fmt.Sprintf("%d is out of range", n))
		}
	case reflect.Float64:
		switch v.(type) {
		case float64, int64:
		default:
			bad("expected a number, got " + tomlKind(v))
		}
	case reflect.Pointer:
		checkValue(v, t.Elem(), path, lines, file, errs)
	case reflect.Struct:
		tbl, ok := v.(map[string]any)
		if !ok {
			bad("expected a table, got " + tomlKind(v))
			return
		}
		checkTable(tbl, t, path, lines, file, errs)
	case reflect.Slice:
		switch arr := v.(type) {
		case []map[string]any:
			if t.Elem().Kind() != reflect.Struct {
				bad("expected an array of values, got an array of tables")
				return
			}
			for i, tbl := range arr {
				checkTable(tbl, t.Elem(), path+"["+strconv.Itoa(i)+"]", lines, file, errs)
			}
		case []any:
			for i, e := range arr {
				if t.Elem().Kind() == reflect.Struct {
					tbl, ok := e.(map[string]any)
					if !ok {
						bad("expected an array of tables")
						return
					}
					checkTable(tbl, t.Elem(), path+"["+strconv.Itoa(i)+"]", lines, file, errs)
					continue
				}
				checkValue(e, t.Elem(), path+"["+strconv.Itoa(i)+"]", lines, file, errs)
			}
		default:
			bad("expected an array, got " + tomlKind(v))
		}
	default:
		bad("BUG: config field of unsupported type " + t.String())
	}
}

// lineOf finds the line of path, falling back to the nearest enclosing key
// (an array element's line is its array's).
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// fieldByTag finds the field of struct t whose toml tag is exactly key,
// looking into embedded structs without a tag as toml does.
func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for _, f := range tomlFields(t) {
		if tag(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// nearTag suggests the tag of t that key probably meant: same letters
// ignoring case and '_'/'-'.
func nearTag(t reflect.Type, key string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
	}
	for _, f := range tomlFields(t) {
		if tg := tag(f); norm(tg) == norm(key) {
			return tg
		}
	}
	return ""
}

// tomlFields lists the fields of struct t that are TOML keys: tagged
// fields, with untagged embedded structs flattened into their parent.
func tomlFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		switch tg := tag(f); {
		case tg == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, tomlFields(f.Type)...)
		case tg != "" && tg != "-":
			out = append(out, f)
		}
	}
	return out
}

func tag(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

func tomlKind(v any) string {
	switch x := v.(type) {
	case string:
		return "a string (" + strconv.Quote(x) + ")"
	case int64:
		return "an integer (" + strconv.FormatInt(x, 10) + ")"
	case float64:
		return "a float (" + strconv.FormatFloat(x, 'g', -1, 64) + ")"
	case bool:
		return "a boolean (" + strconv.FormatBool(x) + ")"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
