//go:build linux && !race

// The crash suite runs once per `make test` (target crash), outside the
// race detector: it kills a real smppd child under load.
package crash

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCrash runs every case against a fresh build of ./cmd/smppd on the
// demo configs, or against $CRASH_SMPPD when set ($CRASH_CONFIGS then
// names its configs directory). $CRASH_SEED repeats a run's seed.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level suite: skipped with -short")
	}
	bin := os.Getenv("CRASH_SMPPD")
	if bin == "" {
		bin = buildSMPPD(t)
	}
	configs := os.Getenv("CRASH_CONFIGS")
	if configs == "" {
		configs = filepath.Join("..", "..", "configs")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (repeat with CRASH_SEED=%d)", seed, seed)
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			// Kept when the case fails: its config, store and smppd's log.
			work, err := os.MkdirTemp("", "crash-"+c.Name+"-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("scratch folder kept: %s", work)
					return
				}
				_ = os.RemoveAll(work)
			})
			r := Run(Options{Binary: bin, ConfigDir: configs, WorkDir: work, Seed: seed, Kills: DefaultKills, Logf: t.Logf}, c)
			var b strings.Builder
			WriteDetail(&b, r)
			t.Log(b.String())
			if r.Skipped != "" {
				t.Skip(r.Skipped)
			}
			for _, f := range r.Failed() {
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
