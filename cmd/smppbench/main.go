// Command smppbench is a black-box SMPP load generator: it binds sessions to
// an SMSC, keeps a window of submit_sm outstanding on each, at full speed or
// at a target rate, and reports throughput and latency percentiles for
// submit→submit_sm_resp and submit→delivery receipt. See package bench.
//
//	smppbench -host 127.0.0.1 -port 2775 -user demo -password demopass \
//	    -bind trx -sessions 4 -window 100 -duration 10s -dlr
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/smppd/smppd/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code (0 done,
// 1 the run failed, 2 bad flags).
func run(args []string, stdout, stderr *os.File) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(stderr, "smppbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The live line goes where a person is watching: stdout when it is a
	// terminal and carries the summary, else stderr when -json keeps stdout
	// clean and stderr is a terminal; nowhere otherwise.
	var live io.Writer
	switch {
	case !o.json && isTerminal(stdout):
		live = stdout
	case o.json && isTerminal(stderr):
		live = stderr
	}
	var p *progressLine
	if live != nil {
		p = &progressLine{w: live, warmup: o.cfg.Warmup}
		o.cfg.Progress = p.update
	}
	res, err := bench.Run(ctx, o.cfg)
	if p != nil {
		p.clear()
	}
	if err != nil {
		fmt.Fprintln(stderr, "smppbench:", err)
		return 1
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "smppbench:", err)
			return 1
		}
		return 0
	}
	writeSummary(stdout, res, &o.cfg)
	return 0
}

// isTerminal reports whether f is a character device (a TTY), using only
// the standard library.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
