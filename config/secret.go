package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// Secrets outside the config file. A key that holds a secret may name where
// the secret is instead of holding it, so one file can be templated across
// nodes and kept in version control:
//
//	"file:/run/secrets/admin_token"   the file's content, one trailing newline removed
//	"env:SMPPD_ADMIN_TOKEN"           the environment variable's value
//
// A relative file path is relative to the config file's directory, as every
// path in the config is. References are resolved by Load (at start, at every
// SIGHUP and by -check-config); an error names the key and its line and
// never contains the secret. A value that must itself begin with "file:" or
// "env:" goes in a file. The keys: admin.token, the password of a
// [connector.smpp] table (any connector settings field tagged
// `secret:"true"`), and the TLS files (SecretFile).

// Prefixes of a secret reference.
const (
	secretFile = "file:"
	secretEnv  = "env:"
)

// maxSecretFile bounds what a reference may read: a certificate chain
// fits with room, a path to a large file by mistake is refused.
const maxSecretFile = 1 << 20

// IsSecretRef reports whether s is a secret reference rather than a value.
func IsSecretRef(s string) bool {
	return strings.HasPrefix(s, secretFile) || strings.HasPrefix(s, secretEnv)
}

// readSecret returns what ref names: for "file:" the file's content with
// one trailing newline removed, for "env:" the variable's value. The error
// says what failed without the secret.
func (c *Config) readSecret(ref string) ([]byte, error) {
	if name, ok := strings.CutPrefix(ref, secretEnv); ok {
		if !validEnvName(name) {
			return nil, fmt.Errorf("%q is not an environment variable name (letters, digits and _, not starting with a digit)", name)
		}
		v, set := os.LookupEnv(name)
		if !set {
			return nil, fmt.Errorf("environment variable %s is not set", name)
		}
		if v == "" {
			return nil, fmt.Errorf("environment variable %s is empty", name)
		}
		return []byte(v), nil
	}
	path, _ := strings.CutPrefix(ref, secretFile)
	if path == "" {
		return nil, fmt.Errorf("%q names no file", ref)
	}
	b, err := readBounded(c.Resolve(path))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", c.Resolve(path))
	}
	return b, nil
}

// readBounded reads a file of at most maxSecretFile bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	return b, nil
}

// secret resolves the string at *val in place when it is a reference,
// failing at key otherwise.
func (v *validator) secret(key string, val *string) {
	if !IsSecretRef(*val) {
		return
	}
	b, err := v.c.readSecret(*val)
	if err != nil {
		v.fail(key, "%v", err)
		*val = ""
		return
	}
	*val = string(b)
}

// SecretFile reads a TLS file key (cert_file, key_file, client_ca_file): a
// path (relative to the config file), "file:<path>" (the same), or
// "env:NAME" (the PEM text itself in the variable). It returns the content
// and where it came from, for messages: the resolved path, or "$NAME".
func (c *Config) SecretFile(val string) (content []byte, from string, err error) {
	if name, ok := strings.CutPrefix(val, secretEnv); ok {
		b, err := c.readSecret(val)
		return b, "$" + name, err
	}
	path := c.Resolve(strings.TrimPrefix(val, secretFile))
	b, err := readBounded(path)
	return b, path, err
}

// resolveSecretFields returns settings with the references of the string
// fields of t tagged `secret:"true"` resolved (path names settings in
// errors); settings itself is not changed. A non-string value is left for
// the type check to refuse.
func (c *Config) resolveSecretFields(settings map[string]any, t reflect.Type, path string) (map[string]any, error) {
	var out map[string]any
	var errs errList
	for _, f := range tomlFields(t) {
		if f.Tag.Get("secret") != "true" {
			continue
		}
		k := tag(f)
		s, ok := settings[k].(string)
		if !ok || !IsSecretRef(s) {
			continue
		}
		b, err := c.readSecret(s)
		if err != nil {
			errs.add(c.errorAt(path+"."+k, err.Error()))
			continue
		}
		if out == nil {
			out = make(map[string]any, len(settings))
			for kk, vv := range settings {
				out[kk] = vv
			}
		}
		out[k] = string(b)
	}
	if len(errs) > 0 {
		return nil, errs.err()
	}
	if out == nil {
		return settings, nil
	}
	return out, nil
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
