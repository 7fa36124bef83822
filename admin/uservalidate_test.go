package admin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
)

// The users file and the API read a user with one function
// (accounts.ParseUser): every definition below goes through config.Load of
// a users file and through POST /v1/users (and PATCH /v1/users/{id} when
// the keys may be patched), and must be accepted or refused identically,
// with the same reasons, the same warnings and the same parsed user.

// userCase is one user definition: keys of a [[user]] table and of the
// API's body, written once and rendered as TOML and as JSON.
type userCase struct {
	name   string
	fields map[string]any
	// want is the reason, as "key: msg; key: msg", or "" when accepted.
	want string
	// warns are the warnings, as "key: msg".
	warns []string
	// check looks at the parsed user of an accepted case (both paths gave
	// it, identically).
	check func(t *testing.T, u *accounts.User)
}

func allowIPs(want ...string) func(*testing.T, *accounts.User) {
	return func(t *testing.T, u *accounts.User) {
		var got []string
		for _, p := range u.AllowIPs {
			got = append(got, p.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("allow_ips parsed as %v, want %v", got, want)
		}
	}
}

var userCases = []userCase{
	{name: "defaults", fields: map[string]any{}, check: func(t *testing.T, u *accounts.User) {
		if !u.Enabled || u.BindTypes != accounts.AllBindTypes || !u.Receipts || !u.Limits.Balance.IsUnlimited() ||
			u.Limits.MaxPriority == nil || *u.Limits.MaxPriority != 3 || u.AllowIPs != nil || u.SourceAddrs != nil {
			t.Errorf("defaults parsed as %+v", u)
		}
	}},
	{name: "every key", fields: map[string]any{
		"enabled": false, "group": "retail", "bind_types": []string{"transmitter", "receiver"}, "max_binds": 10,
		"max_binds_per_type": map[string]int{"transmitter": 2, "receiver": 3},
		"allow_ips":          []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"},
		"default_source":     "ACME", "source_addrs": []string{"ACME", "336*", "re:44[0-9]+"}, "receipts": false,
		"throughput": 12.5, "burst": 20, "balance": "100.25", "quota": 5000, "max_validity": "6h", "max_priority": 1,
	}, check: func(t *testing.T, u *accounts.User) {
		l := &u.Limits
		if u.Enabled || u.Group != "retail" || u.BindTypes != accounts.BindTransmitter|accounts.BindReceiver || u.MaxBinds != 10 ||
			u.MaxBindsPerType != [3]int{2, 3, 0} || u.DefaultSource != "ACME" || len(u.SourceAddrs) != 3 || u.Receipts ||
			l.Throughput != 12.5 || l.Burst != 20 || l.Balance.String() != "100.25" || l.Quota != 5000 ||
			l.MaxValidity.String() != "6h0m0s" || *l.MaxPriority != 1 {
			t.Errorf("parsed as %+v", u)
		}
		allowIPs("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32")(t, u)
	}},
	// The API used to keep these as IPv6 prefixes, which never match the
	// unmapped peer address; the users file unmapped them at the next start.
	{name: "IPv4-mapped address", fields: map[string]any{"allow_ips": []string{"::ffff:10.0.0.1"}}, check: allowIPs("10.0.0.1/32")},
	{name: "IPv4-mapped CIDR", fields: map[string]any{"allow_ips": []string{"::ffff:192.0.2.0/120"}}, check: allowIPs("192.0.2.0/24")},
	{name: "IPv4-mapped CIDR under /96 stays IPv6", fields: map[string]any{"allow_ips": []string{"::ffff:0:0/80"}}, check: allowIPs("::/80")},
	{name: "CIDR host bits masked", fields: map[string]any{"allow_ips": []string{"10.1.2.3/8", "2001:db8::1/32"}}, check: allowIPs("10.0.0.0/8", "2001:db8::/32")},
	{name: "address with spaces and a zone", fields: map[string]any{"allow_ips": []string{" 192.0.2.1 ", "fe80::1%eth0"}}, check: allowIPs("192.0.2.1/32", "fe80::1/128")},
	{name: "empty allow_ips", fields: map[string]any{"allow_ips": []string{}}, check: allowIPs()},
	{name: "any source", fields: map[string]any{"source_addrs": []string{"*"}, "default_source": "x"}},
	{name: "default source by regexp", fields: map[string]any{"source_addrs": []string{"re:33[67][0-9]{2}"}, "default_source": "33612"}},
	{name: "limits at their bounds", fields: map[string]any{"max_binds": 1 << 20, "max_binds_per_type": map[string]int{"transceiver": 1 << 20},
		"throughput": 1e9, "burst": 1 << 30, "quota": 0, "max_priority": 0, "max_validity": "0"}},
	{name: "balance spellings", fields: map[string]any{"balance": "+.5"}, check: func(t *testing.T, u *accounts.User) {
		if u.Limits.Balance.Micros() != 500_000 {
			t.Errorf("balance %v", u.Limits.Balance)
		}
	}},
	{name: "balance unlimited in capitals", fields: map[string]any{"balance": "UNLIMITED"}},
	{name: "per-type limit above max_binds warns", fields: map[string]any{"max_binds": 2, "max_binds_per_type": map[string]int{"receiver": 3}},
		warns: []string{"max_binds_per_type.receiver: 3 exceeds max_binds (2)"}},
	{name: "per-type limit for a type not allowed warns", fields: map[string]any{"bind_types": []string{"receiver"}, "max_binds_per_type": map[string]int{"transmitter": 1}},
		warns: []string{"max_binds_per_type.transmitter: a limit for transmitter binds, which bind_types does not allow"}},
	{name: "burst without throughput warns", fields: map[string]any{"burst": 5}, warns: []string{"burst: 5 has no effect without a throughput"}},

	{name: "empty system_id", fields: map[string]any{"system_id": ""},
		want: `system_id: must be 1..15 printable ASCII characters without spaces, got ""`},
	{name: "16-character system_id", fields: map[string]any{"system_id": "abcdefghijklmnop"},
		want: `system_id: must be 1..15 printable ASCII characters without spaces, got "abcdefghijklmnop"`},
	{name: "system_id with a space", fields: map[string]any{"system_id": "a b"},
		want: `system_id: must be 1..15 printable ASCII characters without spaces, got "a b"`},
	{name: "system_id not ASCII", fields: map[string]any{"system_id": "usér"},
		want: `system_id: must be 1..15 printable ASCII characters without spaces, got "usér"`},
	{name: "no bind type", fields: map[string]any{"bind_types": []string{}},
		want: "bind_types: must list at least one of transmitter, receiver, transceiver"},
	{name: "unknown bind type", fields: map[string]any{"bind_types": []string{"esme"}},
		want: `bind_types: unknown bind type "esme" (use transmitter, receiver, transceiver)`},
	// The API accepted a bind type listed twice.
	{name: "bind type twice", fields: map[string]any{"bind_types": []string{"receiver", "receiver"}},
		want: `bind_types: "receiver" is listed twice`},
	{name: "negative max_binds", fields: map[string]any{"max_binds": -1}, want: "max_binds: -1 is out of range 0..1048576"},
	// The API had no upper bound for max_binds and max_binds_per_type.
	{name: "max_binds too large", fields: map[string]any{"max_binds": 1<<20 + 1}, want: "max_binds: 1048577 is out of range 0..1048576"},
	{name: "negative per-type", fields: map[string]any{"max_binds_per_type": map[string]int{"receiver": -1}},
		want: "max_binds_per_type.receiver: -1 is out of range 0..1048576"},
	{name: "per-type too large", fields: map[string]any{"max_binds_per_type": map[string]int{"transceiver": 1<<20 + 1}},
		want: "max_binds_per_type.transceiver: 1048577 is out of range 0..1048576"},
	{name: "allow_ips word", fields: map[string]any{"allow_ips": []string{"10.0.0.0/8", "nope"}}, want: `allow_ips: "nope" is not an address or CIDR`},
	{name: "allow_ips bits", fields: map[string]any{"allow_ips": []string{"10.0.0.0/33"}}, want: `allow_ips: "10.0.0.0/33" is not an address or CIDR`},
	{name: "allow_ips zone in a prefix", fields: map[string]any{"allow_ips": []string{"fe80::1%eth0/64"}}, want: `allow_ips: "fe80::1%eth0/64" is not an address or CIDR`},
	{name: "allow_ips empty entry", fields: map[string]any{"allow_ips": []string{""}}, want: `allow_ips: "" is not an address or CIDR`},
	// The API checked neither the length nor the characters of
	// default_source and source_addrs literals.
	{name: "default_source too long", fields: map[string]any{"default_source": "123456789012345678901"},
		want: `default_source: must be at most 20 characters without control characters, got "123456789012345678901"`},
	{name: "default_source control character", fields: map[string]any{"default_source": "a\tb"},
		want: `default_source: must be at most 20 characters without control characters, got "a\tb"`},
	{name: "default_source refused by source_addrs", fields: map[string]any{"source_addrs": []string{"336*"}, "default_source": "ACME"},
		want: `default_source: "ACME" is not allowed by source_addrs`},
	{name: "source regexp", fields: map[string]any{"source_addrs": []string{"ACME", "re:(33"}},
		want: "source_addrs: \"re:(33\": error parsing regexp: missing closing ): `^(?:(33)$`"},
	{name: "source empty regexp", fields: map[string]any{"source_addrs": []string{"re:"}}, want: `source_addrs: "re:": empty regular expression`},
	{name: "source star inside", fields: map[string]any{"source_addrs": []string{"33*1"}},
		want: `source_addrs: "33*1": '*' is allowed only at the end (use "re:<regexp>" for more)`},
	{name: "source empty", fields: map[string]any{"source_addrs": []string{""}},
		want: `source_addrs: "": empty pattern (leave source_addrs empty, or write "*", to allow any source)`},
	{name: "source too long", fields: map[string]any{"source_addrs": []string{"123456789012345678901*"}},
		want: `source_addrs: "123456789012345678901*": must be at most 20 characters without control characters`},
	{name: "source control character", fields: map[string]any{"source_addrs": []string{"a\u0001"}},
		want: `source_addrs: "a\x01": must be at most 20 characters without control characters`},
	{name: "negative throughput", fields: map[string]any{"throughput": -1},
		want: "throughput: must be a number of parts per second, 0 (unlimited) to 1e9, got -1"},
	// The API had no upper bound for throughput and burst.
	{name: "throughput too high", fields: map[string]any{"throughput": 1e10},
		want: "throughput: must be a number of parts per second, 0 (unlimited) to 1e9, got 1e+10"},
	{name: "negative burst", fields: map[string]any{"burst": -2}, want: "burst: -2 is out of range 0..1073741824"},
	{name: "burst too large", fields: map[string]any{"burst": 1<<30 + 1}, want: "burst: 1073741825 is out of range 0..1073741824"},
	{name: "balance decimals", fields: map[string]any{"balance": "12.1234567"},
		want: `balance: must be "unlimited" or a non-negative decimal with at most 6 decimals, got "12.1234567"`},
	{name: "negative balance", fields: map[string]any{"balance": "-5"},
		want: `balance: must be "unlimited" or a non-negative decimal with at most 6 decimals, got "-5"`},
	{name: "balance words", fields: map[string]any{"balance": "plenty"},
		want: `balance: must be "unlimited" or a non-negative decimal with at most 6 decimals, got "plenty"`},
	{name: "balance dot", fields: map[string]any{"balance": "."},
		want: `balance: must be "unlimited" or a non-negative decimal with at most 6 decimals, got "."`},
	{name: "balance too large", fields: map[string]any{"balance": "99999999999999999999"},
		want: `balance: is too large, got "99999999999999999999"`},
	{name: "negative quota", fields: map[string]any{"quota": -1}, want: "quota: -1 must be >= 0 (0 = unlimited)"},
	{name: "max_validity without unit", fields: map[string]any{"max_validity": "48"},
		want: `max_validity: a duration needs a unit, e.g. "48s"`},
	{name: "negative max_validity", fields: map[string]any{"max_validity": "-1h"}, want: "max_validity: duration must not be negative"},
	// The API read "" as unlimited.
	{name: "empty max_validity", fields: map[string]any{"max_validity": ""},
		want: `max_validity: invalid duration "" (use e.g. "30s", "5m", "250ms")`},
	{name: "max_priority 4", fields: map[string]any{"max_priority": 4}, want: "max_priority: 4 is out of range 0..3"},
	{name: "negative max_priority", fields: map[string]any{"max_priority": -1}, want: "max_priority: -1 is out of range 0..3"},
	{name: "unknown group", fields: map[string]any{"group": "ghost"},
		want: `group: unknown group "ghost" (define it in a [[group]] table)`},
	{name: "every problem reported", fields: map[string]any{"max_binds": -1, "bind_types": []string{"tx"}, "burst": -2, "quota": -3},
		want: `bind_types: unknown bind type "tx" (use transmitter, receiver, transceiver); max_binds: -1 is out of range 0..1048576; ` +
			"burst: -2 is out of range 0..1073741824; quota: -3 must be >= 0 (0 = unlimited)"},
}

// testGroups are defined in the users file and in the API's Store alike.
var testGroups = []accounts.Group{{Name: "retail", Enabled: true}, {Name: "off", Enabled: false}}

const testPassword = "pw"

// testHash is testPassword's hash, made once: PBKDF2 is slow by design.
var testHash = func() string {
	h, err := accounts.HashPasswordIter(testPassword, 1000)
	if err != nil {
		panic(err)
	}
	return h
}()

func TestUserValidationSharedByConfigAndAPI(t *testing.T) {
	for _, tc := range userCases {
		t.Run(tc.name, func(t *testing.T) {
			fields := maps.Clone(tc.fields)
			if _, ok := fields["system_id"]; !ok {
				fields["system_id"] = "u1"
			}
			fileUser, fileProblems, fileWarns := viaUsersFile(t, testHash, fields)
			apiUser, apiProblems, apiWarns := viaAPI(t, http.MethodPost, fields)
			if fileProblems != tc.want || !slices.Equal(fileWarns, tc.warns) {
				t.Errorf("users file: %q %q, want %q %q", fileProblems, fileWarns, tc.want, tc.warns)
			}
			if apiProblems != fileProblems {
				t.Errorf("API: %q, users file: %q", apiProblems, fileProblems)
			}
			if !slices.Equal(apiWarns, fileWarns) {
				t.Errorf("API warnings %q, users file warnings %q", apiWarns, fileWarns)
			}
			if tc.want == "" && apiUser != nil && fileUser != nil {
				sameUser(t, "POST", apiUser, fileUser)
				if tc.check != nil {
					tc.check(t, fileUser)
				}
			}
			// PATCH takes the same keys but system_id and balance.
			_, hasBalance := tc.fields["balance"]
			_, hasID := tc.fields["system_id"]
			if hasBalance || hasID {
				return
			}
			patched, patchProblems, patchWarns := viaAPI(t, http.MethodPatch, fields)
			if patchProblems != fileProblems || !slices.Equal(patchWarns, fileWarns) {
				t.Errorf("PATCH: %q %q, users file: %q %q", patchProblems, patchWarns, fileProblems, fileWarns)
			}
			if tc.want == "" && patched != nil && fileUser != nil {
				sameUser(t, "PATCH", patched, fileUser)
			}
		})
	}
}

// sameUser compares two parsed users in every key but the password hash
// (the API hashes with a fresh salt: it must verify).
func sameUser(t *testing.T, path string, api, file *accounts.User) {
	t.Helper()
	if !accounts.VerifyPassword(api.PasswordHash, testPassword) {
		t.Errorf("%s: the API's hash does not verify", path)
	}
	a, f := api.Spec(), file.Spec()
	a.PasswordHash, f.PasswordHash = "", ""
	if !reflect.DeepEqual(a, f) || !slices.Equal(api.AllowIPs, file.AllowIPs) {
		t.Errorf("%s: API user %+v\nusers file user %+v", path, a, f)
	}
}

// viaUsersFile loads a users file defining the groups and a user with hash
// and fields, as smppd does at start and at SIGHUP. It returns the parsed
// user, the problems as "key: msg; ..." with the keys relative to the user
// (each must name the users file and a line), and the user's warnings.
func viaUsersFile(t *testing.T, hash string, fields map[string]any) (*accounts.User, string, []string) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for _, g := range testGroups {
		b.WriteString("[[group]]\nname = " + strconv.Quote(g.Name) + "\nenabled = " + strconv.FormatBool(g.Enabled) + "\n")
	}
	b.WriteString("[[user]]\npassword_hash = " + strconv.Quote(hash) + "\n")
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		b.WriteString(k + " = " + tomlValue(t, fields[k]) + "\n")
	}
	for name, src := range map[string]string{"smppd.toml": "", "users.toml": b.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(dir, "smppd.toml"))
	if err != nil {
		var msgs []string
		for _, e := range leafErrors(err) {
			var ce *config.Error
			if !errors.As(e, &ce) {
				t.Fatalf("not a *config.Error: %v", e)
			}
			key, ok := strings.CutPrefix(ce.Key, "user[0].")
			if !ok || filepath.Base(ce.File) != "users.toml" || ce.Line < 1 {
				t.Errorf("error %q does not name users.toml, a line and user[0]'s key", ce)
			}
			msgs = append(msgs, key+": "+ce.Msg)
		}
		return nil, strings.Join(msgs, "; "), nil
	}
	var warns []string
	for _, w := range cfg.Warnings {
		if rest, ok := strings.CutPrefix(w, "user[0]."); ok {
			warns = append(warns, rest)
		}
	}
	return &cfg.Users[0].Account, "", warns
}

