package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// The profiler is served only when asked for, and behind the token.
func TestPprofOptIn(t *testing.T) {
	get := func(url, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	off := start(t, Options{})
	if code, _ := get(off+"/debug/pprof/heap?debug=1", ""); code != http.StatusNotFound {
		t.Fatalf("pprof without opting in: %d", code)
	}

	s := New(Options{Addr: "127.0.0.1:0", Token: "0123456789abcdef", Logger: zerolog.Nop()})
	s.HandlePprof()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	on := "http://" + s.Addr().String()
	if code, _ := get(on+"/debug/pprof/heap?debug=1", ""); code != http.StatusUnauthorized {
		t.Fatalf("pprof without the token: %d", code)
	}
	code, body := get(on+"/debug/pprof/heap?debug=1", "0123456789abcdef")
	if code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Fatalf("heap profile: %d %.200q", code, body)
	}
	if code, body := get(on+"/debug/pprof/", "0123456789abcdef"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("index: %d %.200q", code, body)
	}
}
