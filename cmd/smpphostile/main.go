// Command smpphostile measures how an smppd binary holds up under the
// hostile-input cases of internal/hostile: for each case it starts a fresh
// smppd on a copy of the demo configuration with free loopback ports,
// runs the attack beside a legitimate client (demo/demopass, 200 submits
// a second from 127.0.0.1) and prints memory, latency and every figure and
// check against the targets; then a Markdown table of all cases.
//
//	smpphostile [-smppd bin/smppd] [-configs configs] [-cases a,b] [-max-growth 1024]
//
// It exits 1 when a check fails against its target. Linux only.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/smppd/smppd/internal/hostile"
)

func main() { os.Exit(run()) }

// run returns the exit code, after its deferred clean-up has run.
func run() int {
	bin := flag.String("smppd", "bin/smppd", "the smppd binary to attack")
	configs := flag.String("configs", "configs", "directory holding the demo smppd.toml and users.toml")
	only := flag.String("cases", "", "comma-separated case names (default: all)")
	maxGrowth := flag.Int64("max-growth", hostile.DefaultMaxGrowth/hostile.MiB,
		"stop an attack when smppd's VmRSS has grown by this many MiB (0: never)")
	flag.Parse()

	cases, err := pick(hostile.Cases(), *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smpphostile:", err)
		return 2
	}
	if err := hostile.EnsureFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "smpphostile: the idle case will not run:", err)
	}
	growth := *maxGrowth * hostile.MiB
	if growth <= 0 {
		growth = -1
	}
	work, err := os.MkdirTemp("", "smpphostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "smpphostile:", err)
		return 1
	}
	defer os.RemoveAll(work)

	fmt.Printf("smpphostile: %s against %s (configs %s), %s\n", strings.Join(names(cases), ", "), *bin, *configs,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	var results []*hostile.Result
	failed := 0
	for _, c := range cases {
		r := hostile.Run(hostile.Options{Binary: *bin, ConfigDir: *configs, WorkDir: work, MaxGrowth: growth}, c)
		hostile.WriteDetail(os.Stdout, r)
		results = append(results, r)
		failed += len(r.Failed(false))
	}
	fmt.Println()
	hostile.WriteTable(os.Stdout, results)
	if failed > 0 {
		fmt.Printf("\n%d checks failed against the targets\n", failed)
		return 1
	}
	return 0
}

func pick(all []hostile.Case, only string) ([]hostile.Case, error) {
	if only == "" {
		return all, nil
	}
	var out []hostile.Case
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

func names(cs []hostile.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