// viaAPI sends fields to the API: POST /v1/users (with testPassword unless
// fields has one), or
// PATCH /v1/users/u1 of a user at the users file's defaults. It returns the
// stored user, the error message and the warnings logged.
func viaAPI(t *testing.T, method string, fields map[string]any) (*accounts.User, string, []string) {
	t.Helper()
	var users []accounts.User
	body := maps.Clone(fields)
	url := "/v1/users"
	if method == http.MethodPatch {
		def := config.DefaultUser()
		spec := def.Spec()
		spec.SystemID, spec.PasswordHash = "u1", testHash
		var c accounts.Check
		users = append(users, accounts.ParseUser(&spec, nil, &c))
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
		url += "/u1"
	} else if _, ok := body["password"]; !ok {
		body["password"] = testPassword
	}
	st, err := accounts.NewStore(users, testGroups, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := New(Options{Addr: "127.0.0.1:0", Users: st, Logger: zerolog.New(&logs)})
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		var e errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != http.StatusUnprocessableEntity || e.Error.Code != "invalid" {
			t.Fatalf("%s %s: %d %s", method, url, rec.Code, rec.Body)
		}
		if _, ok := st.Lookup("u1"); ok && method == http.MethodPost {
			t.Errorf("a refused user was stored")
		}
		return nil, e.Error.Message, nil
	}
	u, ok := st.Lookup("u1")
	if !ok {
		t.Fatalf("%s %s: %d but no user", method, url, rec.Code)
	}
	return &u, "", loggedWarnings(t, &logs)
}

