//go:build race

package storagetest

// raceEnabled: the race detector's instrumentation allocates, so the
// allocation case is skipped under it.
const raceEnabled = true
