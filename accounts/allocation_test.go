//go:build !race

package accounts

import "testing"

// TestUserHotPathZeroAlloc: what the flow does per message on a bound
// session (User, SourceAllowed, Admit) allocates nothing.
func TestUserHotPathZeroAlloc(t *testing.T) {
	u := richUser(t)
	u.SourceAddrs = []string{"INFO", "336*", `re:\+?44[0-9]{6,12}`}
	u.Limits = UserLimits{Balance: Micros(1 << 50), Quota: 1 << 40}
	s, err := NewStore([]User{u}, testGroups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Authenticate("rich", "pw", BindTransceiver, localIP)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	empty := User{SystemID: "e"}
	if err := empty.Prepare(); err != nil {
		t.Fatal(err)
	}
	exact, prefix, re, miss := []byte("INFO"), []byte("33612345678"), []byte("+447700900123"), []byte("+1555")
	var adm Admission
	cases := map[string]func(){
		"Bind.User":            func() { _ = b.User() },
		"SourceAllowed empty":  func() { _ = empty.SourceAllowed(miss) },
		"SourceAllowed exact":  func() { _ = b.User().SourceAllowed(exact) },
		"SourceAllowed prefix": func() { _ = b.User().SourceAllowed(prefix) },
		"SourceAllowed regexp": func() { _ = b.User().SourceAllowed(re) },
		"SourceAllowed miss":   func() { _ = b.User().SourceAllowed(miss) },
		"User+Admit+Refund": func() {
			ch, r := adm.Admit(&b.User().Limits, 1, 0.01, 0, 0, t0)
			if r != Admitted {
				t.Fatal(r)
			}
			ch.Refund(1)
		},
	}
	for name, f := range cases {
		f() // warm the regexp machine pool
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", name, n)
		}
	}
	if !b.User().SourceAllowed(re) || b.User().SourceAllowed(miss) || !b.User().SourceAllowed(prefix) {
		t.Fatal("patterns wrong")
	}
}
