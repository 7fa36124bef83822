package main

import (
	"runtime"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
)

// Heap sampling is off unless pprof serves the profile (memprofile.go).
func TestHeapSamplingOnlyWithPprof(t *testing.T) {
	if memProfileRateSet() {
		t.Skip("GODEBUG sets memprofilerate: the operator's rate is kept")
	}
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = 0 // as init leaves it
	heapProfiling(false)
	if runtime.MemProfileRate != 0 {
		t.Fatalf("MemProfileRate %d without pprof, want 0", runtime.MemProfileRate)
	}
	heapProfiling(true)
	if runtime.MemProfileRate != defaultMemProfileRate {
		t.Fatalf("MemProfileRate %d with pprof, want %d", runtime.MemProfileRate, defaultMemProfileRate)
	}
	t.Setenv("GODEBUG", "memprofilerate=1")
	runtime.MemProfileRate = 1
	heapProfiling(true)
	if runtime.MemProfileRate != 1 {
		t.Fatalf("MemProfileRate %d with GODEBUG memprofilerate=1, want it kept", runtime.MemProfileRate)
	}
}

// With pprof the heap profile covers the daemon's start: the store and the
// CDR stream (its queue alone is 3 MiB) are made before the admin server,
// and sampling turned on only there left them out of .../heap.
func TestHeapProfileCoversTheStore(t *testing.T) {
	if memProfileRateSet() {
		t.Skip("GODEBUG sets memprofilerate: the operator's rate is kept")
	}
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = 0 // as init leaves it
	cfgPath, _, _, _ := demoDir(t)
	cfg, err := config.Load(cfgPath)
	must(t, err)
	cfg.Admin.Pprof = true
	d, err := newDaemon(cfg, zerolog.Nop(), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	defer d.stop()
	runtime.GC()
	runtime.GC() // the profile is published a cycle after its allocations
	recs := make([]runtime.MemProfileRecord, 4096)
	n, ok := runtime.MemProfile(recs, true)
	if !ok {
		t.Fatalf("%d profile records, more than %d", n, len(recs))
	}
	for _, r := range recs[:n] {
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			if strings.HasSuffix(f.Function, "main.openStore") || strings.HasSuffix(f.Function, "cdr.Open") {
				return
			}
			if !more {
				break
			}
		}
	}
	t.Fatal("no heap profile sample from opening the store or the CDR stream")
}
