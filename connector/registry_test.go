package connector_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
)

func kind(name string) connector.Kind {
	return connector.Kind{Name: name, Settings: func() any { return &struct{}{} },
		Validate: func(any, *connector.Check) {},
		Build:    func(any, connector.Build) (connector.Connector, error) { return nil, errors.New("not built") }}
}

func TestRegistry(t *testing.T) {
	r, err := connector.NewRegistry(kind("b"), kind("a"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("names %q", got)
	}
	if k, ok := r.Lookup("a"); !ok || k.Name != "a" {
		t.Errorf("Lookup(a) = %+v %v", k, ok)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Error("Lookup of an unknown kind succeeded")
	}
	incomplete := kind("x")
	incomplete.Build = nil
	for _, ks := range [][]connector.Kind{{kind("a"), kind("a")}, {kind("")}, {incomplete}} {
		if _, err := connector.NewRegistry(ks...); !errors.Is(err, connector.ErrOptions) {
			t.Errorf("NewRegistry(%v): %v, want ErrOptions", ks, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustRegistry accepted a kind registered twice")
		}
	}()
	connector.MustRegistry(kind("a"), kind("a"))
}

func TestCheck(t *testing.T) {
	var c connector.Check
	c.IntRange("n", 5, 1, 4)
	c.IntRange("ok", 2, 1, 4)
	c.Backoff("min", "max", 0, connector.Duration(-time.Second))
	c.Warn("w", "careful: %d", 1)
	want := []connector.Problem{{Key: "n", Msg: "5 is out of range 1..4"}, {Key: "min", Msg: "must be > 0"},
		{Key: "max", Msg: "-1s is less than min (0s)"}}
	if !slices.Equal(c.Problems, want) || len(c.Warnings) != 1 || c.Warnings[0] != (connector.Problem{Key: "w", Msg: "careful: 1"}) {
		t.Errorf("problems %+v warnings %+v", c.Problems, c.Warnings)
	}
}

func TestDuration(t *testing.T) {
	var d connector.Duration
	for in, want := range map[string]string{"5": "a duration needs a unit", "soon": "invalid duration", "-1s": "must not be negative"} {
		if err := d.UnmarshalText([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d.D() != 90*time.Second || d.String() != "1m30s" {
		t.Errorf("1m30s: %v %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "1m30s" {
		t.Errorf("MarshalText %q", b)
	}
}
