package accounts

import (
	"errors"
	"strings"
	"testing"
)

func TestSourceAllowed(t *testing.T) {
	cases := []struct {
		name  string
		pats  []string
		allow []string
		deny  []string
	}{
		{"empty allows any", nil, []string{"", "12345", "anything"}, nil},
		{"exact", []string{"12345", "INFO"}, []string{"12345", "INFO"}, []string{"", "1234", "123456", "info", "012345"}},
		{"prefix", []string{"336*"}, []string{"336", "33612345678"}, []string{"", "33", "1336", "437"}},
		{"star alone", []string{"*"}, []string{"", "x", "336"}, nil},
		{"regexp anchored", []string{`re:33[67][0-9]{8}`}, []string{"33612345678", "33712345678"},
			[]string{"336123456789", "x33612345678", "33812345678", ""}},
		{"regexp alternation anchored", []string{`re:a|b`}, []string{"a", "b"}, []string{"ab", "ba", "xa"}},
		{"mixed", []string{"INFO", "336*", `re:\+?44[0-9]+`}, []string{"INFO", "3369", "+447", "447"}, []string{"INFO2", "44", "+44x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := User{SystemID: "u", SourceAddrs: c.pats}
			if err := u.Prepare(); err != nil {
				t.Fatal(err)
			}
			for _, s := range c.allow {
				if !u.SourceAllowed([]byte(s)) {
					t.Errorf("%q refused", s)
				}
			}
			for _, s := range c.deny {
				if u.SourceAllowed([]byte(s)) {
					t.Errorf("%q allowed", s)
				}
			}
		})
	}
	// Patterns that were never compiled allow nothing (fail closed).
	raw := User{SourceAddrs: []string{"*"}}
	if raw.SourceAllowed([]byte("x")) {
		t.Error("uncompiled patterns allowed a source")
	}
}

func TestUserPrepareRejects(t *testing.T) {
	for name, u := range map[string]User{
		"empty pattern":       {SourceAddrs: []string{""}},
		"empty regexp":        {SourceAddrs: []string{"re:"}},
		"bad regexp":          {SourceAddrs: []string{"re:(["}},
		"inner star":          {SourceAddrs: []string{"33*6"}},
		"two stars":           {SourceAddrs: []string{"3**"}},
		"default not allowed": {SourceAddrs: []string{"336*"}, DefaultSource: "INFO"},
		"negative per type":   {MaxBindsPerType: [3]int{0, -1, 0}},
		"bad limits":          {Limits: UserLimits{Quota: 5, QuotaUsed: -1}},
	} {
		u.SystemID = "u"
		if err := u.Prepare(); err == nil {
			t.Errorf("%s: Prepare accepted %+v", name, u)
		} else if !strings.Contains(err.Error(), `"u"`) {
			t.Errorf("%s: error %q does not name the user", name, err)
		}
		if len(u.SourceAddrs) > 0 && u.SourceAllowed([]byte("336")) {
			t.Errorf("%s: a rejected user allows sources", name)
		}
	}
	ok := User{SystemID: "u", SourceAddrs: []string{"336*"}, DefaultSource: "3361"}
	if err := ok.Prepare(); err != nil {
		t.Fatal(err)
	}
	free := User{SystemID: "u", DefaultSource: "INFO"} // no patterns: any default
	if err := free.Prepare(); err != nil {
		t.Fatal(err)
	}
}

func TestUserPrepareLimits(t *testing.T) {
	u := User{SystemID: "u", Limits: UserLimits{Quota: 10, QuotaUsed: 4, Balance: Micros(5)}}
	if err := u.Prepare(); err != nil {
		t.Fatal(err)
	}
	if left, lim := u.Limits.QuotaCounter().Left(); !lim || left != 6 {
		t.Fatalf("quota left %d %v, want 6", left, lim)
	}
	// Used up is limited with nothing left, never unlimited.
	u = User{SystemID: "u", Limits: UserLimits{Quota: 10, QuotaUsed: 12}}
	if err := u.Prepare(); err != nil {
		t.Fatal(err)
	}
	var a Admission
	if _, r := a.Admit(&u.Limits, 1, 0, 0, 0, t0); r != RefuseQuota {
		t.Fatalf("used-up quota: %v", r)
	}
	if !errors.Is((&UserLimits{QuotaUsed: -1}).Prepare(), ErrLimits) {
		t.Fatal("negative quota_used accepted")
	}
}

func TestActiveAndIndex(t *testing.T) {
	if !(&User{Enabled: true}).Active() || (&User{}).Active() || (&User{Enabled: true, inactive: true}).Active() {
		t.Fatal("Active wrong")
	}
	for bt, i := range map[BindType]int{BindTransmitter: 0, BindReceiver: 1, BindTransceiver: 2, 0: -1, AllBindTypes: -1} {
		if bt.Index() != i {
			t.Errorf("%v.Index() = %d, want %d", bt, bt.Index(), i)
		}
	}
}
