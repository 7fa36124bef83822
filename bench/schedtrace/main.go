// Command schedtrace reads a Go execution trace as `go tool trace
// -d=parsed` prints it (standard input) and reports how smppd's goroutines
// shared the Ps: per role (event loop, CDR writer, CDR syncer, connector
// worker, disk log, ...) the time it ran, its waits for a P by cause, its
// running spells of a millisecond or more (the thread descheduled by the
// kernel while it holds a P), its syscalls, and what held the Ps while an
// event loop waited for one. bench/schedtrace.sh captures the trace from
// a running smppd under smppbench.
package main

import (
	"fmt"
	"os"
)

func main() {
	p, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedtrace:", err)
		os.Exit(1)
	}
	if len(p.tr) == 0 {
		fmt.Fprintln(os.Stderr, "schedtrace: no goroutine transitions on standard input (want `go tool trace -d=parsed FILE`)")
		os.Exit(1)
	}
	report(os.Stdout, p)
}
