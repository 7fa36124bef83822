package routing

import (
	"errors"
	"strings"
	"testing"
)

// TestMOURLRoutes: a route names a user or a url; a url route's method
// defaults to POST and is upper-cased, and RouteMO and MORoute return it
// with its keys.
func TestMOURLRoutes(t *testing.T) {
	tb, err := Compile(Config{Users: []string{"alice"}, MO: []MORouteConfig{
		{Name: "web", URL: "https://mo.example.net/in?k=1", Method: "get", AckBody: "ACK/Jasmin",
			Secret: "0123456789abcdef", FilterConfig: FilterConfig{DestPrefixes: []string{"1234"}}},
		{Name: "post", URL: "http://127.0.0.1:8080/mo", FilterConfig: FilterConfig{DestPrefixes: []string{"55"}}},
		{Name: "rest", User: "alice"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	user, r, ok := tb.RouteMO(&MO{Dest: []byte("12345")})
	if !ok || user != "" || r.Name != "web" || r.URL != "https://mo.example.net/in?k=1" || r.Method != "GET" ||
		r.AckBody != "ACK/Jasmin" || r.Secret != "0123456789abcdef" {
		t.Fatalf("RouteMO = %q, %+v, %v", user, r, ok)
	}
	if r := tb.MORoute("post"); r == nil || r.Method != "POST" || r.Secret != "" {
		t.Fatalf("MORoute(post) = %+v", r)
	}
	if user, r, _ := tb.RouteMO(&MO{Dest: []byte("999")}); user != "alice" || r.URL != "" {
		t.Fatalf("user route: %q %+v", user, r)
	}
	if tb.MORoute("none") != nil {
		t.Fatal("MORoute of an unknown name")
	}
}

func TestMOURLRouteErrors(t *testing.T) {
	f := FilterConfig{DestPrefixes: []string{"1"}}
	cases := []struct {
		name string
		r    MORouteConfig
		key  string
		err  error
	}{
		{"neither", MORouteConfig{Name: "a"}, "mo_route[0].user", ErrUser},
		{"both", MORouteConfig{Name: "a", User: "alice", URL: "http://h/"}, "mo_route[0].url", ErrURL},
		{"ftp", MORouteConfig{Name: "a", URL: "ftp://h/x"}, "mo_route[0].url", ErrURL},
		{"relative", MORouteConfig{Name: "a", URL: "/mo"}, "mo_route[0].url", ErrURL},
		{"no host", MORouteConfig{Name: "a", URL: "http:///mo"}, "mo_route[0].url", ErrURL},
		{"too long", MORouteConfig{Name: "a", URL: "http://h/" + strings.Repeat("x", 2048)}, "mo_route[0].url", ErrURL},
		{"method", MORouteConfig{Name: "a", URL: "http://h/", Method: "PUT"}, "mo_route[0].method", ErrURL},
		{"ack body", MORouteConfig{Name: "a", URL: "http://h/", AckBody: "ACK\n"}, "mo_route[0].ack_body", ErrURL},
		{"short secret", MORouteConfig{Name: "a", URL: "http://h/", Secret: "short"}, "mo_route[0].secret", ErrURL},
		{"method without url", MORouteConfig{Name: "a", User: "alice", Method: "GET"}, "mo_route[0].method", ErrURL},
		{"secret without url", MORouteConfig{Name: "a", User: "alice", Secret: "0123456789abcdef"}, "mo_route[0].secret", ErrURL},
	}
	for _, c := range cases {
		c.r.FilterConfig = f
		_, err := Compile(Config{Users: []string{"alice"}, MO: []MORouteConfig{c.r}})
		var ce *ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, c.err) || ce.Key != c.key {
			t.Errorf("%s: %v, want %v at %s", c.name, err, c.err, c.key)
		}
	}
}
