// Command smppcrash checks that an smppd binary keeps what it acknowledged
// across SIGKILL and restarts (internal/crash): for each case it starts
// smppd on a copy of the demo configuration with a disk store in a scratch
// folder (sync = "always") and free loopback ports, drives submits with
// receipts asked from several ESME sessions, kills it at random moments,
// restarts it, rebinds, and checks receipts, query_sm and the balance;
// then the same through an upstream SMSC stub with held MO, and on a full
// disk. It prints the seed; -seed repeats a run's choices.
//
//	smppcrash [-smppd bin/smppd] [-configs configs] [-cases a,b] [-seed N] [-kills 4]
//	          [-storage disk|memory] [-rate 600] [-sessions 4] [-window 16] [-receivers 2]
//
// -kills 0 -storage memory is a smoke run of the client side against a
// build without the durable store. Exits 1 when a check fails. Linux only.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/smppd/smppd/internal/crash"
)

func main() { os.Exit(run()) }

// run returns the exit code, after its deferred clean-up has run.
func run() int {
	bin := flag.String("smppd", "bin/smppd", "the smppd binary to test")
	configs := flag.String("configs", "configs", "directory holding the demo smppd.toml and users.toml")
	only := flag.String("cases", "", "comma-separated case names (default: all)")
	seed := flag.Uint64("seed", 0, "seed of kill times, downtimes and the stub's receipt delays (0: from the clock)")
	kills := flag.Int("kills", crash.DefaultKills, "SIGKILL + restart cycles per kill case (0: none, a smoke run)")
	storage := flag.String("storage", "disk", `"disk", or "memory" for a build without the durable store`)
	rate := flag.Float64("rate", crash.DefaultRate, "submits per second over all sessions")
	sessions := flag.Int("sessions", crash.DefaultSessions, "transmitter sessions")
	window := flag.Int("window", crash.DefaultWindow, "submits awaiting their answer, per session")
	receivers := flag.Int("receivers", crash.DefaultReceivers, "receiver binds")
	keep := flag.Bool("keep", false, "keep the scratch folders (configs, stores, smppd logs) and print where")
	flag.Parse()

	cases, err := pick(crash.Cases(), *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smppcrash:", err)
		return 2
	}
	if *storage != "disk" && *storage != "memory" {
		fmt.Fprintf(os.Stderr, "smppcrash: -storage %q: disk or memory\n", *storage)
		return 2
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	work, err := os.MkdirTemp("", "smppcrash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "smppcrash:", err)
		return 1
	}
	if *keep {
		defer fmt.Printf("\nscratch folders kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}

	fmt.Printf("smppcrash: %s against %s (configs %s, storage %s, %d kills per case), seed %d (repeat with -seed %d), %s\n",
		strings.Join(names(cases), ", "), *bin, *configs, *storage, *kills, *seed, *seed, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	failed, skipped := 0, 0
	for _, c := range cases {
		r := crash.Run(crash.Options{Binary: *bin, ConfigDir: *configs, WorkDir: work, Seed: *seed, Storage: *storage,
			Kills: *kills, Rate: *rate, Sessions: *sessions, Window: *window, Receivers: *receivers,
			Logf: func(format string, a ...any) { fmt.Printf("  "+format+"\n", a...) }}, c)
		crash.WriteDetail(os.Stdout, r)
		failed += len(r.Failed())
		if r.Skipped != "" {
			skipped++
		}
	}
	note := ""
	if skipped > 0 {
		note = fmt.Sprintf(", %d cases skipped", skipped)
	}
	if failed > 0 {
		fmt.Printf("\n%d checks failed%s (seed %d)\n", failed, note, *seed)
		return 1
	}
	fmt.Printf("\nevery check passed%s (seed %d)\n", note, *seed)
	return 0
}

func pick(all []crash.Case, only string) ([]crash.Case, error) {
	if only == "" {
		return all, nil
	}
	var out []crash.Case
	for _, name := range strings.Split(only, ",") {
		found := false
		for _, c := range all {
			if c.Name == strings.TrimSpace(name) {
				out, found = append(out, c), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no case %q (cases: %s)", name, strings.Join(names(all), ", "))
		}
	}
	return out, nil
}

func names(cs []crash.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
