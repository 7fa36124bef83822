// Command smppbench is a black-box SMPP load generator: it binds sessions to
// an SMSC, keeps a window of submit_sm outstanding on each, at full speed or
// at a target rate, and reports throughput and latency percentiles for
// submit→submit_sm_resp and submit→delivery receipt. With -idle N it
// instead binds N sessions and holds them without traffic, to measure what
// idle sessions cost the server. See package bench.
//
//	smppbench -host 127.0.0.1 -port 2775 -user demo -password demopass \
//	    -bind trx -sessions 4 -window 100 -duration 10s -dlr
//	smppbench -port 2779 -user bench -password bench -idle 10000 -hold 30s
//	smppbench -sessions 4 -window 100 -duration 10s -http http://127.0.0.1:1401
//	smppbench -http-only -http-modes mo -admin http://127.0.0.1:8790 -http-clients 8 -duration 5s
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
	"time"

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
	if o.idle > 0 {
		return runIdle(ctx, &o, stdout, stderr)
	}
	if o.httpOn {
		return runHTTP(ctx, &o, stdout, stderr)
	}

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

// runIdle is the idle mode. The line announcing that the binds are
// settled goes to stderr at once, so that a script can measure the server
// while the sessions are held.
func runIdle(ctx context.Context, o *options, stdout, stderr *os.File) int {
	res, err := bench.Idle(ctx, bench.IdleConfig{
		Addr: o.cfg.Addr, SystemID: o.cfg.SystemID, Password: o.cfg.Password, SystemType: o.cfg.SystemType,
		Bind: o.cfg.Bind, Sessions: o.idle, Parallel: o.parallel, Hold: o.hold,
		OnBound: func(bound, failed int, took time.Duration) {
			hold := "until SIGINT/SIGTERM"
			if o.hold > 0 {
				hold = "for " + o.hold.String()
			}
			fmt.Fprintf(stderr, "smppbench: idle: %d bound, %d failed in %.2f s; holding %s\n", bound, failed, took.Seconds(), hold)
		},
	})
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
	fmt.Fprintf(stdout, "smppbench → %s  idle: %s of %s bound (%s failed) in %.2f s, held %.1f s, %s dropped by the SMSC, %s enquire_link answered\n",
		res.Addr, group(uint64(res.Bound)), group(uint64(res.Sessions)), group(uint64(res.Failed)), res.BindSeconds,
		res.HeldSeconds, group(uint64(res.Dropped)), group(res.EnquireLinks))
	for _, e := range res.Errors {
		fmt.Fprintf(stdout, "error          %s\n", e)
	}
	return 0
}

// isTerminal reports whether f is a character device (a TTY), using only
// the standard library.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
