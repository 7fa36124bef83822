package main

import (
	"runtime"
	"testing"
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
