package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/smppd/smppd/accounts"
)

// Groups defined in the users file are checked by the rules the accounts
// Store applies (accounts.CheckGroups): the same groups are accepted or
// refused identically, for the same reasons, by config.Load and by
// accounts.NewStore (which SIGHUP's Reload shares). The operations API has
// no group endpoint.
func TestGroupValidationSharedWithStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []Group
		want   string // "key: msg; ..." or "" when accepted
	}{
		{"names", []Group{{Name: "retail", Enabled: true}, {Name: "a.b:c-d_9"}, {Name: strings.Repeat("g", 64)}}, ""},
		{"empty name", []Group{{Name: ""}}, `group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got ""`},
		{"space", []Group{{Name: "a b"}}, `group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got "a b"`},
		{"slash", []Group{{Name: "ok"}, {Name: "a/b"}}, `group[1].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got "a/b"`},
		{"too long", []Group{{Name: strings.Repeat("g", 65)}}, `group[0].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got "` + strings.Repeat("g", 65) + `"`},
		{"twice", []Group{{Name: "g"}, {Name: "h"}, {Name: "g", Enabled: true}}, `group[2].name: "g" is already defined by group[0]`},
		{"two problems", []Group{{Name: "g"}, {Name: "g"}, {Name: "x y"}},
			`group[1].name: "g" is already defined by group[0]; group[2].name: must be 1..64 of A-Z a-z 0-9 _ . : -, got "x y"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var src strings.Builder
			for _, g := range tc.groups {
				src.WriteString("[[group]]\nname = \"" + g.Name + "\"\n")
				if !g.Enabled {
					src.WriteString("enabled = false\n")
				}
			}
			var fileGot []string
			c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "", "users.toml": src.String()}))
			for _, e := range flatten(err) {
				var ce *Error
				if !errors.As(e, &ce) || !strings.HasSuffix(ce.File, "users.toml") || ce.Line < 1 {
					t.Errorf("error %q does not name users.toml and a line", e)
					continue
				}
				fileGot = append(fileGot, ce.Key+": "+ce.Msg)
			}
			if got := strings.Join(fileGot, "; "); got != tc.want {
				t.Errorf("users file: %q, want %q", got, tc.want)
			}
			groups := make([]accounts.Group, len(tc.groups))
			for i, g := range tc.groups {
				groups[i] = accounts.Group{Name: g.Name, Enabled: g.Enabled}
			}
			st, err := accounts.NewStore(nil, groups, accounts.Options{})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Store refused what the file accepts: %v", err)
			case tc.want != "" && (err == nil || err.Error() != "accounts: "+tc.want):
				t.Errorf("Store: %v, want %q", err, tc.want)
			case tc.want == "":
				if len(st.Groups()) != len(c.Groups) {
					t.Errorf("Store groups %+v, file groups %+v", st.Groups(), c.Groups)
				}
			}
		})
	}
}

// A user's group must be defined, in the main file or the users file,
// except when SaveUsers checks a users file alone.
func TestUserGroupReference(t *testing.T) {
	_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[[group]]\nname = \"main\"\n",
		"users.toml": user("a") + "group = \"main\"\n" + user("b") + "group = \"nope\"\n"}))
	wantErr(t, err, `users.toml:8: user[1].group: unknown group "nope" (define it in a [[group]] table)`)
	if strings.Contains(err.Error(), "user[0]") {
		t.Errorf("user[0]'s group in the main file refused: %v", err)
	}
}

// Validate hands cmd/smppd the users as accounts parsed them, and Spec
// and UserFromSpec carry every key both ways.
func TestUserAccountAndSpec(t *testing.T) {
	users, groups := saveSample()
	c := Defaults()
	c.Users, c.Groups = users, groups
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for i := range c.Users {
		u := &c.Users[i]
		if u.Account.SystemID != u.SystemID {
			t.Fatalf("user %d: Account not filled: %+v", i, u.Account)
		}
		spec := u.Account.Spec()
		back := UserFromSpec(&spec)
		back.Account = u.Account
		if !sameUser(back, *u) {
			t.Errorf("user %d: Account.Spec() gives\n%+v\nwant %+v", i, back, *u)
		}
	}
}

// sameUser compares the TOML keys (allow_ips as Spec writes them: a single
// address without /32 or /128).
func sameUser(a, b User) bool {
	norm := func(u User) User {
		ips := make([]string, len(u.AllowIPs))
		for i, s := range u.AllowIPs {
			ips[i] = strings.TrimSuffix(strings.TrimSuffix(s, "/32"), "/128")
		}
		u.AllowIPs, u.Account = ips, accounts.User{}
		return nilEmpty([]User{u})[0]
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
