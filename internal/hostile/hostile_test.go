//go:build linux && !race

// The process-level suite runs once per `make test`, outside the race
// detector: it attacks a real smppd child and asserts loose liveness
// bounds only (every legitimate submit answered within 1 s, memory under
// twice the target). The exact figures: cmd/smpphostile.
package hostile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostile runs every case against a fresh build of ./cmd/smppd on the
// demo configs, or against $HOSTILE_SMPPD when set (to check another
// build; $HOSTILE_CONFIGS then names its configs directory if the
// current demo config is newer than that binary).
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level suite: skipped with -short")
	}
	bin := os.Getenv("HOSTILE_SMPPD")
	if bin == "" {
		bin = buildSMPPD(t)
	}
	configs := os.Getenv("HOSTILE_CONFIGS")
	if configs == "" {
		configs = filepath.Join("..", "..", "configs")
	}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			r := Run(Options{Binary: bin, ConfigDir: configs, WorkDir: t.TempDir(), Logf: t.Logf}, c)
			if errors.Is(r.Err, ErrFileLimit) {
				t.Skipf("%s needs %d descriptors: %v", c.Name, FilesNeeded, r.Err)
			}
			var b strings.Builder
			WriteDetail(&b, r)
			t.Log("\n" + b.String())
			for _, f := range r.Failed(true) {
				t.Errorf("%s: %s", f.Name, f.Got)
			}
		})
	}
}

func buildSMPPD(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "smppd")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/smppd/smppd/cmd/smppd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/smppd: %v\n%s", err, out)
	}
	return bin
}
