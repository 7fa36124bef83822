package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module root, two folders up from cmd/smppd.
const repoRoot = "../.."

// Every path the Dockerfile copies from the build context exists and is
// not excluded by .dockerignore: where no docker daemon builds the image
// (make image), this is what catches a moved file.
func TestDockerfileCopies(t *testing.T) {
	ignore := dockerignore(t)
	var n int
	for _, in := range dockerInstructions(t) {
		fields := strings.Fields(in.text)
		if len(fields) == 0 || (fields[0] != "COPY" && fields[0] != "ADD") {
			continue
		}
		var args []string
		fromStage := false
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "--") {
				fromStage = fromStage || strings.HasPrefix(f, "--from=")
				continue
			}
			args = append(args, f)
		}
		if fromStage || len(args) < 2 {
			continue
		}
		for _, src := range args[:len(args)-1] {
			n++
			matches, err := filepath.Glob(filepath.Join(repoRoot, src))
			if err != nil || len(matches) == 0 {
				t.Errorf("Dockerfile:%d: %s %s: no such path in the repository", in.line, fields[0], src)
				continue
			}
			if src != "." && ignored(ignore, filepath.Clean(src)) {
				t.Errorf("Dockerfile:%d: %s %s: excluded by .dockerignore", in.line, fields[0], src)
			}
		}
	}
	if n == 0 {
		t.Fatal("no COPY from the build context found: the parser no longer reads the Dockerfile")
	}
	for _, want := range []string{"HEALTHCHECK", "VOLUME", "USER nonroot", "ARG VERSION", "-X main.version=${VERSION}"} {
		found := false
		for _, in := range dockerInstructions(t) {
			found = found || strings.Contains(in.text, want)
		}
		if !found {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
}

type instruction struct {
	line int
	text string
}

// dockerInstructions reads the Dockerfile's instructions, continuation
// lines joined, comments dropped.
func dockerInstructions(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	must(t, err)
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		cont := strings.HasSuffix(l, "\\")
		cur.WriteString(strings.TrimSuffix(l, "\\"))
		cur.WriteByte(' ')
		if !cont {
			out = append(out, instruction{start, cur.String()})
			cur.Reset()
		}
	}
	must(t, sc.Err())
	return out
}

// dockerignore reads .dockerignore's patterns.
func dockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil
	}
	must(t, err)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.TrimPrefix(l, "/"))
		}
	}
	return out
}

// ignored reports whether path or a folder above it matches a pattern
// ("**/" matching any depth, as docker reads it).
func ignored(patterns []string, path string) bool {
	for p := path; p != "." && p != "/"; p = filepath.Dir(p) {
		for _, pat := range patterns {
			if ok, _ := filepath.Match(pat, p); ok {
				return true
			}
			if rest, any := strings.CutPrefix(pat, "**/"); any {
				if ok, _ := filepath.Match(rest, filepath.Base(p)); ok {
					return true
				}
			}
		}
	}
	return false
}

// The systemd unit passes systemd-analyze verify with no complaint about
// the unit itself, where systemd is installed, and orders smppd after the
// clock is synchronised (message ids depend on it).
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "smppd.service"))
	must(t, err)
	for _, want := range []string{"time-sync.target", "ExecStartPre=/usr/local/bin/smppd -check-config /etc/smppd/smppd.toml"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze here")
	}
	// ExecStart must name an executable on this host: the test binary
	// stands in for /usr/local/bin/smppd.
	self, err := os.Executable()
	must(t, err)
	path := filepath.Join(t.TempDir(), "smppd.service")
	must(t, os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/smppd", self)), 0o644))
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Unknown keys and bad values are warnings with exit status 0.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "smppd.service") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}