// loggedWarnings returns the "warnings" of the user_added or user_changed
// log line.
func loggedWarnings(t *testing.T, logs *bytes.Buffer) []string {
	t.Helper()
	sc := bufio.NewScanner(logs)
	for sc.Scan() {
		var line struct {
			Event    string   `json:"event"`
			Warnings []string `json:"warnings"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Bytes(), err)
		}
		if line.Event == "user_added" || line.Event == "user_changed" {
			if len(line.Warnings) == 0 {
				return nil
			}
			return line.Warnings
		}
	}
	t.Fatalf("no user_added or user_changed log line in %q", logs)
	return nil
}

// tomlValue writes v as TOML: JSON's strings, numbers and string arrays
// are TOML too; an object becomes an inline table.
func tomlValue(t *testing.T, v any) string {
	t.Helper()
	if m, ok := v.(map[string]int); ok {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, k+" = "+strconv.Itoa(m[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// leafErrors flattens errors.Join trees.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// The API's password and the users file's password_hash are the one key
// the two spell differently: each path has its own rule, and the hash the
// API stores passes the users file's.
func TestPasswordRules(t *testing.T) {
	for _, tc := range []struct{ pw, want string }{
		{"", "password: must be 1 to 8 characters (the SMPP limit)"},
		{"123456789", "password: must be 1 to 8 characters (the SMPP limit)"},
		{"a\x00b", "password: cannot contain NUL (SMPP passwords are C-octet strings)"},
	} {
		_, got, _ := viaAPI(t, http.MethodPost, map[string]any{"system_id": "u1", "password": tc.pw})
		if got != tc.want {
			t.Errorf("password %q: %q, want %q", tc.pw, got, tc.want)
		}
	}
	for _, tc := range []struct{ hash, want string }{
		{"5f4dcc3b5aa765d61d8327deb882cf99", "password_hash: must be a hash printed by `smppd passwd` ($pbkdf2-sha256$<iterations>$<salt>$<hash>)"},
		{"$pbkdf2-sha256$999$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
			"password_hash: must be a hash printed by `smppd passwd` ($pbkdf2-sha256$<iterations>$<salt>$<hash>): password hash iterations out of range 1000..10000000"},
	} {
		var c accounts.Check
		accounts.ParseUser(&accounts.UserSpec{SystemID: "u1", PasswordHash: tc.hash, BindTypes: []string{"receiver"}}, nil, &c)
		if err := c.Err(); err == nil || err.Error() != tc.want {
			t.Errorf("hash %q: %v, want %q", tc.hash, err, tc.want)
		}
		_, got, _ := viaUsersFile(t, tc.hash, map[string]any{"system_id": "u1"})
		if got != tc.want {
			t.Errorf("users file hash %q: %q, want %q", tc.hash, got, tc.want)
		}
	}
	// What the API stores, the users file reads back.
	u, msg, _ := viaAPI(t, http.MethodPost, map[string]any{"system_id": "u1", "password": "12345678"})
	if msg != "" {
		t.Fatal(msg)
	}
	if _, got, _ := viaUsersFile(t, u.PasswordHash, map[string]any{"system_id": "u1"}); got != "" {
		t.Errorf("the API's hash refused by the users file: %s", got)
	}
}
