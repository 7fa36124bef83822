package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/smppd/smppd/internal/atomicfile"
)

// defaultUsersHeader starts a users file that had no header comment.
const defaultUsersHeader = `# smppd users and groups. This file is rewritten by smppd when users change
# at run time: comments other than this header are not kept.
# Keys: docs/CONFIG.md ("Users", "Groups").`

// SaveUsers writes groups and users as a users file at path, atomically: a
// temporary file in the same directory is written, synced and renamed over
// path, then the directory is synced, so a crash leaves either the old file
// or the new one. The new file keeps the old one's permission bits (0600 for
// a new file) and its leading comment block (a default header otherwise);
// other comments are not kept. A symlink at path is followed.
//
// Keys equal to their default (DefaultUser, DefaultGroup) are left out,
// except system_id, password_hash, name and enabled. The entries are checked
// first as Load would check a users file on its own (a user's group may
// live in the main file, so group references are not checked); on error
// nothing is written and the *Error keys name user[i] / group[i] of the
// slices given. users and groups are not modified.
func SaveUsers(path string, users []User, groups []Group) error {
	// A copy: Validate fills each user's Account in place.
	chk := &Config{Path: path, Users: append([]User(nil), users...), Groups: groups}
	v := validator{c: chk, usersOnly: true}
	v.groups()
	v.users()
	if err := v.errs.err(); err != nil {
		return err
	}

	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config: save users: %w", err)
	}
	mode := fs.FileMode(0o600)
	header := defaultUsersHeader
	if old, err := os.ReadFile(path); err == nil {
		if h := leadingComments(string(old)); h != "" {
			header = h
		}
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config: save users: %w", err)
	}

	var b bytes.Buffer
	b.WriteString(header)
	b.WriteByte('\n')
	def := DefaultGroup()
	for i := range groups {
		if err := writeTable(&b, "group", reflect.ValueOf(groups[i]), reflect.ValueOf(def), map[string]bool{"name": true, "enabled": true}); err != nil {
			return err
		}
	}
	du := DefaultUser()
	for i := range users {
		if err := writeTable(&b, "user", reflect.ValueOf(users[i]), reflect.ValueOf(du), map[string]bool{"system_id": true, "password_hash": true, "enabled": true}); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(path, b.Bytes(), mode); err != nil {
		return fmt.Errorf("config: save users: %w", err)
	}
	return nil
}

// leadingComments returns the comment lines at the top of a TOML file
// (blank lines between them kept, trailing ones dropped).
func leadingComments(src string) string {
	end := 0
	for i := 0; i < len(src); {
		j := strings.IndexByte(src[i:], '\n')
		if j < 0 {
			j = len(src) - i
		}
		line := strings.TrimSpace(src[i : i+j])
		if line != "" && !strings.HasPrefix(line, "#") {
			break
		}
		if line != "" {
			end = i + j
		}
		i += j + 1
	}
	return src[:end]
}

// writeTable writes one [[name]] table: the fields of v whose value differs
// from def's, and those in always.
func writeTable(b *bytes.Buffer, name string, v, def reflect.Value, always map[string]bool) error {
	b.WriteString("\n[[" + name + "]]\n")
	for _, f := range tomlFields(v.Type()) {
		key := tag(f)
		fv, dv := v.FieldByIndex(f.Index), def.FieldByIndex(f.Index)
		if !always[key] && sameValue(fv, dv) {
			continue
		}
		b.WriteString(key)
		b.WriteString(" = ")
		if err := writeValue(b, fv); err != nil {
			return fmt.Errorf("config: save users: %s: %w", key, err)
		}
		b.WriteByte('\n')
	}
	return nil
}

// sameValue compares field values, counting a nil slice equal to an empty
// one.
func sameValue(a, b reflect.Value) bool {
	if a.Kind() == reflect.Slice {
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !reflect.DeepEqual(a.Index(i).Interface(), b.Index(i).Interface()) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// writeValue writes v as a TOML value. It covers the kinds User and Group
// use; SaveUsers' round-trip test fails if a field of another kind appears.
func writeValue(b *bytes.Buffer, v reflect.Value) error {
	if d, ok := v.Interface().(Duration); ok {
		b.WriteString(tomlString(shortDuration(d)))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		b.WriteString(tomlString(v.String()))
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int64, reflect.Int32:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Float64:
		s := strconv.FormatFloat(v.Float(), 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") { // TOML floats need a '.' or an exponent
			s += ".0"
		}
		b.WriteString(s)
	case reflect.Slice:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeValue(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case reflect.Struct:
		b.WriteString("{ ")
		for i, f := range tomlFields(v.Type()) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tag(f) + " = ")
			if err := writeValue(b, v.FieldByIndex(f.Index)); err != nil {
				return err
			}
		}
		b.WriteString(" }")
	default:
		return errors.New("no TOML form for a value of type " + v.Type().String())
	}
	return nil
}

// tomlString quotes s for TOML: a literal string when that avoids escapes
// (regexps read better so), else a basic string with TOML's escapes.
func tomlString(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f || c == '\'' {
			plain = false
			break
		}
	}
	if plain && strings.ContainsRune(s, '\\') {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// shortDuration formats d without zero minor units: "72h", not "72h0m0s".
func shortDuration(d Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
