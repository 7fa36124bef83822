//go:build race

package accounts

// raceEnabled: the race detector drops pooled items at random, so the
// allocation gates are skipped under it.
const raceEnabled = true
