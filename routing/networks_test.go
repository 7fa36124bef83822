package routing

import (
	"errors"
	"strings"
	"testing"
)

// The networks filter routes a ported number by the network the policy's
// lookup found, before the prefix routes that would take it by its range.
func TestNetworksFilter(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{
		st("ported-b", "b", FilterConfig{Networks: []string{"netB", "netB2"}, DestPrefixes: []string{"49"}}),
		st("range-a", "a", FilterConfig{DestPrefixes: []string{"4917"}}),
		def("c"),
	}})
	for _, c := range []struct {
		network, dst, want string
	}{
		{"netB", "4917012345", "ported-b"},
		{"netB2", "4915012345", "ported-b"},
		{"netA", "4917012345", "range-a"},
		{"", "4917012345", "range-a"},     // no network known: only routes without the filter
		{"netB", "3312345", "default"},    // the filter is ANDed with dest_prefixes
		{"netb", "4917012345", "range-a"}, // names are case-sensitive
	} {
		m := MT{Dest: []byte(c.dst), Network: c.network}
		if got := routeName(tb, &m); got != c.want {
			t.Errorf("network %q dest %s: route %q, want %q", c.network, c.dst, got, c.want)
		}
	}
	v := tb.ExplainMT(&MT{Dest: []byte("4917"), Network: "netA"})
	if len(v) < 1 || v[0].Failed != FieldNetworks || v[0].Failed.String() != "networks" {
		t.Fatalf("explain: %+v", v)
	}
}

func TestNetworksFilterErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		key  string
		err  error
	}{
		{"bad name", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{Networks: []string{"net B"}})}}, "mt_route[0].networks", ErrNetwork},
		{"empty name", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{Networks: []string{""}})}}, "mt_route[0].networks", ErrNetwork},
		{"on MO", Config{MO: []MORouteConfig{{Name: "m", User: "u", FilterConfig: FilterConfig{Networks: []string{"n"}}}}}, "mo_route[0].networks", ErrNotForMO},
	} {
		_, err := Compile(c.cfg)
		errs := configErrors(t, err)
		if len(errs) == 0 || !errors.Is(errs[0], c.err) || !strings.Contains(errs[0].Error(), c.key) {
			t.Errorf("%s: %v, want %s %v", c.name, err, c.key, c.err)
		}
	}
}

func TestNetworksFilterAllocatesNothing(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{
		st("ported-b", "b", FilterConfig{Networks: []string{"netB"}}), def("a"),
	}})
	m := MT{Dest: []byte("4917012345"), Network: "netB"}
	if a := testing.AllocsPerRun(1000, func() { tb.RouteMT(&m, nil) }); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}

// The tags filter routes by the tags a policy rule set: any tag in the
// route's list matches.
func TestTagsFilter(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{
		st("promo", "b", FilterConfig{Tags: []string{"promo", "bulk"}}),
		def("a"),
	}})
	for _, c := range []struct {
		tags []string
		want string
	}{
		{[]string{"bulk"}, "promo"},
		{[]string{"otp", "promo"}, "promo"},
		{[]string{"otp"}, "default"},
		{nil, "default"},
	} {
		m := MT{Dest: []byte("4917"), Tags: c.tags}
		if got := routeName(tb, &m); got != c.want {
			t.Errorf("tags %v: route %q, want %q", c.tags, got, c.want)
		}
	}
	if v := tb.ExplainMT(&MT{Dest: []byte("1")}); len(v) < 1 || v[0].Failed.String() != "tags" {
		t.Fatalf("explain: %+v", v)
	}
	for _, c := range []struct {
		cfg Config
		key string
		err error
	}{
		{Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{Tags: []string{"a/b"}})}}, "mt_route[0].tags", ErrTag},
		{Config{MO: []MORouteConfig{{Name: "m", User: "u", FilterConfig: FilterConfig{Tags: []string{"t"}}}}}, "mo_route[0].tags", ErrNotForMO},
	} {
		_, err := Compile(c.cfg)
		errs := configErrors(t, err)
		if len(errs) == 0 || !errors.Is(errs[0], c.err) || !strings.Contains(errs[0].Error(), c.key) {
			t.Errorf("%v, want %s %v", err, c.key, c.err)
		}
	}
	m := MT{Dest: []byte("4917"), Tags: []string{"otp", "bulk"}}
	if a := testing.AllocsPerRun(1000, func() { tb.RouteMT(&m, nil) }); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}
