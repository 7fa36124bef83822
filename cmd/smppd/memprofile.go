package main

import (
	"os"
	"runtime"
	"strings"
)

// defaultMemProfileRate is the runtime's own default: a heap profile
// sample every 512 KiB allocated.
const defaultMemProfileRate = 512 * 1024

// Each heap profile sample walks the allocating stack (reading the
// pclntab, whose pages then stay resident) and keeps a bucket for the
// process's life in a table the runtime reserves at the first one. Only
// [admin] pprof serves the profile, so without it the samples are kept
// for nobody: sampling is off from here on and comes back with pprof
// (heapProfiling). A memprofilerate the operator set in GODEBUG wins.
func init() {
	if !memProfileRateSet() {
		runtime.MemProfileRate = 0
	}
}

// heapProfiling turns heap sampling back on when pprof serves it.
func heapProfiling(pprof bool) {
	if pprof && !memProfileRateSet() {
		runtime.MemProfileRate = defaultMemProfileRate
	}
}

func memProfileRateSet() bool { return strings.Contains(os.Getenv("GODEBUG"), "memprofilerate=") }
