//go:build race

package httpapi

// raceEnabled: the race detector drops pooled items at random, so the
// allocation gates are skipped under it.
const raceEnabled = true
