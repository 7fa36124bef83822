package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

func TestVCSCommit(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, ""},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}, "0123456789ab"},
		{[]debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: rev}}, "0123456789ab-dirty"},
	}
	for _, c := range cases {
		if got := vcsCommit(c.settings); got != c.want {
			t.Errorf("%v: %q, want %q", c.settings, got, c.want)
		}
	}
}

// The stamp wins over the toolchain's data; without either, dev/unknown.
func TestCurrentBuild(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v9.8.7", "abc1234"
	if b := currentBuild(); b.Version != "v9.8.7" || b.Commit != "abc1234" || b.Go != runtime.Version() {
		t.Fatalf("%+v", b)
	}
	version, commit = "", ""
	if b := currentBuild(); b.Version == "" || b.Commit == "" {
		t.Fatalf("no fallback: %+v", b)
	}
	var out bytes.Buffer
	printVersion(&out)
	if b := currentBuild(); out.String() != "smppd "+b.Version+" (commit "+b.Commit+", "+runtime.Version()+")\n" {
		t.Fatalf("-version printed %q", out.String())
	}
}

// A binary linked as `make build` links it reports the stamp.
func TestVersionStampedByLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "smppd")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v1.2.3-test -X main.commit=feedbee", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "smppd v1.2.3-test (commit feedbee, " + runtime.Version() + ")\n"; string(out) != want {
		t.Fatalf("-version printed %q, want %q", out, want)
	}
}

// /v1/health and /metrics name the running binary.
func TestBuildInfoServed(t *testing.T) {
	_, _, _, adminPort := startDemo(t)
	b := currentBuild()
	base := "http://127.0.0.1:" + strconv.Itoa(adminPort)
	res, err := http.Get(base + "/v1/health")
	must(t, err)
	var h map[string]string
	must(t, json.NewDecoder(res.Body).Decode(&h))
	res.Body.Close()
	if h["status"] != "ok" || h["version"] != b.Version || h["commit"] != b.Commit || h["go"] != b.Go {
		t.Errorf("health %v, want %+v", h, b)
	}
	res, err = http.Get(base + "/metrics")
	must(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	must(t, err)
	want := `smppd_build_info{commit="` + b.Commit + `",go="` + b.Go + `",version="` + b.Version + `"} 1`
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// `smppd health` is the image's HEALTHCHECK: 0 on 200, 1 otherwise.
func TestHealthCommand(t *testing.T) {
	_, _, _, adminPort := startDemo(t)
	var errOut bytes.Buffer
	base := "http://127.0.0.1:" + strconv.Itoa(adminPort)
	if rc := health([]string{base + "/v1/health"}, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	if rc := health([]string{base + "/v1/nothing"}, &errOut); rc != 1 {
		t.Fatalf("404 gave rc %d", rc)
	}
	if rc := health([]string{"http://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/v1/health"}, &errOut); rc != 1 {
		t.Fatalf("nothing listening gave rc %d", rc)
	}
	if rc := health([]string{"-x", "y"}, &errOut); rc != 2 {
		t.Fatalf("bad usage gave rc %d", rc)
	}
}
